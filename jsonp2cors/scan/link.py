"""URLs as consumers write them (template holes and all), and linking consumers to the endpoints they call.

A consumer URL may hold template holes (`{{ api_base }}`, `{% url 'x' %}`, `<?php ... ?>`, `<% ... %>`,
`${id}`, or `{expr}` for a JavaScript expression the scan could not resolve). Holes are kept in the text
shown to the user; `parse_url` masks them so that a `?` inside `<?php` is not taken for the query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from jsonp2cors.findings import Consumer, Endpoint, EndpointRef

_HOLE_RE = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\$\{[^}]*\}|<\?.*?(?:\?>|$)|<%.*?(?:%>|$)|\{[^{}]*\}",
    re.DOTALL,
)
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_MASK = "\x00"
_PATH_PARAM = re.compile(r":[A-Za-z_]\w*")  # `/things/:id` in $resource / Express-style client URLs


@dataclass(frozen=True)
class UrlParts:
    """A URL split tolerantly; `host`/`origin` are None when unknown (relative, templated, ...)."""

    text: str
    scheme: str | None
    host: str | None  # lower-case, no port; also set for protocol-relative URLs
    origin: str | None  # scheme://host[:port] with the default port elided
    path: str  # may hold holes
    query: tuple[tuple[str, str], ...]
    templated_prefix: bool  # the text starts with a hole (the real prefix is unknown)
    has_holes: bool


def mask_holes(text: str) -> str:
    """`text` with every template hole replaced by NUL characters of the same length."""
    return _HOLE_RE.sub(lambda m: _MASK * len(m.group(0)), text)


def parse_url(text: str) -> UrlParts:
    """Split a consumer URL into origin, path and query without choking on template syntax."""
    text = text.strip()
    masked = mask_holes(text)
    scheme: str | None = None
    host: str | None = None
    origin: str | None = None
    rest_start = 0
    m = _SCHEME_RE.match(masked)
    if m and m.group(2):
        scheme = m.group(1).lower()
        rest_start = m.end()
    elif masked.startswith("//"):
        rest_start = 2
    if rest_start:
        end = len(masked)
        for sep in "/?#":
            i = masked.find(sep, rest_start)
            if i != -1:
                end = min(end, i)
        authority = masked[rest_start:end]
        if _MASK not in authority and authority:
            hostport = authority.rsplit("@", 1)[-1].lower()
            port: int | None = None
            if hostport.startswith("["):
                close = hostport.find("]")
                host, tail = hostport[: close + 1], hostport[close + 1 :]
                if tail.startswith(":") and tail[1:].isdigit():
                    port = int(tail[1:])
            elif ":" in hostport:
                host, _, p = hostport.partition(":")
                port = int(p) if p.isdigit() else None
            else:
                host = hostport
            if scheme and host:
                if port is not None and _DEFAULT_PORTS.get(scheme) == port:
                    port = None
                origin = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
        rest_start = end
    qpos = masked.find("?", rest_start)
    first_hole = masked.find(_MASK)
    if qpos == -1 and first_hole != -1:
        # `url + "&callback=" + name`: the hole holds the start of the query
        qpos = masked.find("&", first_hole)
    hpos = masked.find("#", rest_start)
    path_end = min(x for x in (qpos, hpos, len(masked)) if x != -1)
    path = text[rest_start:path_end]
    query: list[tuple[str, str]] = []
    if qpos != -1 and (hpos == -1 or qpos < hpos):
        qend = hpos if hpos > qpos else len(masked)
        pos = qpos + 1
        for piece in masked[qpos + 1 : qend].split("&"):
            raw = text[pos : pos + len(piece)]
            pos += len(piece) + 1
            if piece.startswith("amp;"):  # `&amp;` in raw markup
                piece, raw = piece[4:], raw[4:]
            key, eq, _ = piece.partition("=")
            query.append((raw[: len(key)], raw[len(key) + 1 :] if eq else ""))
    return UrlParts(
        text=text,
        scheme=scheme,
        host=host,
        origin=origin,
        path=path,
        query=tuple(query),
        templated_prefix=masked.startswith(_MASK),
        has_holes=_MASK in masked,
    )


def callback_in_query(parts: UrlParts, params: Sequence[str]) -> tuple[str, str] | None:
    """The first (key, value) whose key is a callback parameter (case-insensitive), or None."""
    wanted = {p.lower() for p in params}
    for key, value in parts.query:
        if key.lower() in wanted:
            return key, value
    return None


def jquery_placeholder(parts: UrlParts) -> str | None:
    """The query key that jQuery fills with its generated callback (`key=?`), or None.

    jQuery switches a request to JSONP when the URL holds `=?` before `&` or at the end (or `??`).
    """
    for key, value in parts.query:
        if value == "?":
            return key
    if "??" in mask_holes(parts.text):
        return "callback"
    return None


# ------------------------------------------------------------------------------------------------ linking

_ANY = re.compile(r"[^/]+")
_REST = re.compile(r".*")  # a segment that swallows the rest of the path (`<path:p>`, `{p:path}`, `.*`)


@dataclass(frozen=True)
class _Seg:
    literal: str | None  # exact text, or None for a pattern
    pattern: re.Pattern[str] | None
    rest: bool = False


def _is_regex_route(route: str) -> bool:
    outside = _BRACES.sub("", route)  # `{id:\d+}` is a placeholder with a pattern, not a regex route
    return route.startswith("^") or route.endswith("$") or "(" in outside or "\\" in outside


_BRACES = re.compile(r"\{[^{}]*\}")
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>|\{\w+(?::([^{}]+))?\}|^:\w+")
_CONVERTERS = {"int": r"\d+", "float": r"\d+(?:\.\d+)?"}  # Flask/Werkzeug and Django path converters


def _route_segments(route: str) -> list[_Seg]:
    regex = _is_regex_route(route)
    text = route
    if regex:
        text = text.removeprefix("^").removesuffix("$").removesuffix("/?")
        text = text.replace("\\/", "/").replace("\\.", ".").replace("\\-", "-")
    segs: list[_Seg] = []
    for raw in (s for s in text.split("/") if s):
        if _is_rest_segment(raw):
            segs.append(_Seg(None, _REST, rest=True))
        elif regex and re.search(r"[()\[\]\\*+?|{}]", raw):
            segs.append(_Seg(None, _compile(raw.removeprefix("^"))))
        elif not regex and _PLACEHOLDER.search(raw):
            segs.append(_Seg(None, _compile(_placeholder_pattern(raw))))
        else:
            segs.append(_Seg(raw.removeprefix("^") if regex else raw, None))
    return segs


def _placeholder_pattern(raw: str) -> str:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(raw):
        out.append(re.escape(raw[pos : m.start()]))
        if m.group(1):
            out.append(_CONVERTERS.get(m.group(1), "[^/]+"))
        elif m.group(2):
            out.append(f"(?:{m.group(2)})")
        else:
            out.append("[^/]+")
        pos = m.end()
    out.append(re.escape(raw[pos:]))
    return "".join(out)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        return _ANY


def _is_rest_segment(raw: str) -> bool:
    return (
        raw in ("*", "**", ".*", ".+", "(.*)", "(.+)")
        or raw.startswith(("<path:", "*", "(?P<path>"))
        or re.fullmatch(r"\{\w+(?::(?:path|\.\*|\.\+)|[*+])\}|\(\?P<\w+>\.[*+]\)", raw) is not None
    )


def _consumer_segments(path: str) -> list[str | None]:
    """Path segments; None stands for a segment that holds a template hole (matches anything)."""
    masked = mask_holes(path)
    out: list[str | None] = []
    pos = 0
    for piece in masked.split("/"):
        raw = path[pos : pos + len(piece)]
        pos += len(piece) + 1
        if not piece:
            continue
        out.append(None if _MASK in piece or _PATH_PARAM.fullmatch(raw) else raw)
    return out


def _match_score(route: list[_Seg], path: list[str | None], templated_prefix: bool) -> int | None:
    """How well a consumer path matches a route (higher is better), or None when it does not."""
    if any(s.rest for s in route):
        idx = next(i for i, s in enumerate(route) if s.rest)
        head, tail = route[:idx], route[idx + 1 :]
        if len(path) < len(head) + len(tail) + 1:
            return None
        pairs = list(zip(head, path[: len(head)], strict=True))
        if tail:
            pairs += list(zip(tail, path[-len(tail) :], strict=True))
    elif templated_prefix:
        if not path or len(path) > len(route):
            return None
        pairs = list(zip(route[-len(path) :], path, strict=True))
    else:
        if len(path) != len(route):
            return None
        pairs = list(zip(route, path, strict=True))
    score = 0
    literal_hits = 0
    for seg, got in pairs:
        if got is None:
            continue  # a hole matches anything, but proves nothing
        if seg.literal is not None:
            if seg.literal != got:
                return None
            score += 3
            literal_hits += 1
        elif seg.pattern is not None:
            if not seg.pattern.fullmatch(got):
                return None
            score += 1
    return score if literal_hits else None


# Reversed URL names in templates, and the framework whose endpoints they can name.
_URL_NAME_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"url_for\(\s*['\"]([\w.:-]+)['\"]"), "flask"),
    (re.compile(r"\{%\s*url\s+['\"]([\w.:-]+)['\"]"), "django"),
    (re.compile(r"route_(?:path|url)\(\s*['\"]([\w.:-]+)['\"]"), "pyramid"),
    (re.compile(r"reverse_url\(\s*['\"]([\w.:-]+)['\"]"), "tornado"),
    (re.compile(r"get_url\(\s*['\"]([\w.:-]+)['\"]"), "bottle"),
)


def _named_route(url: str) -> tuple[str, str] | None:
    """(function name, framework) of a reversed URL such as `{{ url_for('api.weather') }}`."""
    for rx, framework in _URL_NAME_RES:
        m = rx.search(url)
        if m:
            return re.split(r"[.:]", m.group(1))[-1], framework
    return None


def _common_dir(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/")[:-1], b.split("/")[:-1], strict=False):
        if x != y:
            break
        n += 1
    return n


def find_endpoint(consumer: Consumer, endpoints: Sequence[Endpoint]) -> Endpoint | None:
    """The endpoint the consumer's URL points at, or None (loaders and pathless URLs never link)."""
    if not consumer.url or not consumer.migratable:
        return None
    parts = parse_url(consumer.url)
    ranked: list[tuple[tuple[int, int], Endpoint]] = []
    path = _consumer_segments(parts.path)
    for ep in endpoints:
        scores = [s for s in (_match_score(_route_segments(r), path, parts.templated_prefix) for r in ep.all_routes)
                  if s is not None]
        if scores:
            ranked.append(((max(scores), _common_dir(ep.file, consumer.file)), ep))
    if not ranked:
        named = _named_route(consumer.url)
        if named is None:
            return None
        ranked = [((0, _common_dir(ep.file, consumer.file)), ep) for ep in endpoints
                  if ep.function == named[0] and ep.framework == named[1]]
        if not ranked:
            return None
    best = max(key for key, _ in ranked)
    winners = {(ep.file, ep.line): ep for key, ep in ranked if key == best}
    # Equally good matches in different places (two apps serving /api/weather): do not guess.
    return next(iter(winners.values())) if len(winners) == 1 else None


def link_consumers(endpoints: Sequence[Endpoint], consumers: Sequence[Consumer]) -> tuple[Consumer, ...]:
    """Return the consumers with `endpoint` (and `credentials`) filled in where a route matches."""
    handlers = [ep for ep in endpoints if ep.role != "helper"] or list(endpoints)
    out: list[Consumer] = []
    for consumer in consumers:
        ep = find_endpoint(consumer, handlers)
        if ep is None:
            out.append(consumer)
        else:
            out.append(replace(consumer, endpoint=EndpointRef(ep.file, ep.line), credentials=ep.credentials))
    return tuple(out)
