import json

from django.http import HttpResponse, JsonResponse
from django.views import View

STORIES = {1: {"title": "Heatwave"}}


def headlines(request):
    titles = ["Heatwave", "Bike lanes"]
    callback = request.GET.get("callback")
    if callback:
        return HttpResponse("%s(%s)" % (callback, json.dumps(titles)), content_type="application/javascript")
    return JsonResponse(titles, safe=False)


def story(request, story_id):
    cb = request.GET.get("jsonp", "")
    item = STORIES[int(story_id)]
    # sloppy: Python repr, default text/html
    return HttpResponse("%s(%r)" % (cb, item)) if cb else JsonResponse(item)


def latest(request):
    payload = {"title": "Heatwave"}
    return HttpResponse(request.GET["callback"] + "(" + json.dumps(payload) + ")",
                        content_type="text/javascript", status=200)


class ProfileView(View):
    def get(self, request):
        payload = {"name": request.user.get_username()}
        callback = request.GET.get("callback")
        body = json.dumps(payload)
        if callback:
            body = "{}({})".format(callback, body)
        return HttpResponse(body, content_type="application/javascript")
