"""`[jsonp] enabled = false` and `[[route]] jsonp = false`: where a callback parameter is not JSONP."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from typing import Any

import pytest

from jsonp2cors.policy import Policy, PolicyError
from jsonp2cors.shim import ASGIShim, WSGIShim
from jsonp2cors.shim.core import Forward

from .helpers import NOW, POLICY_DATA, core, facts


def policy(**jsonp: Any) -> Policy:
    data = json.loads(json.dumps(POLICY_DATA))
    data["route"].append({"path": "/login", "jsonp": False})
    data["jsonp"].update(jsonp)
    return Policy.from_dict(data)


REDIRECT = "callback=https%3A%2F%2Fnews.example.com%2Fhome"


def test_the_policy_file_reads_and_writes_the_switches() -> None:
    p = policy()
    assert p.for_path("/login/sso").jsonp.enabled is False
    assert p.for_path("/api/weather").jsonp.enabled is True
    assert Policy.from_toml(p.to_toml()) == p
    assert "enabled" not in p.to_toml()  # the default is not written
    off = policy(enabled=False)
    assert off.for_path("/api/weather").jsonp.enabled is False
    assert "enabled = false" in off.to_toml() and Policy.from_toml(off.to_toml()) == off
    with pytest.raises(PolicyError, match=r"route\[\d\]\.jsonp"):
        Policy.from_dict({**POLICY_DATA, "route": [{"path": "/x", "jsonp": "no"}]})


def test_core_forwards_a_callback_on_a_route_without_jsonp() -> None:
    shim_core = core(policy())
    decision = shim_core.decide(facts("GET", "/login/sso", REDIRECT))
    assert isinstance(decision, Forward) and decision.callback is None
    jsonp = shim_core.decide(facts("GET", "/api/weather", "callback=cb"))
    assert isinstance(jsonp, Forward) and jsonp.callback == b"cb"
    bad = shim_core.decide(facts("GET", "/api/weather", REDIRECT))
    assert not isinstance(bad, Forward) and bad.status == 400  # JSONP elsewhere still refuses bad names


def test_adapters_pass_the_request_through() -> None:
    body = b'{"next": "/home"}'
    records: list[Any] = []

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/login/sso", "query_string": REDIRECT.encode(),
             "headers": []}
    asyncio.run(ASGIShim(asgi_app, policy=policy(), clock=lambda: NOW, usage=records.append)(scope, receive, send))
    assert sent[0]["status"] == 200 and sent[1]["body"] == body
    assert (b"content-type", b"application/json") in sent[0]["headers"]

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    got: list[Any] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/login/sso", "QUERY_STRING": REDIRECT,
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "SERVER_NAME": "t", "SERVER_PORT": "80"}
    shim = WSGIShim(wsgi_app, policy=policy(), clock=lambda: NOW, usage=records.append)
    out = b"".join(shim(environ, lambda status, headers, exc_info=None: got.append((status, headers))))
    assert out == body and got[0][0] == "200 OK"
    assert ("Content-Type", "application/json") in got[0][1]
    assert records == []  # not a JSONP response: nothing to record
