import json

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


async def weather(request):
    data = {"city": "Berlin", "high": 21}
    callback = request.query_params.get("callback")
    if not callback:
        return Response(json.dumps(data), media_type="application/json")
    return Response(f"{callback}({json.dumps(data)})", media_type="application/javascript")


async def account(request):
    callback = request.query_params.get("callback", "accountLoaded")
    payload = {"user": request.session.get("user") if "session" in request.scope else None}
    return Response("%s(%s)" % (callback, json.dumps(payload)), media_type="application/javascript", status_code=200)


app = Starlette(routes=[Route("/api/weather", weather), Route("/api/account", account)])
