"""Conformance table, run through both adapters (in process).

Our own cases, written after reading the public suites for what they cover: rs/cors `TestSpec` (allowed and
disallowed origins, preflight method/header checks, Vary on every response), jub0bs/cors (non-CORS OPTIONS
goes to the handler, the app's own Vary kept, credentialed single origin, null origin), the web-platform-tests
`fetch/api/cors` cases (preflight refusals, exposed headers, credentials never with `*`) and Express's
`res.jsonp` tests (content type, escaping of U+2028/U+2029, callback sanitising, several callbacks, +json).
`None` as an expected header value means "absent".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from jsonp2cors.shim import ASGIShim, WSGIShim

from .helpers import EVIL, NEWS, NOW, PARTNER, POLICY

JSON_BODY = json.dumps({"t": "a\u2028b</script>", "n": 1}, ensure_ascii=False).encode()
WRAPPED = re.compile(rb"\A/\*\*/ typeof ([\w$.\[\]]+) === 'function' && \1\((.*)\);\Z", re.S)


@dataclass(frozen=True)
class Case:
    name: str
    method: str = "GET"
    path: str = "/api/weather"
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    app: str = "json"  # what the app answers: json | padded | html | vary | error
    status: int = 200
    expect: dict[str, str | None] = field(default_factory=dict)
    body: str = "json"  # json | wrapped:NAME | empty | text:SUBSTRING | html | called
    app_called: bool = True


PF = {"Access-Control-Request-Method": "GET"}
CASES = [
    # -------------------------------------------------------------------- actual requests
    Case("no Origin: app answers, Vary still set", expect={"vary": "Origin", "access-control-allow-origin": None,
                                                             "x-content-type-options": "nosniff"}),
    Case("allowed exact origin", headers={"Origin": NEWS},
         expect={"access-control-allow-origin": NEWS, "vary": "Origin",
                 "access-control-expose-headers": "X-Total-Count", "access-control-allow-credentials": None}),
    Case("allowed by subdomain pattern", headers={"Origin": PARTNER},
         expect={"access-control-allow-origin": PARTNER}),
    Case("pattern needs a label", headers={"Origin": "https://partner.example"},
         expect={"access-control-allow-origin": None, "vary": "Origin"}),
    Case("look-alike suffix", headers={"Origin": "https://evilpartner.example"},
         expect={"access-control-allow-origin": None}),
    Case("look-alike prefix", headers={"Origin": "https://news.example.com.evil.example.net"},
         expect={"access-control-allow-origin": None}),
    Case("other scheme", headers={"Origin": "http://news.example.com"}, expect={"access-control-allow-origin": None}),
    Case("other port", headers={"Origin": "https://news.example.com:8443"},
         expect={"access-control-allow-origin": None}),
    Case("not the browser's spelling", headers={"Origin": "https://NEWS.example.com"},
         expect={"access-control-allow-origin": None}),
    Case("null refused by default", headers={"Origin": "null"}, expect={"access-control-allow-origin": None}),
    Case("disallowed origin: still answered, no allow headers", headers={"Origin": EVIL},
         expect={"access-control-allow-origin": None, "access-control-expose-headers": None, "vary": "Origin"}),
    Case("credentials route reflects the origin", path="/api/account/me", headers={"Origin": NEWS},
         expect={"access-control-allow-origin": NEWS, "access-control-allow-credentials": "true"}),
    Case("wildcard route: * and no Vary", path="/api/open/feed", headers={"Origin": EVIL},
         expect={"access-control-allow-origin": "*", "vary": None}),
    Case("app Vary kept and merged", app="vary", headers={"Origin": NEWS},
         expect={"vary": "Accept-Encoding, Origin"}),
    Case("error page carries CORS", app="error", status=500, headers={"Origin": NEWS},
         expect={"access-control-allow-origin": NEWS}, body="html"),
    Case("POST with Origin", method="POST", headers={"Origin": NEWS}, expect={"access-control-allow-origin": NEWS}),
    # ------------------------------------------------------------------------ preflight
    Case("preflight allowed", method="OPTIONS", headers={"Origin": NEWS, **PF}, status=204, body="empty",
         expect={"access-control-allow-origin": NEWS, "access-control-allow-methods": "GET, HEAD, POST",
                 "access-control-max-age": "600",
                 "vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
         app_called=False),
    Case("preflight with allowed headers, any case", method="OPTIONS", status=204, body="empty",
         headers={"Origin": NEWS, **PF, "Access-Control-Request-Headers": "X-Requested-With,Content-Type"},
         expect={"access-control-allow-headers": "x-requested-with, content-type"}, app_called=False),
    Case("preflight: header not allowed", method="OPTIONS", status=403, body="text:headers not allowed",
         headers={"Origin": NEWS, **PF, "Access-Control-Request-Headers": "authorization"},
         expect={"access-control-allow-origin": None, "access-control-allow-headers": None}, app_called=False),
    Case("preflight: method not allowed", method="OPTIONS", status=403, body="text:method not allowed",
         headers={"Origin": NEWS, "Access-Control-Request-Method": "DELETE"},
         expect={"access-control-allow-methods": None}, app_called=False),
    Case("preflight: origin not allowed", method="OPTIONS", status=403, body="text:origin not allowed",
         headers={"Origin": EVIL, **PF}, expect={"access-control-allow-origin": None}, app_called=False),
    Case("preflight: private network not opted in", method="OPTIONS", status=403,
         headers={"Origin": NEWS, **PF, "Access-Control-Request-Private-Network": "true"},
         body="text:private network", expect={"access-control-allow-private-network": None}, app_called=False),
    Case("preflight: credentials", method="OPTIONS", path="/api/account", status=204, body="empty",
         headers={"Origin": NEWS, **PF}, expect={"access-control-allow-credentials": "true"}, app_called=False),
    Case("OPTIONS without request method goes to the app", method="OPTIONS", headers={"Origin": NEWS},
         body="called", expect={"access-control-allow-origin": NEWS}),
    # ---------------------------------------------------------------------------- JSONP
    Case("JSONP wraps JSON", query="callback=show", body="wrapped:show",
         expect={"content-type": "application/javascript; charset=utf-8", "x-content-type-options": "nosniff"}),
    Case("JSONP second parameter name", query="jsonp=ns.cb", body="wrapped:ns.cb"),
    Case("JSONP jQuery style", query="callback=jQuery1124_1500000000000&_=1500000000001",
         body="wrapped:jQuery1124_1500000000000"),
    Case("JSONP re-wraps legacy padding", query="callback=show", app="padded", body="wrapped:show"),
    Case("JSONP leaves HTML alone", query="callback=show", app="html", body="html",
         expect={"content-type": "text/html; charset=utf-8"}),
    Case("JSONP bad name", query="callback=alert(1)//", status=400, body="text:not a valid function name",
         app_called=False),
    Case("JSONP several callbacks", query="callback=a&callback=b", status=400, body="text:more than one",
         app_called=False),
    Case("JSONP empty callback is plain JSON", query="callback=", body="json"),
    Case("JSONP ignored on POST", method="POST", query="callback=show", body="json"),
    Case("JSONP credentialed route without Referer", path="/api/account/me", query="callback=f", status=403,
         body="text:Forbidden", app_called=False),
    Case("JSONP credentialed route, allowed Referer", path="/api/account/me", query="callback=f",
         headers={"Referer": "https://news.example.com/x"}, body="wrapped:f"),
    Case("plain caller gets legacy padding removed", app="padded", body="json",
         expect={"content-type": "application/json"}),
    Case("script loader keeps legacy padding", app="padded", headers={"Sec-Fetch-Dest": "script"},
         body="text:cb(", expect={"content-type": "text/javascript"}),
]


def _respond(kind: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if kind == "padded":
        return 200, [("Content-Type", "text/javascript")], b"cb(" + JSON_BODY + b");"
    if kind == "html":
        return 200, [("Content-Type", "text/html; charset=utf-8")], b"<p>page</p>"
    if kind == "vary":
        return 200, [("Content-Type", "application/json"), ("Vary", "Accept-Encoding")], JSON_BODY
    if kind == "error":
        return 500, [("Content-Type", "text/html; charset=utf-8")], b"<p>page</p>"
    return 200, [("Content-Type", "application/json")], JSON_BODY


CALLED: list[str] = []


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    CALLED.append(scope["path"])
    kind = dict(h.split(b"=") for h in scope["query_string"].split(b"&") if h.startswith(b"app=")).get(b"app")
    status, headers, body = _respond(kind.decode() if kind else "json")
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    CALLED.append(environ["PATH_INFO"])
    kind = dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&") if p.startswith("app=")).get("app")
    status, headers, body = _respond(kind or "json")
    start_response(f"{status} X", headers)
    return [body]


@pytest.fixture(params=["asgi", "wsgi"])
def client(request: pytest.FixtureRequest) -> Any:
    if request.param == "asgi":  # no `with`: the bare app here does not speak the lifespan protocol
        yield TestClient(ASGIShim(asgi_app, policy=POLICY, clock=lambda: NOW))
    else:
        transport = httpx.WSGITransport(app=WSGIShim(wsgi_app, policy=POLICY, clock=lambda: NOW))
        with httpx.Client(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conformance(client: Any, case: Case) -> None:
    query = "&".join(q for q in (case.query, f"app={case.app}") if q)
    CALLED.clear()
    r = client.request(case.method, f"{case.path}?{query}", headers=case.headers)
    assert r.status_code == case.status, r.content
    for name, value in case.expect.items():
        assert r.headers.get(name) == value, (name, dict(r.headers))
    assert bool(CALLED) == case.app_called
    body = r.content
    if case.body == "json":
        assert json.loads(body) == json.loads(JSON_BODY)
    elif case.body.startswith("wrapped:"):
        m = WRAPPED.match(body)
        assert m and m.group(1).decode() == case.body.split(":", 1)[1], body
        assert b"\xe2\x80\xa8" not in body and b"</" not in body
        assert json.loads(m.group(2)) == json.loads(JSON_BODY)
    elif case.body == "empty":
        assert body == b""
    elif case.body == "html":
        assert body == b"<p>page</p>"
    elif case.body.startswith("text:"):
        assert case.body.split(":", 1)[1].encode() in body
        assert b"alert" not in body
