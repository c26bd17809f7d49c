"""Callback validation: removed when it only looks at the callback, declined when it guards more."""
import json, re
from django.http import HttpResponse
VALID = re.compile("^[a-z]+$")

def captcha(request):
    challenge = request.GET.get("c")
    callback = request.GET.get("callback")
    if None in (challenge, callback):
        return HttpResponse(status=400)
    return HttpResponse("".join([callback, "(", json.dumps({"ok": True}), ")"]))

def plain(request):
    callback = request.GET.get("callback")
    if callback and not VALID.match(callback):
        return HttpResponse(status=400)
    if not isinstance(callback, str) or len(callback) > 40:
        return HttpResponse(status=400)
    return HttpResponse("%s(%s)" % (callback, json.dumps([1])))
