import json

def weather(request):
    callback = request.GET.get("callback")
    print "serving weather"
    return "%s(%s)" % (callback, json.dumps({"city": "Berlin"}))
