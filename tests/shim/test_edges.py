"""Adapter edge cases with hand-written raw apps: WSGI write(), lazy start_response, exc_info, file wrappers;
ASGI responses that stop early, extension messages, disconnects."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from jsonp2cors.shim import ASGIShim, WSGIShim

from .helpers import NEWS, NOW, POLICY

BODY = b'{"a": 1}'


# -------------------------------------------------------------------------------------------- WSGI


def environ(query: str = "", method: str = "GET", **headers: str) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/api/x", "SCRIPT_NAME": "",
                           "QUERY_STRING": query, "SERVER_NAME": "t", "SERVER_PORT": "80",
                           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http"}
    env.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    return env


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], Any]] = []
        self.written: list[bytes] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.calls.append((status, headers, exc_info))
        return self.written.append

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.calls[-1][1]}


def call(app: Any, env: dict[str, Any]) -> tuple[Recorder, bytes]:
    rec = Recorder()
    result = WSGIShim(app, policy=POLICY, clock=lambda: NOW)(env, rec)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return rec, b"".join(rec.written) + body


def test_wsgi_write_callable_is_buffered_and_wrapped() -> None:
    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "application/json")])
        write(b'{"a":')
        write(b" 1}")
        return []

    rec, body = call(app, environ("callback=f"))
    assert body == b"/**/ typeof f === 'function' && f({\"a\": 1});"
    assert rec.headers["content-length"] == str(len(body))


def test_wsgi_lazy_generator_app() -> None:
    closed: list[bool] = []

    def app(env: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        try:
            yield b'{"a"'
            yield b": 1}"
        finally:
            closed.append(True)

    _, body = call(app, environ("callback=f"))
    assert body.endswith(b'f({"a": 1});') and closed == [True]
    rec, body = call(app, environ(origin=NEWS))
    assert body == BODY and rec.headers["access-control-allow-origin"] == NEWS


def test_wsgi_error_handler_replaces_an_unsent_response() -> None:
    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"oops"]

    rec, body = call(app, environ("callback=f", origin=NEWS))
    assert rec.calls[-1][0].startswith("500") and body == b"oops"
    assert rec.headers["access-control-allow-origin"] == NEWS


def test_wsgi_iterable_is_closed_and_passthrough_returns_it() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"<p>hi</p>"

        def close(self) -> None:
            closed.append(True)

    def app(env: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/html")])
        return Body()

    _, body = call(app, environ())
    assert body == b"<p>hi</p>" and closed == [True]
    closed.clear()
    _, body = call(app, environ("callback=f"))  # peeked for padding, then passed on
    assert body == b"<p>hi</p>" and closed == [True]


def test_wsgi_exception_while_buffering_gives_500_with_cors(caplog: pytest.LogCaptureFixture) -> None:
    def app(env: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        yield b"{"
        raise RuntimeError("mid-body")

    rec, body = call(app, environ("callback=f", origin=NEWS))
    assert rec.calls[-1][0].startswith("500") and rec.headers["access-control-allow-origin"] == NEWS
    assert body == b"Internal Server Error\n"
    assert "answering 500" in caplog.text


def test_wsgi_head_jsonp_uses_get_and_sends_no_body() -> None:
    seen: list[str] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(env["REQUEST_METHOD"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [BODY]

    rec, body = call(app, environ("callback=f", method="HEAD"))
    assert seen == ["GET"] and body == b""
    assert rec.headers["content-length"] == str(len(b"/**/ typeof f === 'function' && f(" + BODY + b");"))


# -------------------------------------------------------------------------------------------- ASGI


def run_asgi(app: Any, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
             method: str = "GET") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "method": method, "path": "/api/x", "query_string": query, "headers": headers or [],
             "root_path": "", "extensions": {"http.response.pathsend": {}}}

    async def go() -> None:
        await ASGIShim(app, policy=POLICY, clock=lambda: NOW)(scope, receive, send)

    asyncio.run(go())
    return sent


def test_asgi_app_stopping_early_still_gets_its_bytes_out() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"a":', "more_body": True})
        # returns without the final body message

    sent = run_asgi(app, b"callback=f")
    assert sent[0]["type"] == "http.response.start"
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b'{"a":'
    assert sent[-1]["more_body"] is False


def test_asgi_jsonp_hides_pathsend_and_passes_it_for_plain_requests() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": BODY})

    run_asgi(app, b"callback=f")
    run_asgi(app)
    assert "http.response.pathsend" not in scopes[0]["extensions"]
    assert "http.response.pathsend" in scopes[1]["extensions"]


def test_asgi_extension_message_while_peeking_flushes_the_head() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/javascript")]})
        await send({"type": "http.response.pathsend", "path": "/tmp/x.js"})

    sent = run_asgi(app)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]


def test_asgi_exception_after_start_propagates_without_second_start() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html")]})
        raise RuntimeError("after start")

    with pytest.raises(RuntimeError):
        run_asgi(app, headers=[(b"origin", NEWS.encode())])


def test_asgi_exception_while_buffering_sends_500_then_reraises() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise RuntimeError("mid-body")

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/api/x", "query_string": b"callback=f",
             "headers": [(b"origin", NEWS.encode())]}
    with pytest.raises(RuntimeError):
        asyncio.run(ASGIShim(app, policy=POLICY)(scope, receive, send))
    assert sent[0]["status"] == 500
    assert (b"access-control-allow-origin", NEWS.encode()) in sent[0]["headers"]


def test_asgi_websocket_and_lifespan_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def go() -> None:
        shim = ASGIShim(app, policy=POLICY)
        for kind in ("websocket", "lifespan"):
            await shim({"type": kind}, None, None)  # type: ignore[arg-type]

    asyncio.run(go())
    assert seen == ["websocket", "lifespan"]


def test_asgi_head_jsonp_sends_no_body_but_full_length() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = json.dumps({"method": scope["method"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    sent = run_asgi(app, b"callback=f", method="HEAD")
    headers = dict(sent[0]["headers"])
    assert sent[1]["body"] == b""
    get = run_asgi(app, b"callback=f")
    assert get[1]["body"].endswith(b'f({"method": "GET"});')
    assert headers[b"content-length"] == str(len(get[1]["body"])).encode()
