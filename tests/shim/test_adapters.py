"""Both adapters in process, one table: ASGIShim over Starlette (TestClient), WSGIShim over Flask (httpx)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from jsonp2cors.shim import ASGIShim, WSGIShim
from jsonp2cors.shim.usage import UsageRecord

from . import apps
from .helpers import EVIL, NEWS, NOW, POLICY

WRAP_RE = re.compile(rb"\A/\*\*/ typeof ([\w$.\[\]]+) === 'function' && \1\((.*)\);\Z", re.S)


def unwrap(body: bytes) -> tuple[str, Any]:
    m = WRAP_RE.match(body)
    assert m, body[:200]
    return m.group(1).decode(), json.loads(m.group(2))


def make_client(kind: str, app: Any = None, **kw: Any) -> httpx.Client:
    """A client for the app behind the shim; the shim itself is `client.shim`."""
    kw.setdefault("clock", lambda: NOW)
    client: httpx.Client
    shim: ASGIShim | WSGIShim
    if kind == "asgi":
        shim = ASGIShim(app or apps.starlette_app, policy=POLICY, **kw)
        client = TestClient(shim, raise_server_exceptions=False)
    else:
        shim = WSGIShim(app or apps.flask_app.wsgi_app, policy=POLICY, **kw)
        transport = httpx.WSGITransport(app=shim, raise_app_exceptions=False)
        client = httpx.Client(transport=transport, base_url="http://testserver")
    client.shim = shim  # type: ignore[union-attr]
    return client


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def records() -> list[UsageRecord]:
    return []


@pytest.fixture
def client(kind: str, records: list[UsageRecord]) -> Iterator[httpx.Client]:
    with make_client(kind, usage=records.append) as c:
        yield c


def test_jsonp_wrapping_and_usage_record(client: httpx.Client, records: list[UsageRecord]) -> None:
    r = client.get("/api/weather?callback=show", headers={"Referer": "https://news.example.com/p"})
    assert r.status_code == 200
    assert unwrap(r.content) == ("show", apps.WEATHER)
    assert b"</" not in r.content and "\u2028".encode() not in r.content
    assert r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["deprecation"].startswith("@") and "sunset" in r.headers and "link" in r.headers
    assert [(x.path, x.callback, x.origin, x.status) for x in records] == [
        ("/api/weather", "show", NEWS, 200)]


def test_refused_callback_does_not_call_the_app(client: httpx.Client) -> None:
    before = apps.CALLS["count"]
    r = client.get("/api/weather?callback=alert(document.cookie)")
    assert r.status_code == 400 and b"alert" not in r.content
    r = client.get("/api/weather?callback=a&callback=b")
    assert r.status_code == 400
    assert apps.CALLS["count"] == before


def test_head_jsonp(client: httpx.Client) -> None:
    get = client.get("/api/method?callback=f")
    assert unwrap(get.content) == ("f", {"method": "GET"})
    head = client.head("/api/method?callback=f")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "application/javascript; charset=utf-8"
    plain = client.get("/api/method")
    assert json.loads(plain.content) == {"method": "GET"}


@pytest.mark.parametrize("path", ["/api/legacy", "/api/legacy-html"])
def test_legacy_endpoints(client: httpx.Client, path: str) -> None:
    r = client.get(path + "?callback=show")
    assert unwrap(r.content) == ("show", apps.WEATHER)
    assert b"cb(" not in r.content
    cors = client.get(path, headers={"Origin": NEWS})
    assert cors.headers["content-type"] == "application/json"
    assert json.loads(cors.content) == apps.WEATHER
    assert cors.headers["access-control-allow-origin"] == NEWS
    script = client.get(path, headers={"Sec-Fetch-Dest": "script"})
    assert script.content.startswith(b"cb(")


def test_streaming_body_is_wrapped_whole(client: httpx.Client) -> None:
    r = client.get("/api/stream?callback=f")
    assert unwrap(r.content) == ("f", {"items": list(range(50))})
    assert int(r.headers["content-length"]) == len(r.content)
    plain = client.get("/api/stream")
    assert json.loads(plain.content) == {"items": list(range(50))}


def test_gzip_is_decoded_before_wrapping(client: httpx.Client) -> None:
    r = client.get("/api/gzip?callback=f")
    assert "content-encoding" not in r.headers
    assert unwrap(r.content) == ("f", apps.WEATHER)
    assert r.headers["vary"] == "Accept-Encoding, Origin"
    plain = client.get("/api/gzip", headers={"Origin": NEWS})
    assert plain.headers["content-encoding"] == "gzip"  # untouched; httpx decodes it for us
    assert json.loads(plain.content) == apps.WEATHER
    assert plain.headers["x-content-type-options"] == "nosniff"


def test_large_body(kind: str) -> None:
    with make_client(kind) as c:
        r = c.get("/api/big?callback=f")
        assert unwrap(r.content) == ("f", apps.BIG)
    with make_client(kind, max_body=100_000) as c:
        r = c.get("/api/big?callback=f")
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert json.loads(r.content) == apps.BIG


def test_errors_carry_cors_headers(client: httpx.Client) -> None:
    for path in ("/api/boom", "/api/missing"):
        r = client.get(path, headers={"Origin": NEWS})
        assert r.status_code in (404, 500)
        assert r.headers["access-control-allow-origin"] == NEWS
        assert "Origin" in r.headers["vary"]


@pytest.mark.parametrize("query", ["", "?callback=cb"])  # the plain path and the JSONP fast path
def test_raw_app_raising_before_start_gets_500_with_cors(kind: str, query: str) -> None:
    app = apps.raw_asgi_boom if kind == "asgi" else apps.raw_wsgi_boom
    with make_client(kind, app=app) as c:
        r = c.get("/api/weather" + query, headers={"Origin": NEWS})
        assert r.status_code == 500
        assert r.headers["access-control-allow-origin"] == NEWS
        assert r.content == b"Internal Server Error\n"


def test_non_json_not_labelled_as_script(client: httpx.Client) -> None:
    r = client.get("/api/html?callback=f")
    assert r.headers["content-type"].startswith("text/html")
    assert r.content == b"<html><body>hello</body></html>"


def test_cors_and_preflight(client: httpx.Client) -> None:
    r = client.get("/api/weather", headers={"Origin": "https://app.partner.example"})
    assert r.headers["access-control-allow-origin"] == "https://app.partner.example"
    assert r.headers["access-control-expose-headers"] == "X-Total-Count"
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.get("/api/weather", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in r.headers and r.headers["vary"] == "Origin"
    before = apps.CALLS["count"]
    r = client.options("/api/weather", headers={
        "Origin": NEWS, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204 and r.content == b""
    assert r.headers["access-control-allow-headers"] == "content-type"
    assert apps.CALLS["count"] == before
    r = client.options("/api/weather", headers={"Origin": NEWS, "Access-Control-Request-Method": "DELETE"})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
    r = client.options("/api/options", headers={"Origin": NEWS})
    assert r.content == b"app-options"
    assert r.headers["access-control-allow-origin"] == NEWS


def test_app_cors_headers_are_replaced(client: httpx.Client) -> None:
    r = client.get("/api/own-cors", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/api/own-cors", headers={"Origin": NEWS})
    assert r.headers["access-control-allow-origin"] == NEWS


def test_credentialed_route_referer_check(client: httpx.Client) -> None:
    assert client.get("/api/account/me?callback=f").status_code == 403
    ok = client.get("/api/account/me?callback=f", headers={"Referer": "https://news.example.com/"})
    assert ok.status_code == 200
    cors = client.get("/api/account/me", headers={"Origin": NEWS})
    assert cors.headers["access-control-allow-credentials"] == "true"


def test_sunset_gone(kind: str) -> None:
    with make_client(kind, clock=lambda: 1_900_000_000.0) as c:
        r = c.get("/api/weather?callback=f")
        assert r.status_code == 410 and r.content.startswith(b"/* Gone")
        assert c.get("/api/weather", headers={"Origin": NEWS}).status_code == 200


def test_usage_file(kind: str, tmp_path: Any) -> None:
    from jsonp2cors.shim.usage import read_usage

    usage = tmp_path / "usage.jsonl"
    with make_client(kind, usage=usage) as c:
        for _ in range(3):
            c.get("/api/weather?callback=f", headers={"User-Agent": "UA/2 (test)"})
        c.get("/api/weather")
    c.shim.close()  # type: ignore[attr-defined]
    log = read_usage([usage])
    assert len(log) == 3 and log.skipped == 0 and {r.user_agent for r in log} == {"UA/2 (test)"}


def test_starlette_add_middleware_and_fastapi_style_mounting() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def data(request: Any) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/api/data", data)])
    app.add_middleware(ASGIShim, policy=POLICY, clock=lambda: NOW)
    with TestClient(app) as c:
        assert unwrap(c.get("/api/data?callback=cb").content) == ("cb", {"ok": True})
        r = c.get("/api/data", headers={"Origin": NEWS})
        assert r.headers["access-control-allow-origin"] == NEWS


def test_flask_wsgi_app_attribute_mounting() -> None:
    from flask import Flask

    app = Flask("mounting_test")

    @app.route("/api/data")
    def data() -> Any:
        return {"ok": True}

    app.wsgi_app = WSGIShim(app.wsgi_app, policy=POLICY, clock=lambda: NOW)  # type: ignore[method-assign]
    client = app.test_client()
    assert unwrap(client.get("/api/data?callback=cb").data) == ("cb", {"ok": True})
    assert client.get("/api/data", headers={"Origin": NEWS}).headers["Access-Control-Allow-Origin"] == NEWS
