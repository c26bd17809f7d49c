"""Shared policies, apps and clients for the shim tests."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable
from typing import Any

from jsonp2cors.policy import Policy
from jsonp2cors.shim.core import RequestFacts, ShimCore

NEWS = "https://news.example.com"
PARTNER = "https://app.partner.example"
EVIL = "https://evil.example.net"

# 2026-11-25 12:00 UTC: before the sunset below.
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc).timestamp()
AFTER_SUNSET = dt.datetime(2027, 7, 1, 0, 0, tzinfo=dt.timezone.utc).timestamp()

POLICY_DATA: dict[str, Any] = {
    "version": 1,
    "cors": {
        "allow_origins": [NEWS, "https://*.partner.example"],
        "allow_methods": ["GET", "HEAD", "POST"],
        "allow_headers": ["X-Requested-With", "Content-Type"],
        "expose_headers": ["X-Total-Count"],
        "max_age": 600,
    },
    "jsonp": {
        "callback_params": ["callback", "jsonp"],
        "sunset": "2027-06-30",
        "deprecation": "2026-11-01",
        "docs_url": "https://docs.example.com/jsonp-retired",
        "max_callback_length": 64,
    },
    "route": [
        {"path": "/api/account", "allow_credentials": True},
        {"path": "/api/open", "allow_origins": ["*"]},
        {"path": "/api/nocheck", "allow_credentials": True, "check_referer": False},
        {"path": "/api/local", "allow_origins": ["http://intranet.example"], "max_age": 60},
    ],
}


def make_policy(**overrides: Any) -> Policy:
    data = json.loads(json.dumps(POLICY_DATA))
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        data[section][field] = value
    return Policy.from_dict(data)


POLICY = make_policy()


def core(policy: Policy | None = None, **kw: Any) -> ShimCore:
    kw.setdefault("clock", lambda: NOW)
    return ShimCore(policy or POLICY, **kw)


def facts(method: str = "GET", path: str = "/api/weather", query: str | bytes = b"",
          headers: Iterable[tuple[str, str]] = ()) -> RequestFacts:
    return RequestFacts.from_headers(method, path, query, headers)


def header(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """The values of one header (joined like a client would with ', '), or None."""
    values = [v.decode("latin-1") for k, v in headers if k.decode("latin-1").lower() == name]
    return ", ".join(values) if values else None


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


class Result:
    """What a client would receive: status, header pairs (bytes), body; `called` says if the app ran."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, called: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.called = called

    def h(self, name: str) -> str | None:
        return header(self.headers, name)


def simulate(shim_core: ShimCore, request: RequestFacts, status: int = 200,
             headers: Iterable[tuple[str, str]] = (("Content-Type", "application/json"),),
             body: bytes = b'{"temp": 21}', chunks: list[bytes] | None = None) -> Result:
    """Drive the sans-IO core like an adapter does, with a canned app response."""
    from jsonp2cors.shim.core import BUFFER, PEEK, SEND, Respond

    decision = shim_core.decide(request)
    if isinstance(decision, Respond):
        return Result(decision.status, decision.headers, decision.body, False)
    plan = decision.plan()
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    action = plan.start(status, raw)
    parts = chunks if chunks is not None else [body]
    if action == SEND:
        return Result(status, plan.headers, b"".join(parts), True)
    if action == PEEK:
        first = next((c for c in parts if c), b"")
        if plan.peek(first) == SEND:
            return Result(status, plan.headers, b"".join(parts), True)
    assert action in (PEEK, BUFFER)
    whole = b"".join(parts)
    if len(whole) > shim_core.max_body:
        return Result(status, plan.overflow(), whole, True)
    out_headers, out = plan.finish(whole)
    if request.method == "HEAD":
        out = b""
    return Result(status, out_headers, out, True)
