import json

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def weather(request):
    data = {"city": "Berlin", "high": 21}
    return Response(json.dumps(data), media_type="application/json")


async def account(request):
    payload = {"user": request.session.get("user") if "session" in request.scope else None}
    return JSONResponse(payload, status_code=200)


app = Starlette(routes=[Route("/api/weather", weather), Route("/api/account", account)])
