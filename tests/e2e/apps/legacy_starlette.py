"""The same API as `legacy_flask`, written for Starlette (served by uvicorn behind `ASGIShim`).

All views return plain JSON here: the shim adds the JSONP padding for old callers. The session is a plain
cookie so the app needs nothing beyond Starlette itself.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WEATHER = {"city": "Lyon", "temp_c": 21}
NEWS = {"headline": "Bridge reopens after repairs"}
SESSION_COOKIE = "e2e_session"


async def weather(request: Request) -> JSONResponse:
    return JSONResponse(WEATHER)


async def news(request: Request) -> JSONResponse:
    return JSONResponse(NEWS)


async def login(request: Request) -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.set_cookie(SESSION_COOKIE, "alice", httponly=True, samesite="lax")
    return response


async def account(request: Request) -> JSONResponse:
    return JSONResponse({"user": request.cookies.get(SESSION_COOKIE)})


async def item(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    if request.method == "DELETE":
        return JSONResponse({"deleted": item_id})
    return JSONResponse({"id": item_id, "name": f"item {item_id}"})


app = Starlette(
    routes=[
        Route("/api/weather", weather),
        Route("/api/news", news),
        Route("/api/account/login", login, methods=["POST"]),
        Route("/api/account", account),
        Route("/api/items/{item_id:int}", item, methods=["GET", "DELETE"]),
    ]
)
