import json

from django.http import HttpResponse, JsonResponse
from django.views import View

STORIES = {1: {"title": "Heatwave"}}


def headlines(request):
    titles = ["Heatwave", "Bike lanes"]
    return JsonResponse(titles, safe=False)


def story(request, story_id):
    item = STORIES[int(story_id)]
    # sloppy: Python repr, default text/html
    return JsonResponse(item)


def latest(request):
    payload = {"title": "Heatwave"}
    return JsonResponse(payload, status=200)


class ProfileView(View):
    def get(self, request):
        payload = {"name": request.user.get_username()}
        body = json.dumps(payload)
        return HttpResponse(body, content_type="application/json")
