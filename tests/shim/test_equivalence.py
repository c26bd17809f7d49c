"""The adapters' fast paths answer exactly what the sans-IO core's general plan answers (hypothesis)."""

from __future__ import annotations

import asyncio
import gzip
import io
import sys
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.shim import ASGIShim, WSGIShim

from .helpers import EVIL, NEWS, NOW, POLICY, core, facts, simulate

Headers = list[tuple[str, str]]

JSON = b'{"a": "x</y\xe2\x80\xa8", "n": [1, 2]}'
PADDED = b'cb({"a": 1});'
BODIES = {"json": JSON, "padded": PADDED, "html": b"<p>hi</p>", "empty": b"", "script": b"var x = 1;"}

requests = st.fixed_dictionaries({
    "origin": st.sampled_from([None, NEWS, EVIL, "null"]),
    "query": st.sampled_from(["", "callback=cb", "callback=", "jsonp=a.b", "x=1", "callback=a%28"]),
    "dest": st.sampled_from([None, "script", "empty"]),
    "path": st.sampled_from(["/api/weather", "/api/account/me", "/api/open/x"]),
    "referer": st.sampled_from([None, "https://news.example.com/p"]),
})
responses = st.fixed_dictionaries({
    "status": st.sampled_from([200, 404, 500, 204, 304]),
    "ctype": st.sampled_from([None, "application/json", "application/problem+json", "text/javascript",
                              "text/html; charset=utf-8", "text/plain", "image/png"]),
    "vary": st.sampled_from([None, "Accept-Encoding", "*", "origin", "Accept-Encoding, Cookie"]),
    "acao": st.sampled_from([None, "*"]),
    "nosniff": st.booleans(),
    "body": st.sampled_from(sorted(BODIES)),
    "split": st.booleans(),
    "gzip": st.booleans(),
})


def app_response(resp: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = BODIES[resp["body"]] if resp["status"] not in (204, 304) else b""
    headers: list[tuple[str, str]] = []
    if resp["ctype"]:
        headers.append(("Content-Type", resp["ctype"]))
    if resp["gzip"] and body:
        body = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    if resp["vary"]:
        headers.append(("Vary", resp["vary"]))
    if resp["acao"]:
        headers.append(("Access-Control-Allow-Origin", resp["acao"]))
    if resp["nosniff"]:
        headers.append(("X-Content-Type-Options", "nosniff"))
    headers.append(("Content-Length", str(len(body))))
    return resp["status"], headers, body


def request_headers(req: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("Host", "api.example.com")]
    for name, key in (("Origin", "origin"), ("Sec-Fetch-Dest", "dest"), ("Referer", "referer")):
        if req[key] is not None:
            out.append((name, req[key]))
    return out


def normal(headers: Any) -> list[tuple[str, str]]:
    out = []
    for k, v in headers:
        k = k.decode("latin-1") if isinstance(k, bytes) else k
        v = v.decode("latin-1") if isinstance(v, bytes) else v
        out.append((k.lower(), v))
    return sorted(out)


def via_core(req: dict[str, Any], resp: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, body = app_response(resp)
    chunks = [body[:5], body[5:]] if resp["split"] else [body]
    r = simulate(core(), facts("GET", req["path"], req["query"], request_headers(req)), status=status,
                 headers=headers, chunks=chunks)
    return r.status, normal(r.headers), r.body


def via_asgi(req: dict[str, Any], resp: dict[str, Any], *, headers: Callable[[dict[str, Any]], Headers] | None = None,
             shim_options: dict[str, Any] | None = None,
             tweak: Callable[[ASGIShim], None] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """The shim under ASGI, with the app answering `resp`; `headers` makes the request headers from `req`,
    `shim_options` go to ASGIShim and `tweak` may change the shim before the request."""
    status, app_headers, body = app_response(resp)
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in app_headers]})
        if resp["split"]:
            await send({"type": "http.response.body", "body": body[:5], "more_body": True})
            await send({"type": "http.response.body", "body": body[5:]})
        else:
            await send({"type": "http.response.body", "body": body})

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": req["path"], "query_string": req["query"].encode(),
             "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or request_headers)(req)]}
    shim = ASGIShim(app, policy=POLICY, clock=lambda: NOW, **(shim_options or {}))
    if tweak is not None:
        tweak(shim)
    asyncio.run(shim(scope, receive, send))
    return (sent[0]["status"], normal(sent[0]["headers"]),
            b"".join(m.get("body", b"") for m in sent[1:]))


def via_wsgi(req: dict[str, Any], resp: dict[str, Any], *, headers: Callable[[dict[str, Any]], Headers] | None = None,
             shim_options: dict[str, Any] | None = None, tweak: Callable[[WSGIShim], None] | None = None,
             app: Callable[..., Any] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """The shim under WSGI; as `via_asgi`, and `app` replaces the app answering `resp`."""
    status, app_headers, body = app_response(resp)
    got: list[Any] = []

    def default_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(f"{status} X", app_headers)
        return [body[:5], body[5:]] if resp["split"] else [body]

    def start_response(status_line: str, out: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got.append((int(status_line[:3]), out))
        return lambda data: None

    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": req["path"], "QUERY_STRING": req["query"],
                               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "SERVER_NAME": "t",
                               "SERVER_PORT": "80"}
    for k, v in (headers or request_headers)(req):
        key = "HTTP_" + k.upper().replace("-", "_")
        environ[key] = f"{environ[key]}, {v}" if key in environ else v  # repeated lines arrive joined
    shim = WSGIShim(app or default_app, policy=POLICY, clock=lambda: NOW, **(shim_options or {}))
    if tweak is not None:
        tweak(shim)
    result = shim(environ, start_response)
    out_body = b"".join(result)
    getattr(result, "close", lambda: None)()
    return got[-1][0], normal(got[-1][1]), out_body


@settings(max_examples=250, deadline=None)
@given(requests, responses)
def test_adapters_match_the_core(req: dict[str, Any], resp: dict[str, Any]) -> None:
    expected = via_core(req, resp)
    assert via_asgi(req, resp) == expected
    assert via_wsgi(req, resp) == expected
