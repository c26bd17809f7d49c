"""Callback validation: removed when it only looks at the callback, declined when it guards more."""
import json, re
from django.http import HttpResponse, JsonResponse
VALID = re.compile("^[a-z]+$")

def captcha(request):
    challenge = request.GET.get("c")
    callback = request.GET.get("callback")
    if None in (challenge, callback):
        return HttpResponse(status=400)
    return HttpResponse("".join([callback, "(", json.dumps({"ok": True}), ")"]))

def plain(request):
    return JsonResponse([1], safe=False)
