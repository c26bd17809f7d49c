"""One table of CORS questions for every exporter, the answer our policy gives, and a browser's verdict.

`expected()` answers from `Policy.for_path` + `OriginMatcher`; `browser_allows()` replays what a browser does
(preflight when needed, then the CORS check of the Fetch standard) against any target through a `send`
function, so the same questions can be put to Starlette, flask-cors, django-cors-headers and nginx.
Importable without the package under test (the Django check runs it in a subprocess).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})

# Browsers always send these forms; each row is (origin, why).
ORIGINS: list[tuple[str, str]] = [
    ("https://news.example.com", "listed"),
    ("https://a.partner.example", "one label under the pattern"),
    ("https://a.b.partner.example", "two labels under the pattern"),
    ("http://localhost:3000", "listed with port"),
    ("https://x.ports.example:8443", "pattern with port"),
    ("https://evilnews.example.com", "look-alike prefix"),
    ("https://news.example.com.evil.org", "listed origin as a subdomain of another site"),
    ("http://news.example.com", "other scheme"),
    ("https://news.example.com:8443", "other port"),
    ("https://news.example.com.", "trailing dot"),
    ("https://xn--nws-8ma.example.com", "IDN homograph (punycode)"),
    ("https://partner.example", "pattern domain itself"),
    ("https://evilpartner.example", "look-alike of the pattern domain"),
    ("https://a.partner.example.evil.org", "pattern domain inside another site"),
    ("http://a.partner.example", "pattern on the other scheme"),
    ("https://a.partner.example:8443", "pattern on another port"),
    ("https://x.ports.example", "port pattern without the port"),
    ("https://x.ports.example:8444", "port pattern, other port"),
    ("http://localhost:3001", "other port on localhost"),
    ("https://localhost:3000", "localhost, other scheme"),
    ("null", "opaque origin"),
]

# (method, request headers that are not CORS-safelisted)
REQUESTS: list[tuple[str, tuple[str, ...]]] = [
    ("GET", ()),
    ("HEAD", ()),
    ("PUT", ()),
    ("PATCH", ()),
    ("DELETE", ("X-Requested-With",)),
    ("GET", ("x-requested-with",)),
    ("POST", ("content-type",)),
    ("GET", ("x-other",)),
]

PATHS = ["/api/weather", "/api/account/settings", "/api/accounts", "/api/open/list"]
# Starlette's CORSMiddleware allows these request headers in every preflight, listed or not.
STARLETTE_ALWAYS_ALLOWED = frozenset({"accept", "accept-language", "content-language", "content-type"})

# A policy with one configuration for every path (what Starlette and django-cors-headers can express).
FLAT_POLICY = """
version = 1
[cors]
allow_origins = ["https://news.example.com", "https://*.partner.example", "http://localhost:3000",
                 "https://*.ports.example:8443"]
allow_methods = ["GET", "HEAD", "PUT", "DELETE"]
allow_headers = ["X-Requested-With", "Content-Type"]
expose_headers = ["X-Total"]
allow_credentials = true
max_age = 600
"""

# The same with the opaque origin let in on purpose (lint CP002 would flag it).
FLAT_NULL_POLICY = FLAT_POLICY + "allow_null = true\n"

# Per-route overrides (what flask-cors and nginx can express).
ROUTED_POLICY = """
version = 1
[cors]
allow_origins = ["https://news.example.com", "https://*.partner.example", "http://localhost:3000",
                 "https://*.ports.example:8443"]
allow_methods = ["GET", "HEAD"]
allow_headers = ["X-Requested-With"]
max_age = 600
[[route]]
path = "/api/account"
allow_origins = ["https://news.example.com", "https://*.partner.example"]
allow_methods = ["GET", "HEAD", "PUT", "DELETE"]
allow_headers = ["X-Requested-With", "Content-Type"]
allow_credentials = true
[[route]]
path = "/api/open"
allow_origins = ["*"]
allow_headers = ["Content-Type"]
"""

# Any origin, the opaque one included on purpose (credentials are impossible with '*').
OPEN_POLICY = """
version = 1
[cors]
allow_origins = ["*"]
allow_null = true
allow_methods = ["GET", "HEAD", "PUT"]
allow_headers = ["X-Requested-With", "Content-Type"]
expose_headers = ["X-Total"]
"""

Question = tuple[str, str, str, tuple[str, ...], bool]  # path, origin, method, headers, credentials


def questions() -> list[Question]:
    return [(path, origin, method, headers, credentials)
            for path in PATHS for origin, _ in ORIGINS for method, headers in REQUESTS
            for credentials in (False, True)]


def needs_preflight(method: str, headers: tuple[str, ...]) -> bool:
    return method not in SAFELISTED_METHODS or bool(headers)


def expected(policy: Any, q: Question) -> bool:
    """What a browser concludes when the server follows `policy` (our matcher and route resolution)."""
    path, origin, method, headers, credentials = q
    eff = policy.for_path(path)
    if not eff.matcher.matches(origin):
        return False
    star = eff.matcher.allows_any and origin not in eff.matcher.exact and not eff.cors.allow_credentials
    if credentials and (star or not eff.cors.allow_credentials):
        return False
    if needs_preflight(method, headers):
        if not eff.allows_method(method):
            return False
        if any(h.lower() not in eff.headers for h in headers):
            return False
    return True


Send = Callable[[str, str, Mapping[str, str]], tuple[int, Mapping[str, str]]]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _cors_check(headers: Mapping[str, str], origin: str, credentials: bool) -> bool:
    allow = _header(headers, "access-control-allow-origin")
    if allow is None:
        return False
    if allow == "*" and not credentials:
        return True
    if allow != origin:
        return False
    if credentials:
        return _header(headers, "access-control-allow-credentials") == "true"
    return True


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def browser_allows(send: Send, q: Question) -> bool:
    """Replay the Fetch standard's CORS steps against a server reached through `send`."""
    path, origin, method, headers, credentials = q
    if needs_preflight(method, headers):
        request = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            request["Access-Control-Request-Headers"] = ",".join(sorted(h.lower() for h in headers))
        status, got = send("OPTIONS", path, request)
        if not 200 <= status < 300 or not _cors_check(got, origin, credentials):
            return False
        methods = _split(_header(got, "access-control-allow-methods"))
        star_method = "*" in methods and not credentials
        if method not in methods and not star_method and method not in SAFELISTED_METHODS:
            return False
        allowed = [h.lower() for h in _split(_header(got, "access-control-allow-headers"))]
        for name in headers:
            if name.lower() not in allowed and not ("*" in allowed and not credentials):
                return False
    request = {"Origin": origin}
    for name in headers:
        request[name] = "application/json" if name.lower() == "content-type" else "1"
    _status, got = send(method, path, request)
    return _cors_check(got, origin, credentials)


def cached(send: Send) -> Send:
    """The same request gets the same answer: ask the target once (credentials only change the verdict)."""
    seen: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[int, Mapping[str, str]]] = {}

    def ask(method: str, path: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, str]]:
        key = (method, path, tuple(sorted(headers.items())))
        if key not in seen:
            seen[key] = send(method, path, headers)
        return seen[key]

    return ask


def disagreements(policy: Any, send: Send, skip: Callable[[Question], bool] | None = None) -> list[str]:
    """Every question where the target's browser verdict differs from the policy's answer."""
    out = []
    send = cached(send)
    for q in questions():
        if skip is not None and skip(q):
            continue
        want = expected(policy, q)
        got = browser_allows(send, q)
        if want != got:
            out.append(f"{q}: policy says {want}, target says {got}")
    return out
