"""The same small legacy API as a Starlette app and as a Flask app, bare and behind the shim.

Also importable by real servers: `uvicorn tests.shim.apps:asgi_shimmed`,
`gunicorn tests.shim.apps:wsgi_shimmed` (usage records go to $SHIM_USAGE_FILE when it is set).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from flask import Flask, Response, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.responses import Response as SResponse
from starlette.routing import Route

from jsonp2cors.shim import ASGIShim, WSGIShim

from .helpers import POLICY

WEATHER = {"city": "Zürich", "temp": 21, "note": "</script>\u2028"}
BIG = {"rows": [{"id": i, "name": f"row {i}", "tags": ["a", "b"]} for i in range(40_000)]}
CALLS = {"count": 0}


def _legacy_body(callback: str | None) -> str:
    return f"{callback or 'cb'}({json.dumps(WEATHER)});"


# --------------------------------------------------------------------------------------- Starlette


async def s_weather(req: Request) -> SResponse:
    CALLS["count"] += 1
    return JSONResponse(WEATHER)


async def s_legacy(req: Request) -> SResponse:
    return SResponse(_legacy_body(req.query_params.get("callback")), media_type="application/javascript")


async def s_legacy_html(req: Request) -> SResponse:
    return SResponse(_legacy_body(req.query_params.get("callback")), media_type="text/html")


async def s_stream(req: Request) -> SResponse:
    async def gen() -> AsyncIterator[bytes]:
        yield b'{"items": ['
        for i in range(50):
            await asyncio.sleep(0)
            yield (b", " if i else b"") + str(i).encode()
        yield b"]}"
    return StreamingResponse(gen(), media_type="application/json")


async def s_gzip(req: Request) -> SResponse:
    return SResponse(gzip.compress(json.dumps(WEATHER).encode()), media_type="application/json",
                     headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


async def s_big(req: Request) -> SResponse:
    return JSONResponse(BIG)


async def s_boom(req: Request) -> SResponse:
    raise RuntimeError("boom from the app")


async def s_html(req: Request) -> SResponse:
    return SResponse("<html><body>hello</body></html>", media_type="text/html")


async def s_method(req: Request) -> SResponse:
    return JSONResponse({"method": req.method})


async def s_options(req: Request) -> SResponse:
    return PlainTextResponse("app-options")


async def s_own_cors(req: Request) -> SResponse:
    return JSONResponse(WEATHER, headers={"Access-Control-Allow-Origin": "*"})


starlette_app = Starlette(routes=[
    Route("/api/weather", s_weather, methods=["GET", "HEAD", "POST"]),
    Route("/api/account/me", s_weather),
    Route("/api/legacy", s_legacy),
    Route("/api/legacy-html", s_legacy_html),
    Route("/api/stream", s_stream),
    Route("/api/gzip", s_gzip),
    Route("/api/big", s_big),
    Route("/api/boom", s_boom),
    Route("/api/html", s_html),
    Route("/api/method", s_method, methods=["GET", "HEAD"]),
    Route("/api/options", s_options, methods=["OPTIONS"]),
    Route("/api/own-cors", s_own_cors),
])


async def raw_asgi_boom(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app (no framework error handler) that raises before starting its response."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    raise RuntimeError("raw boom")


# ------------------------------------------------------------------------------------------- Flask

flask_app = Flask("shim_test_app")


@flask_app.route("/api/weather", methods=["GET", "HEAD", "POST"])
@flask_app.route("/api/account/me")
def f_weather() -> Any:
    CALLS["count"] += 1
    return flask_app.response_class(json.dumps(WEATHER), mimetype="application/json")


@flask_app.route("/api/legacy")
def f_legacy() -> Any:
    return Response(_legacy_body(request.args.get("callback")), mimetype="application/javascript")


@flask_app.route("/api/legacy-html")
def f_legacy_html() -> Any:
    return _legacy_body(request.args.get("callback"))  # Flask's default: text/html


@flask_app.route("/api/stream")
def f_stream() -> Any:
    def gen() -> Iterator[bytes]:
        yield b'{"items": ['
        for i in range(50):
            yield (b", " if i else b"") + str(i).encode()
        yield b"]}"
    return Response(gen(), mimetype="application/json")


@flask_app.route("/api/gzip")
def f_gzip() -> Any:
    return Response(gzip.compress(json.dumps(WEATHER).encode()), mimetype="application/json",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


@flask_app.route("/api/big")
def f_big() -> Any:
    return Response(json.dumps(BIG), mimetype="application/json")


@flask_app.route("/api/boom")
def f_boom() -> Any:
    raise RuntimeError("boom from the app")


@flask_app.route("/api/html")
def f_html() -> Any:
    return "<html><body>hello</body></html>"


@flask_app.route("/api/method", methods=["GET", "HEAD"])
def f_method() -> Any:
    return {"method": request.method}


@flask_app.route("/api/options", methods=["OPTIONS"])
def f_options() -> Any:
    return Response("app-options", mimetype="text/plain")


@flask_app.route("/api/own-cors")
def f_own_cors() -> Any:
    return Response(json.dumps(WEATHER), mimetype="application/json",
                    headers={"Access-Control-Allow-Origin": "*"})


def raw_wsgi_boom(environ: dict[str, Any], start_response: Any) -> Any:
    raise RuntimeError("raw boom")


# ------------------------------------------------------------------------------ for real servers

_usage = os.environ.get("SHIM_USAGE_FILE") or None
asgi_shimmed = ASGIShim(starlette_app, policy=POLICY, usage=_usage)
wsgi_shimmed = WSGIShim(flask_app.wsgi_app, policy=POLICY, usage=_usage)
