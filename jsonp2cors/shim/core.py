"""The shim's decisions, sans-IO: request facts + policy -> a Decision; response head/body -> what to send.

Imports no web framework. `asgi.py` and `wsgi.py` only move bytes and headers between a server and this.
Everything that does not depend on the request (header sets per route) is computed once and cached.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import time
import zlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, AnyStr, Final, Generic
from urllib.parse import unquote_to_bytes, urlsplit

from jsonp2cors.shim.usage import BaseSink, UsageFields, make_sink, referer_origin

if TYPE_CHECKING:
    from jsonp2cors.policy import EffectivePolicy, Policy

try:  # optional: br is decoded only when a decoder is installed
    import brotli as _brotli  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None

log = logging.getLogger("jsonp2cors.shim")

Headers = list[tuple[bytes, bytes]]
Clock = Callable[[], "float | dt.datetime"]

# ------------------------------------------------------------------------------------------- limits
#: Largest response body the shim buffers to wrap (JSONP) or unwrap (legacy padding). Bigger bodies pass
#: through untouched with a logged reason; a browser then refuses them as a script (nosniff).
MAX_BODY: Final = 8 * 1024 * 1024
#: Largest `Access-Control-Request-Headers` value (all lines joined) a preflight may carry; larger ones
#: are refused with 400 before any parsing.
MAX_ACRH: Final = 4096
#: Paths whose route rules are remembered; the cache is emptied when full so random paths cannot grow memory.
PATH_CACHE_SIZE: Final = 4096

# ------------------------------------------------------------------------------------- fixed answers
MSG_BAD_CALLBACK: Final = b"Bad Request: the JSONP callback parameter is not a valid function name.\n"
MSG_DUP_CALLBACK: Final = b"Bad Request: more than one JSONP callback parameter.\n"
MSG_REFERER: Final = b"Forbidden: this endpoint answers JSONP only to pages on the allowed origins.\n"
MSG_PF_ORIGIN: Final = b"CORS preflight refused: origin not allowed.\n"
MSG_PF_METHOD: Final = b"CORS preflight refused: method not allowed.\n"
MSG_PF_HEADERS: Final = b"CORS preflight refused: request headers not allowed.\n"
MSG_PF_HEADERS_BAD: Final = b"CORS preflight refused: Access-Control-Request-Headers malformed or too long.\n"
MSG_PF_PNA: Final = b"CORS preflight refused: private network access not allowed.\n"
MSG_ERROR: Final = b"Internal Server Error\n"

CT_TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")
CT_JS: Final = (b"content-type", b"application/javascript; charset=utf-8")
CT_JSON: Final = (b"content-type", b"application/json")
NOSNIFF: Final = (b"x-content-type-options", b"nosniff")

_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CALLBACK_RE = re.compile(rb"([A-Za-z_$][A-Za-z0-9_$]*)(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[[0-9]{1,9}\])*")
#: A first name that is an ECMAScript reserved word (or strict-mode reserved) would not parse.
RESERVED_WORDS: Final = frozenset(
    b"""await break case catch class const continue debugger default delete do else enum export extends
    false finally for function if implements import in instanceof interface let new null package private
    protected public return static super switch this throw true try typeof var void while with
    yield""".split()
)

# Legacy padding: `[/**/] [typeof NAME === 'function' &&] NAME ( <json> ) [;]`, or `NAME && NAME(...)`.
_CB = rb"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[[0-9]{1,9}\])*"
_LEGACY_HEAD_RE = re.compile(
    rb"\s*(?:/\*[^*]*\*+(?:[^/*][^*]*\*+)*/\s*)*"  # leading comments, e.g. /**/
    rb"(?:typeof\s+" + _CB + rb"\s*={2,3}\s*(['\"])function\1\s*&&\s*"
    rb"|" + _CB + rb"\s*&&\s*)?"
    rb"(" + _CB + rb")\s*\(\s*(?=[\[{\"\-0-9tfn])"
)
_LEGACY_TAIL_RE = re.compile(rb"\)\s*;?\s*(?:/\*[^*]*\*+(?:[^/*][^*]*\*+)*/\s*)*\Z")
_LEGACY_START = frozenset(b"/tT_$" + bytes(range(65, 91)) + bytes(range(97, 123)))
_WS = b" \t\r\n"
_JSON_LEAD = JSON_LEAD = frozenset(b'{["-0123456789')
_IDENT_CHARS = frozenset(b"$_0123456789" + bytes(range(65, 91)) + bytes(range(97, 123)) + b".[(")

_JS_TYPES = frozenset({
    b"application/javascript", b"text/javascript", b"application/x-javascript", b"text/x-javascript",
    b"application/ecmascript", b"text/ecmascript",
})
_JSON_TYPES = frozenset({b"application/json", b"text/json", b"application/x-json", b"text/x-json"})
_TEXT_TYPES = frozenset({b"text/html", b"text/plain"})
_NO_BODY_STATUS = frozenset({101, 204, 205, 206, 304})

# Response body kinds by content type.
K_OTHER: Final = 0
K_JSON: Final = 1
K_JS: Final = 2
K_TEXT: Final = 3

# What an adapter does with the response after `ResponsePlan.start`.
SEND: Final = 0  # send `plan.headers` now, pass the body through untouched
BUFFER: Final = 1  # hold the head; collect the whole body (up to MAX_BODY) and call `plan.finish(body)`
PEEK: Final = 2  # hold the head until the first non-empty body chunk, then call `plan.peek(chunk)`


_KIND_CACHE: dict[bytes | str, int] = {}


def media_kind(content_type: bytes | str | None) -> int:
    """Classify a Content-Type value: JSON (incl. `+json`), JavaScript, HTML/plain text, or other."""
    if not content_type:
        return K_OTHER
    kind = _KIND_CACHE.get(content_type)
    if kind is None:
        raw = content_type.encode("latin-1") if isinstance(content_type, str) else content_type
        kind = _media_kind(raw)
        if len(_KIND_CACHE) < 256:
            _KIND_CACHE[content_type] = kind
    return kind


def _media_kind(content_type: bytes) -> int:
    media = content_type.split(b";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith(b"+json"):
        return K_JSON
    if media in _JS_TYPES:
        return K_JS
    if media in _TEXT_TYPES:
        return K_TEXT
    return K_OTHER


_CHARSET_CACHE: dict[bytes, str | None] = {}


def _charset(content_type: bytes) -> str | None:
    if content_type in _CHARSET_CACHE:
        return _CHARSET_CACHE[content_type]
    charset = _parse_charset(content_type)
    if len(_CHARSET_CACHE) < 256:
        _CHARSET_CACHE[content_type] = charset
    return charset


def _parse_charset(content_type: bytes) -> str | None:
    for param in content_type.split(b";")[1:]:
        key, _, value = param.partition(b"=")
        if key.strip().lower() == b"charset":
            return value.strip().strip(b"\"'").decode("latin-1").lower() or None
    return None


def escape_for_script(body: bytes) -> bytes:
    """Make JSON text safe inside a script: U+2028/U+2029 escaped, `</` and `<!--` defused.

    In JSON, `<` only occurs inside strings, where `\\/` and `\\u003c` are valid escapes with the same value.
    """
    if b"\xe2\x80" in body:
        body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    if b"<" in body:
        body = body.replace(b"</", b"<\\/").replace(b"<!--", b"\\u003c!--")
    return body


_PREFIXES: dict[bytes, bytes] = {}


def wrap_jsonp(callback: bytes, body: bytes) -> bytes:
    """The hardened JSONP body: `/**/ typeof NAME === 'function' && NAME(JSON);`.

    The leading comment defeats content sniffing attacks that need the body to start with the callback
    (Rosetta Flash); the `typeof` guard keeps a missing callback from throwing on the page.
    """
    prefix = _PREFIXES.get(callback)
    if prefix is None:
        prefix = b"".join((b"/**/ typeof ", callback, b" === 'function' && ", callback, b"("))
        if len(_PREFIXES) >= 1024:
            _PREFIXES.clear()
        _PREFIXES[callback] = prefix
    return b"".join((prefix, escape_for_script(body), b");"))


def split_legacy(body: bytes) -> tuple[bytes, bytes] | None:
    """(callback, JSON payload) when `body` is a JSONP response (`name({...});` in its usual spellings)
    around valid JSON, else None. Never guesses: the payload must parse as JSON."""
    head = _LEGACY_HEAD_RE.match(body)
    if head is None:
        return None
    tail = _LEGACY_TAIL_RE.search(body, head.end())
    if tail is None:
        return None
    payload = body[head.end():tail.start()].strip(_WS)
    try:
        json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return head.group(2), payload


def could_be_legacy(prefix: bytes) -> bool:
    """Cheap test on a body's first bytes: could it be `name(...)` padding (needs the whole body to say)?"""
    stripped = prefix.lstrip(_WS)
    if not stripped:
        return True
    if stripped[0] not in _LEGACY_START:
        return False
    if stripped[0] == 0x2F:  # '/': only a comment may start it
        return stripped[:2] == b"/*" or len(stripped) < 2
    return True


def looks_like_json(prefix: bytes) -> bool:
    """Cheap test on a body's first bytes: does it start like a JSON text (not like `name(`)?"""
    stripped = prefix.lstrip(_WS)
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip(_WS)
    if not stripped:
        return False
    if stripped[0] in _JSON_LEAD:
        return True
    for word in (b"true", b"false", b"null"):
        if stripped.startswith(word):
            return len(stripped) == len(word) or stripped[len(word)] not in _IDENT_CHARS
    return False


_VALID: dict[bytes, bool] = {}


def validate_callback(value: bytes, max_length: int) -> bool:
    """A JavaScript identifier path (ASCII): `fn`, `$cb`, `ns.handlers.onData`, `jQuery1124_15`, `cbs[3]`.

    The first name may not be a reserved word; later names may (property names), e.g. `api.default`.
    """
    if not value or len(value) > max_length:
        return False
    valid = _VALID.get(value)
    if valid is None:
        m = _CALLBACK_RE.fullmatch(value)
        valid = m is not None and m.group(1) not in RESERVED_WORDS
        if len(_VALID) >= 1024:  # jQuery makes a new name per request: keep the cache small
            _VALID.clear()
        _VALID[value] = valid
    return valid


def decode_body(body: bytes, encoding: bytes, limit: int) -> bytes | str:
    """Decode a Content-Encoding chain; returns the bytes or a reason string when it cannot."""
    codings = [c.strip().lower() for c in encoding.split(b",") if c.strip()]
    for coding in reversed(codings):
        if coding == b"identity":
            continue
        try:
            if coding in (b"gzip", b"x-gzip"):
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = d.decompress(body, limit + 1)
            elif coding == b"deflate":
                try:
                    d = zlib.decompressobj(zlib.MAX_WBITS)
                    body = d.decompress(body, limit + 1)
                except zlib.error:  # some servers send raw deflate without the zlib header
                    d = zlib.decompressobj(-zlib.MAX_WBITS)
                    body = d.decompress(body, limit + 1)
            elif coding == b"br" and _brotli is not None:
                body = _brotli.decompress(body)
            else:
                return f"content-encoding {coding.decode('latin-1')} cannot be decoded here"
        except (zlib.error, ValueError, OSError) as exc:
            return f"content-encoding {coding.decode('latin-1')} is corrupt ({exc})"
        except Exception as exc:  # brotli.error is not a common base class
            return f"content-encoding {coding.decode('latin-1')} is corrupt ({exc})"
        if len(body) > limit:
            return "decoded body exceeds the size limit"
    return body


def _http_date(ts: float) -> bytes:
    return email.utils.formatdate(ts, usegmt=True).encode("ascii")


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def _safe_header_value(value: str) -> bytes | None:
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        return None
    if any(c < 0x20 or c == 0x7F for c in raw):
        return None
    return raw


# ------------------------------------------------------------------------------------------ routes


class RouteRules:
    """What one route's effective policy means for requests, computed once: matchers and header sets."""

    __slots__ = (
        "acao_any",
        "allowed_static",
        "allowed_static_str",
        "callback_params",
        "check_referer",
        "cors",
        "credentials",
        "effective",
        "expose",
        "fast_jsonp",
        "gone_body",
        "jsonp_enabled",
        "jsonp_headers",
        "jsonp_plain_tail",
        "jsonp_tail",
        "matcher",
        "max_callback_length",
        "param_names",
        "param_needles",
        "preflight_static",
        "private_network",
        "simple_static",
        "sunset_ts",
        "vary_only",
        "vary_value",
        "vary_value_str",
    )

    def __init__(self, eff: EffectivePolicy, *, deprecation_default: int) -> None:
        cors, jsonp, route = eff.cors, eff.jsonp, eff.route
        self.effective = eff
        self.matcher = eff.matcher
        self.cors = bool(cors.allow_origins) or cors.allow_null
        credentials = bool(cors.allow_credentials)
        if eff.matcher.allows_any and credentials:
            log.warning("jsonp2cors: route %r allows any origin with credentials; the shim answers "
                        "`Access-Control-Allow-Origin: *` without credentials there",
                        route.path if route else "/")
            credentials = False
        self.credentials = credentials
        # `*` without credentials: the answer does not depend on Origin, so no Vary is needed for it.
        self.acao_any = eff.matcher.allows_any and not credentials
        self.expose = b", ".join(h.encode("ascii") for h in cors.expose_headers)
        self.private_network = bool(cors.allow_private_network)

        vary: Headers = [] if (self.acao_any or not self.cors) else [(b"vary", b"Origin")]
        self.vary_only: tuple[tuple[bytes, bytes], ...] = tuple(vary)
        simple: Headers = list(vary)
        if credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if self.expose:
            simple.append((b"access-control-expose-headers", self.expose))
        self.simple_static: tuple[tuple[bytes, bytes], ...] = tuple(simple)
        # The same, split for the pass-through fast path: (pairs without Vary, Vary value or None), as bytes
        # (ASGI) and as str (WSGI).
        self.vary_value: bytes | None = b"Origin" if vary else None
        self.allowed_static = tuple(p for p in simple if p[0] != b"vary")
        self.allowed_static_str = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.allowed_static)
        self.vary_value_str: str | None = "Origin" if vary else None
        pre: Headers = [(b"access-control-allow-methods",
                         b", ".join(m.upper().encode("ascii") for m in cors.allow_methods))]
        if credentials:
            pre.append((b"access-control-allow-credentials", b"true"))
        if cors.max_age is not None and cors.max_age >= 0:
            pre.append((b"access-control-max-age", str(int(cors.max_age)).encode("ascii")))
        self.preflight_static: tuple[tuple[bytes, bytes], ...] = tuple(pre)

        # JSONP
        self.callback_params = tuple(p.encode("utf-8") for p in jsonp.callback_params)
        self.param_needles = tuple(set(self.callback_params))
        self.max_callback_length = int(jsonp.max_callback_length)
        check = getattr(route, "check_referer", None) if route is not None else None
        self.check_referer = bool(jsonp.check_referer if check is None else check) and credentials
        transition: Headers = []
        depr = getattr(jsonp, "deprecation", None)
        transition.append((b"deprecation",
                           b"@%d" % (_epoch(depr) if depr is not None else deprecation_default)))
        sunset = jsonp.sunset
        self.sunset_ts: float | None = float(_epoch(sunset)) if sunset is not None else None
        if self.sunset_ts is not None:
            transition.append((b"sunset", _http_date(self.sunset_ts)))
        docs = getattr(jsonp, "docs_url", None)
        docs_raw = _safe_header_value(docs) if docs else None
        if docs and docs_raw is None:
            log.warning("jsonp2cors: jsonp.docs_url is not a plain ASCII URL; no Link header is sent")
        if docs_raw:
            transition.append((b"link", b"<" + docs_raw + b'>; rel="deprecation"; type="text/html"'))
        self.jsonp_headers: tuple[tuple[bytes, bytes], ...] = tuple(transition)
        # What every wrapped response adds after the CORS headers, and the callback parameters as text.
        self.jsonp_tail: tuple[tuple[bytes, bytes], ...] = (CT_JS, NOSNIFF, *transition)
        # ... and everything added for a caller without Origin (script tags send none) to an app without Vary
        self.jsonp_plain_tail: tuple[tuple[bytes, bytes], ...] = (*self.jsonp_tail, *self.vary_only)
        self.param_names: dict[bytes, str] = {p: p.decode("utf-8") for p in self.callback_params}
        self.jsonp_enabled = bool(jsonp.enabled)
        # The adapters' JSONP fast path covers routes without a Referer check (see ASGIShim/WSGIShim).
        self.fast_jsonp = self.jsonp_enabled and not self.check_referer
        gone = b"/* Gone: JSONP for this endpoint was retired"
        if sunset is not None:
            gone += b" on " + sunset.isoformat().encode("ascii")
        gone += b". Load the data with fetch() and CORS instead"
        if docs_raw:
            gone += b"; see " + docs_raw.replace(b"*/", b"*%2F")
        self.gone_body = gone + b". */\n"

    def cors_parts(self, origin: str | None) -> tuple[tuple[tuple[bytes, bytes], ...], bytes | None]:
        """(CORS headers without Vary, the Vary value or None) for an actual request: the fast path's form."""
        if not self.cors:
            return (), None
        if origin is None or not self.matcher.matches(origin):
            return (), self.vary_value
        acao = b"*" if self.acao_any else origin.encode("latin-1")
        return ((b"access-control-allow-origin", acao), *self.allowed_static), self.vary_value

    def cors_parts_str(self, origin: str | None) -> tuple[tuple[tuple[str, str], ...], str | None]:
        """`cors_parts` with str headers, for WSGI."""
        if not self.cors:
            return (), None
        if origin is None or not self.matcher.matches(origin):
            return (), self.vary_value_str
        acao = "*" if self.acao_any else origin
        return (("Access-Control-Allow-Origin", acao), *self.allowed_static_str), self.vary_value_str

    def cors_headers(self, origin: str | None) -> tuple[tuple[bytes, bytes], ...]:
        """Headers for an actual (non-preflight) response to a request with this Origin (or none)."""
        if not self.cors:
            return ()
        if origin is None or not self.matcher.matches(origin):
            return self.vary_only
        acao = b"*" if self.acao_any else origin.encode("latin-1")
        return ((b"access-control-allow-origin", acao), *self.simple_static)


# ------------------------------------------------------------------------------------ request facts


class RequestFacts:
    """The parts of a request the shim looks at; adapters fill it from a scope or an environ.

    Only method, path, query, Origin and Sec-Fetch-Dest are read for every request; the other headers
    matter for preflights and JSONP only, so adapters fill them in just for those (`needs_all`).
    """

    acrm: str | None = None
    acrh: str | None = None
    acrpn: str | None = None
    referer: str | None = None
    sec_fetch_site: str | None = None
    user_agent: str | None = None
    host: str | None = None

    def __init__(self, method: str, path: str, query: bytes = b"", origin: str | None = None,
                 origin_lines: int | None = None, sec_fetch_dest: str | None = None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.origin = origin
        self.origin_lines = origin_lines if origin_lines is not None else (0 if origin is None else 1)
        self.sec_fetch_dest = sec_fetch_dest

    @classmethod
    def from_headers(cls, method: str, path: str, query: bytes | str,
                     headers: Iterable[tuple[bytes | str, bytes | str]]) -> RequestFacts:
        """Build facts from raw header pairs (any case; repeated lines kept apart, as on the wire)."""
        facts = cls(method, path, query.encode("latin-1") if isinstance(query, str) else query, None, 0)
        acrh: list[str] = []
        for raw_name, raw_value in headers:
            name = (raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name).lower()
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            facts.add(name, value, acrh)
        if acrh:
            facts.acrh = ",".join(acrh)
        return facts

    def add(self, name: str, value: str, acrh: list[str]) -> None:
        attr = _FACT_HEADERS.get(name)
        if attr is None:
            return
        if attr == "origin":
            self.origin_lines += 1
            self.origin = value
        elif attr == "acrh":
            acrh.append(value)
        else:
            setattr(self, attr, value)


_FACT_HEADERS: Final = {
    "origin": "origin",
    "access-control-request-method": "acrm",
    "access-control-request-headers": "acrh",
    "access-control-request-private-network": "acrpn",
    "referer": "referer",
    "sec-fetch-site": "sec_fetch_site",
    "sec-fetch-dest": "sec_fetch_dest",
    "user-agent": "user_agent",
    "host": "host",
}
FACT_HEADERS_BYTES: Final = {k.encode("ascii"): v for k, v in _FACT_HEADERS.items()}


# -------------------------------------------------------------------------------------- decisions


class Respond:
    """Answer now without calling the app (preflight, refused callback, after the sunset)."""

    __slots__ = ("body", "headers", "record", "status")

    def __init__(self, status: int, headers: Headers, body: bytes, record: UsageFields | None = None) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.record = record

    def __repr__(self) -> str:
        return f"Respond({self.status}, {self.headers!r}, {self.body!r})"


class Forward:
    """Call the app, then transform its response as `plan()` says."""

    __slots__ = ("callback", "callback_param", "core", "cors_headers", "facts", "method", "rules")

    def __init__(self, core: ShimCore, rules: RouteRules, facts: RequestFacts,
                 cors_headers: tuple[tuple[bytes, bytes], ...], callback: bytes | None = None,
                 callback_param: str | None = None) -> None:
        self.core = core
        self.rules = rules
        self.facts = facts
        self.cors_headers = cors_headers
        self.callback = callback
        self.callback_param = callback_param
        # A JSONP HEAD is served as a GET to the app so the wrapped length is known; the body is dropped.
        self.method = "GET" if callback is not None and facts.method == "HEAD" else facts.method

    @property
    def jsonp(self) -> bool:
        return self.callback is not None

    def plan(self) -> ResponsePlan:
        return ResponsePlan(self)

    def __repr__(self) -> str:
        return f"Forward(callback={self.callback!r}, cors_headers={self.cors_headers!r})"


Decision = Respond | Forward


class ResponsePlan:
    """One response's transformation. `start` -> SEND | BUFFER | PEEK; then `peek`/`finish`/`overflow`.

    `headers` is what to send when the body passes through untouched; it is only built when asked for.
    """

    __slots__ = ("_headers", "base", "content_encoding", "content_type", "extra", "fwd", "kind", "nosniff",
                 "status", "vary")

    def __init__(self, fwd: Forward) -> None:
        self.fwd = fwd
        self.status = 200
        self.base: Headers = []  # the app's headers minus Vary and any Access-Control-*
        self.extra: tuple[tuple[bytes, bytes], ...] = ()
        self._headers: Headers | None = None
        self.content_type: bytes | None = None
        self.content_encoding: bytes | None = None
        self.kind = K_OTHER
        self.nosniff = False
        self.vary: list[bytes] = []

    # -- head
    def start(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> int:
        """Look at the app's status and headers and say what the adapter must do next."""
        self.status = status
        self._headers = None
        out: Headers = []
        vary = self.vary
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-type":
                self.content_type = value
            elif lname == b"vary":
                vary.append(value)
                continue
            elif lname.startswith(b"access-control-"):
                continue  # the policy is the one source of CORS headers
            elif lname == b"content-encoding":
                self.content_encoding = value
            elif lname == b"x-content-type-options":
                self.nosniff = True
            out.append((name, value))
        self.base = out
        fwd = self.fwd
        kind = self.kind = media_kind(self.content_type)
        if fwd.callback is not None:
            fwd.core.record_response(fwd, status)
            self.extra = fwd.cors_headers + fwd.rules.jsonp_headers
            if status in _NO_BODY_STATUS or status < 200:
                return SEND
            if kind in (K_JSON, K_JS):
                return BUFFER
            return PEEK if kind == K_TEXT else SEND
        self.extra = fwd.cors_headers
        if not fwd.core.unwrap_legacy or status in _NO_BODY_STATUS or status < 200 or fwd.method == "HEAD":
            return SEND
        if kind in (K_OTHER, K_JSON) or fwd.facts.sec_fetch_dest == "script":
            # JSON needs nothing but nosniff; a script loader gets the script it asked for
            return SEND
        return PEEK

    @property
    def headers(self) -> Headers:
        """The app's headers plus ours, for a body that passes through untouched."""
        headers = self._headers
        if headers is None:
            headers = self.base
            if self.kind == K_JSON and not self.nosniff:
                headers.append(NOSNIFF)
            add_cors(headers, self.extra, self.vary)
            self._headers = headers
        return headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self._headers = value

    def _encoded(self) -> bool:
        ce = self.content_encoding
        return ce is not None and ce.strip().lower() not in (b"", b"identity")

    # -- body
    def peek(self, chunk: bytes) -> int:
        """Decide from the first body bytes whether the whole body must be looked at."""
        if self._encoded():
            return BUFFER  # cannot look inside without decoding; decide in finish()
        if could_be_legacy(chunk[:256]) and not looks_like_json(chunk[:256]):
            return BUFFER
        return SEND

    def overflow(self) -> Headers:
        """The body outgrew MAX_BODY: headers to send it through untouched."""
        self.fwd.core.note(f"body larger than {self.fwd.core.max_body} bytes; passed through unwrapped")
        return self.headers

    def finish(self, body: bytes) -> tuple[Headers, bytes]:
        """Headers and body to send for a fully buffered response (wrapped, unwrapped or untouched)."""
        fwd = self.fwd
        core = fwd.core
        decoded = body
        if self.content_encoding is not None and self._encoded():
            result = decode_body(body, self.content_encoding, core.max_body)
            if isinstance(result, str):
                core.note(result + "; passed through unwrapped")
                return self.headers, body
            decoded = result
        text = decoded
        if self.content_type and self.kind != K_OTHER:
            charset = _charset(self.content_type)
            if charset not in (None, "utf-8", "utf8", "us-ascii", "ascii"):
                try:
                    text = decoded.decode(charset).encode("utf-8")
                except (LookupError, UnicodeDecodeError):
                    core.note(f"charset {charset} cannot be decoded; passed through unwrapped")
                    return self.headers, body
        if text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]
        if fwd.callback is not None:
            return self._finish_jsonp(body, text)
        legacy = split_legacy(text) if could_be_legacy(text[:256]) else None
        if legacy is None:
            return self.headers, body
        return self._replace(CT_JSON, legacy[1], (NOSNIFF,), vary_dest=True)

    def _finish_jsonp(self, body: bytes, text: bytes) -> tuple[Headers, bytes]:
        callback = self.fwd.callback
        assert callback is not None
        if self.kind == K_JSON and looks_like_json(text[:256]):
            return self._replace(CT_JS, wrap_jsonp(callback, text.strip(_WS)), (NOSNIFF,))
        legacy = split_legacy(text) if could_be_legacy(text[:256]) else None
        if legacy is not None:
            return self._replace(CT_JS, wrap_jsonp(callback, legacy[1]), (NOSNIFF,))
        if self.kind == K_JSON:
            self.fwd.core.note("JSON body did not start like JSON; passed through unwrapped")
        elif self.kind == K_JS:
            self.fwd.core.note("script body is not name(JSON) padding; passed through as the app sent it")
        return self.headers, body

    def _replace(self, content_type: tuple[bytes, bytes], body: bytes,
                 extra: tuple[tuple[bytes, bytes], ...], *, vary_dest: bool = False) -> tuple[Headers, bytes]:
        out: Headers = [pair for pair in self.base if pair[0].lower() not in _REPLACED]
        out.append(content_type)
        out.extend(extra)
        out.append((b"content-length", b"%d" % len(body)))
        add_cors(out, self.extra, self.vary, (b"Sec-Fetch-Dest",) if vary_dest else ())
        return out, body


class _Names(Generic[AnyStr]):
    """Header names and values in one string type, so the fast path runs on bytes (ASGI) or str (WSGI)."""

    def __init__(self, content_type: AnyStr, vary: AnyStr, cors_prefix: AnyStr, nosniff_name: AnyStr,
                 nosniff: tuple[AnyStr, AnyStr], comma: AnyStr, star: AnyStr) -> None:
        self.content_type: AnyStr = content_type
        self.vary: AnyStr = vary
        self.cors_prefix: AnyStr = cors_prefix
        self.nosniff_name: AnyStr = nosniff_name
        self.nosniff: tuple[AnyStr, AnyStr] = nosniff
        self.comma: AnyStr = comma
        self.star: AnyStr = star


BYTES_NAMES: Final = _Names(b"content-type", b"vary", b"access-control-", b"x-content-type-options", NOSNIFF,
                            b", ", b"*")
STR_NAMES: Final = _Names("content-type", "vary", "access-control-", "x-content-type-options",
                          ("X-Content-Type-Options", "nosniff"), ", ", "*")


def pass_headers(names: _Names[AnyStr], headers: Iterable[tuple[AnyStr, AnyStr]],
                 extra: tuple[tuple[AnyStr, AnyStr], ...], vary: AnyStr | None, *, unwrap: bool,
                 status: int, method: str, dest: str | None) -> list[tuple[AnyStr, AnyStr]] | None:
    """The fast path for a request without a callback: the headers to send with the body untouched, or
    None when the body may be legacy padding to unwrap (then the full `ResponsePlan` takes over).

    Drops the app's own Access-Control-* headers, adds nosniff to JSON, adds `extra` (CORS) and merges Vary.
    """
    out: list[tuple[AnyStr, AnyStr]] = []
    kind = K_OTHER
    app_vary: AnyStr | None = None
    nosniff = False
    for pair in headers:
        name = pair[0].lower()
        if name == names.content_type:
            kind = media_kind(pair[1])
        elif name == names.vary:
            app_vary = pair[1] if app_vary is None else app_vary + names.comma + pair[1]
            continue
        elif name.startswith(names.cors_prefix):
            continue
        elif name == names.nosniff_name:
            nosniff = True
        out.append(pair)
    if kind == K_JSON:
        if not nosniff:
            out.append(names.nosniff)
    elif (kind != K_OTHER and unwrap and dest != "script" and method != "HEAD" and status >= 200
          and status not in _NO_BODY_STATUS):
        return None
    if extra:
        out.extend(extra)
    if app_vary is not None:
        out.append((names.vary, app_vary if vary is None else _merge_vary_any(names, app_vary, vary)))
    elif vary is not None:
        out.append((names.vary, vary))
    return out


def _merge_vary_any(names: _Names[AnyStr], app: AnyStr, ours: AnyStr) -> AnyStr:
    seen: dict[AnyStr, AnyStr] = {}
    for value in (app, ours):
        for item in value.split(names.comma.strip()):
            token = item.strip()
            if token:
                seen.setdefault(token.lower(), token)
    if names.star in seen:
        return names.star
    return names.comma.join(seen.values())


_REPLACED: Final = frozenset({b"content-type", b"content-length", b"content-encoding", b"transfer-encoding",
                              b"x-content-type-options", b"vary", b"content-md5", b"digest",
                              b"content-digest", b"repr-digest", b"accept-ranges"})


_PLAIN_JSON: dict[bytes, bool] = {}


def jsonp_fast_head(status: int, headers: Iterable[tuple[bytes, bytes]]) -> tuple[Headers, bytes | None] | None:
    """The JSONP fast path, head: for a plain UTF-8 JSON response with a body and no Content-Encoding,
    the app's headers that stay (and its Vary); None sends the response down the general `ResponsePlan`."""
    if status in _NO_BODY_STATUS or status < 200:
        return None
    out: Headers = []
    kind = K_OTHER
    vary: bytes | None = None
    for pair in headers:
        name = pair[0].lower()
        if name in _REPLACED:
            if name == b"content-type":
                plain = _PLAIN_JSON.get(pair[1])
                if plain is None:
                    plain = media_kind(pair[1]) == K_JSON and _charset(pair[1]) in (
                        None, "utf-8", "utf8", "us-ascii", "ascii")
                    if len(_PLAIN_JSON) < 256:
                        _PLAIN_JSON[pair[1]] = plain
                if not plain:
                    return None
                kind = K_JSON
            elif name == b"content-encoding" and pair[1].strip().lower() not in (b"", b"identity"):
                return None
            elif name == b"vary":
                vary = pair[1] if vary is None else vary + b", " + pair[1]
            continue
        if not name.startswith(b"access-control-"):
            out.append(pair)
    if kind != K_JSON:
        return None
    return out, vary


def wrappable_json(body: bytes, max_body: int) -> bool:
    """Does this whole body look like a JSON text the JSONP fast paths may wrap (not empty, not too big)?"""
    return bool(body) and len(body) <= max_body and (body[0] in _JSON_LEAD or looks_like_json(body[:64]))


def jsonp_headers(rules: RouteRules, cors: tuple[tuple[bytes, bytes], ...], base: Headers,
                  app_vary: bytes | None, length: int) -> Headers:
    """The head of a wrapped response: `base` (the app's headers that stay, from `jsonp_fast_head`) plus the
    CORS headers, the JSONP ones, one merged Vary and the new Content-Length. `base` becomes the list."""
    if app_vary is None and cors is rules.vary_only:  # the usual: no Origin (script tags), no Vary from the app
        base.extend(rules.jsonp_plain_tail)
    else:
        base.extend(rules.jsonp_tail)
        add_cors(base, cors, [] if app_vary is None else [app_vary])
    base.append((b"content-length", b"%d" % length))
    return base


def jsonp_callback(core: ShimCore, rules: RouteRules, query: bytes) -> tuple[bytes, bytes, float] | None:
    """(parameter, callback, now) for the adapters' JSONP fast paths: one valid callback, no Referer check
    on the route and before its sunset. None leaves the request to `decide()`, which also words refusals."""
    if not rules.fast_jsonp:
        return None
    found = find_callback(query, rules.callback_params)
    if found is None:
        return None
    param, value = found
    if param is None or not value or not validate_callback(value, rules.max_callback_length):
        return None
    now = core.now()
    if rules.sunset_ts is not None and now >= rules.sunset_ts:
        return None
    return param, value, now


def jsonp_fast_body(fwd: Forward, status: int, base: Headers, app_vary: bytes | None,
                    body: bytes) -> tuple[Headers, bytes] | None:
    """The general adapters' JSONP fast step, body: (headers, wrapped body) when the body starts like JSON
    (else None: the general plan decides), with the usage record emitted. `base` becomes the header list."""
    callback = fwd.callback
    core = fwd.core
    if callback is None or not wrappable_json(body, core.max_body):
        return None
    out = wrap_jsonp(callback, body.strip(b" \t\r\n"))
    headers = jsonp_headers(fwd.rules, fwd.cors_headers, base, app_vary, len(out))
    sink = core.sink
    if sink is not None and fwd.callback_param is not None:
        facts = fwd.facts
        sink.emit_fields((core.now(), facts.method, facts.path, fwd.callback_param, callback,
                          facts.referer, facts.sec_fetch_site, facts.sec_fetch_dest, facts.user_agent, status))
    return headers, out


def add_cors(out: Headers, cors: Iterable[tuple[bytes, bytes]], vary: list[bytes],
             more_vary: tuple[bytes, ...] = ()) -> Headers:
    """Append CORS headers to `out`: their Vary values join `vary` (the app's), then `more_vary`, and go out as
    one merged Vary header at the end."""
    for pair in cors:
        if pair[0] == b"vary":
            vary.append(pair[1])
        else:
            out.append(pair)
    vary.extend(more_vary)
    if vary:
        out.append((b"vary", vary[0] if len(vary) == 1 else merge_vary(vary)))
    return out


def merge_vary(values: list[bytes]) -> bytes:
    """One Vary value from the app's and ours, without duplicates (case-insensitive); `*` wins."""
    seen: dict[bytes, bytes] = {}
    for value in values:
        for item in value.split(b","):
            token = item.strip()
            if token:
                seen.setdefault(token.lower(), token)
    if b"*" in seen:
        return b"*"
    return b", ".join(seen.values())


# ------------------------------------------------------------------------------------------- core


class ShimCore:
    """The shim's decisions for one policy. Thread-safe: per-request state lives in Decision/ResponsePlan."""

    def __init__(self, policy: Policy, *, usage: Any = None, clock: Clock | None = None,
                 max_body: int = MAX_BODY, max_acrh: int = MAX_ACRH, unwrap_legacy: bool = True,
                 no_jsonp: Iterable[str] = ()) -> None:
        self.policy = policy
        # Path prefixes where a `callback` parameter means something else (a login redirect...).
        self.no_jsonp = tuple(p.rstrip("/") for p in no_jsonp)
        self.sink: BaseSink | None = make_sink(usage)
        self.clock: Clock = clock or time.time
        self.max_body = max_body
        self.max_acrh = max_acrh
        self.unwrap_legacy = unwrap_legacy
        # Without a `jsonp.deprecation` date the Deprecation header says "since the day this shim started".
        today = dt.datetime.fromtimestamp(self.now(), dt.timezone.utc).date()
        self.deprecation_default = _epoch(today)
        self._by_route: dict[Any, RouteRules] = {}
        self._by_path: dict[str, RouteRules] = {}
        self._notes: set[str] = set()
        top = self.rules_for("/")
        for route in policy.routes:
            self.rules_for(route.path)
        # The callback parameter names are top-level settings; any of them in a query sends us the slow way.
        self.param_needles = top.param_needles

    # -- helpers
    def now(self) -> float:
        if self.clock is time.time:
            return time.time()
        value = self.clock()
        return value.timestamp() if isinstance(value, dt.datetime) else float(value)

    def note(self, reason: str) -> None:
        """Log why a response passed through unchanged: once as a warning, then at debug level."""
        if reason in self._notes:
            log.debug("jsonp2cors: %s", reason)
            return
        if len(self._notes) < 1000:
            self._notes.add(reason)
        log.warning("jsonp2cors: %s (further occurrences are logged at debug level)", reason)

    def rules_for(self, path: str) -> RouteRules:
        rules = self._by_path.get(path)
        if rules is not None:
            return rules
        eff = self.policy.for_path(path)
        key = eff.route
        rules = self._by_route.get(key)
        if rules is None:
            rules = RouteRules(eff, deprecation_default=self.deprecation_default)
            self._by_route[key] = rules
        if len(self._by_path) >= PATH_CACHE_SIZE:
            self._by_path.clear()
        self._by_path[path] = rules
        return rules

    def needs_look(self, query: bytes) -> bool:
        """False when the raw query cannot carry a callback parameter (the fast path)."""
        if not query:
            return False
        if b"%" in query:
            return True
        for needle in self.param_needles:  # noqa: SIM110 - a plain loop, no generator, on every request
            if needle in query:
                return True
        return False

    # -- the decision
    def decide(self, facts: RequestFacts, look: bool | None = None) -> Decision:
        """The decision for one request; `look` is `needs_look(facts.query)` when the adapter knows it."""
        rules = self.rules_for(facts.path)
        method = facts.method
        origin = facts.origin if facts.origin_lines <= 1 else None
        if method == "OPTIONS" and facts.acrm is not None and facts.origin_lines:
            return self._preflight(rules, facts)
        cors = rules.cors_headers(origin) if facts.origin_lines <= 1 else rules.vary_only
        if look is None:
            look = self.needs_look(facts.query)
        if (method == "GET" or method == "HEAD") and look and rules.jsonp_enabled and not (
                self.no_jsonp and _under(facts.path, self.no_jsonp)):
            found = find_callback(facts.query, rules.callback_params)
            if found is not None:
                return self._jsonp(rules, facts, cors, *found)
        return Forward(self, rules, facts, cors)

    def _jsonp(self, rules: RouteRules, facts: RequestFacts, cors: tuple[tuple[bytes, bytes], ...],
               param: bytes | None, value: bytes | None) -> Decision:
        if param is None:
            return self._refuse(400, MSG_DUP_CALLBACK, cors, facts, rules.jsonp_headers)
        if value == b"":
            return Forward(self, rules, facts, cors)  # empty value: a plain request (as Express does)
        if value is None or not validate_callback(value, rules.max_callback_length):
            return self._refuse(400, MSG_BAD_CALLBACK, cors, facts, rules.jsonp_headers)
        param_s = param.decode("utf-8")
        if rules.sunset_ts is not None and self.now() >= rules.sunset_ts:
            return self._gone(rules, facts, cors, param_s, value)
        if rules.check_referer and not self._referer_ok(rules, facts):
            headers: Headers = [CT_TEXT, NOSNIFF, *rules.jsonp_headers]
            return self._respond(403, headers, MSG_REFERER, cors, facts,
                                 self._record(facts, param_s, value, 403))
        return Forward(self, rules, facts, cors, value, param_s)

    def _referer_ok(self, rules: RouteRules, facts: RequestFacts) -> bool:
        site = facts.sec_fetch_site
        if site == "same-origin" or site == "none":
            return True  # only browsers send Sec-Fetch-Site, and pages cannot forge it
        origin = referer_origin(facts.referer)
        if origin is None:
            return False
        if rules.matcher.matches(origin):
            return True
        host = facts.host
        if host and site is None:  # no Fetch Metadata: same origin when the Referer names this host
            try:
                netloc = urlsplit(facts.referer or "").netloc.lower()
            except ValueError:
                return False
            return netloc == host.lower()
        return False

    def _gone(self, rules: RouteRules, facts: RequestFacts, cors: tuple[tuple[bytes, bytes], ...],
              param: str, value: bytes) -> Respond:
        headers: Headers = [CT_JS, NOSNIFF, *rules.jsonp_headers]
        record = self._record(facts, param, value, 410)
        return self._respond(410, headers, rules.gone_body, cors, facts, record)

    def _refuse(self, status: int, message: bytes, cors: tuple[tuple[bytes, bytes], ...],
                facts: RequestFacts, extra: tuple[tuple[bytes, bytes], ...] = ()) -> Respond:
        return self._respond(status, [CT_TEXT, NOSNIFF, *extra], message, cors, facts)

    def _respond(self, status: int, headers: Headers, body: bytes, cors: Iterable[tuple[bytes, bytes]],
                 facts: RequestFacts, record: UsageFields | None = None) -> Respond:
        add_cors(headers, cors, [])
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        if record is not None and self.sink is not None:
            self.sink.emit_fields(record)
        return Respond(status, headers, b"" if facts.method == "HEAD" else body, record)

    def _record(self, facts: RequestFacts, param: str, callback: bytes, status: int) -> UsageFields:
        return (self.now(), facts.method, facts.path, param, callback.decode("ascii"), facts.referer,
                facts.sec_fetch_site, facts.sec_fetch_dest, facts.user_agent, status)

    def record_response(self, fwd: Forward, status: int) -> None:
        """Emit the usage record for a forwarded JSONP request once its status is known."""
        if self.sink is not None and fwd.callback is not None and fwd.callback_param is not None:
            self.sink.emit_fields(self._record(fwd.facts, fwd.callback_param, fwd.callback, status))

    # -- preflight
    def _preflight(self, rules: RouteRules, facts: RequestFacts) -> Respond:
        vary = [b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
        if facts.acrpn is not None:
            vary.append(b"Access-Control-Request-Private-Network")
        vary_h = (b"vary", b", ".join(vary))
        origin = facts.origin
        if facts.origin_lines != 1 or origin is None or not rules.cors or not rules.matcher.matches(origin):
            return self._preflight_refused(403, MSG_PF_ORIGIN, vary_h)
        eff = rules.effective
        method = (facts.acrm or "").strip()
        if not _TOKEN_RE.fullmatch(method.encode("latin-1")) or not eff.allows_method(method):
            return self._preflight_refused(403, MSG_PF_METHOD, vary_h)
        acah: bytes | None = None
        raw = facts.acrh
        if raw is not None:
            if len(raw) > self.max_acrh:
                return self._preflight_refused(400, MSG_PF_HEADERS_BAD, vary_h)
            names: list[str] = []
            for item in raw.split(","):
                name = item.strip(" \t")
                if not name:
                    continue
                if not _TOKEN_RE.fullmatch(name.encode("latin-1")):
                    return self._preflight_refused(400, MSG_PF_HEADERS_BAD, vary_h)
                name = name.lower()
                if name not in names:
                    names.append(name)
            if not eff.allows_headers(names):
                return self._preflight_refused(403, MSG_PF_HEADERS, vary_h)
            if names:
                acah = ", ".join(names).encode("latin-1")
        pna = facts.acrpn is not None and facts.acrpn.strip().lower() == "true"
        if pna and not rules.private_network:
            return self._preflight_refused(403, MSG_PF_PNA, vary_h)
        headers: Headers = [
            (b"access-control-allow-origin", b"*" if rules.acao_any else origin.encode("latin-1")),
            *rules.preflight_static,
        ]
        if acah is not None:
            headers.append((b"access-control-allow-headers", acah))
        if pna:
            headers.append((b"access-control-allow-private-network", b"true"))
        headers.append(vary_h)
        return Respond(204, headers, b"")

    @staticmethod
    def _preflight_refused(status: int, message: bytes, vary: tuple[bytes, bytes]) -> Respond:
        # No allow headers at all: the browser then reports the failure on its side too.
        return Respond(status, [CT_TEXT, NOSNIFF, vary, (b"content-length", b"%d" % len(message))], message)

    # -- errors
    def error_response(self, fwd: Forward) -> Respond:
        """A 500 for an app that raised before answering, still carrying the CORS headers."""
        headers: Headers = [CT_TEXT, NOSNIFF]
        return self._respond(500, headers, MSG_ERROR, fwd.cors_headers, fwd.facts)

    @staticmethod
    def error_response_parts(extra: tuple[tuple[bytes, bytes], ...], vary: bytes | None, method: str) -> Respond:
        """`error_response` for the fast path, from `RouteRules.cors_parts`."""
        headers: Headers = [CT_TEXT, NOSNIFF, *extra]
        if vary is not None:
            headers.append((b"vary", vary))
        headers.append((b"content-length", b"%d" % len(MSG_ERROR)))
        return Respond(500, headers, b"" if method == "HEAD" else MSG_ERROR)

    def flush(self) -> None:
        """Write pending usage records now (the file sink otherwise writes every half second)."""
        flush = getattr(self.sink, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


# --------------------------------------------------------------------------------------- the query


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(not prefix or path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def _unquote_plus(raw: bytes) -> bytes:
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw


def find_callback(query: bytes, params: tuple[bytes, ...]) -> tuple[bytes | None, bytes | None] | None:
    """Find the callback parameter in a raw query string.

    Returns None when there is none, `(param, value)` for exactly one (value percent-decoded once; None when
    it is not UTF-8... or empty bytes for `?callback=` / `?callback`), and `(None, None)` when there are
    several (`?callback=a&callback=b`, `?callback=a&jsonp=b`) since frameworks disagree on which one wins.
    Pairs are split on `&`; a pair that also contains `;` is split on it too (some frameworks, e.g.
    Bottle, treat `;` as a separator), and each reading counts, so a disagreement is refused as a duplicate.
    """
    found: tuple[bytes, bytes] | None = None
    count = 0
    if b"&" not in query and b";" not in query and b"%" not in query and b"+" not in query:
        key, _, value = query.partition(b"=")  # `?callback=fn`, the most usual JSONP query of all
        if key not in params:
            return None
        if value.isascii():
            return (key, value)
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return (key, None)
        return (key, value)
    if b";" not in query and b"%" not in query and b"+" not in query:  # the usual, plain query
        for piece in (query.split(b"&") if b"&" in query else (query,)):
            key, _, value = piece.partition(b"=")
            if key in params:
                count += 1
                found = (key, value)
        if found is None:
            return None
        if count > 1:
            return (None, None)
        if found[1].isascii():
            return found
        key, value = found
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return (key, None)
        return found
    semicolons = b";" in query
    for piece in query.split(b"&"):
        key, _, value = piece.partition(b"=")
        if b"%" in key or b"+" in key:
            key = _unquote_plus(key)
        if key in params:
            count += 1
            found = (key, value)
        if semicolons and b";" in piece:
            for view in piece.split(b";"):
                key, _, value = view.partition(b"=")
                if b"%" in key or b"+" in key:
                    key = _unquote_plus(key)
                if key in params:
                    count += 1
                    found = (key, value)
    if found is None:
        return None
    if count > 1:
        return (None, None)
    key, value = found
    decoded = _unquote_plus(value)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return (key, None)
    return (key, decoded)
