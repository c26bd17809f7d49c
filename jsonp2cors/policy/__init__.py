"""The CORS policy (`cors-policy.toml`, contract 2): settings, per-route overrides, TOML in and out.

`Policy.for_path(path)` gives the `EffectivePolicy` for a request path: the longest `[[route]]` prefix wins.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from jsonp2cors.policy.origin import (
    NULL_ORIGIN,
    Origin,
    OriginError,
    OriginMatcher,
    OriginPattern,
    parse_allow_entry,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = [
    "CORS_SAFELISTED_METHODS",
    "FILE_VERSION",
    "NULL_ORIGIN",
    "CORSSettings",
    "EffectivePolicy",
    "JSONPSettings",
    "Origin",
    "OriginError",
    "OriginMatcher",
    "OriginPattern",
    "Policy",
    "PolicyError",
    "Route",
    "parse_allow_entry",
]

FILE_VERSION = 1
# Methods a browser sends cross-origin without a preflight (Fetch standard, "CORS-safelisted method").
CORS_SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_PARAM_RE = re.compile(r"[A-Za-z0-9_.\-\[\]$]+\Z")


class PolicyError(ValueError):
    """An invalid policy value; the message names the TOML key and says what was expected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.detail = message

    def under(self, prefix: str) -> PolicyError:
        """The same error with its key moved under `prefix` (e.g. `route[2]`)."""
        key = self.key
        for head in ("route.", "route"):
            if key.startswith(head):
                key = key[len(head):]
                break
        return PolicyError(f"{prefix}{'.' if key and not key.startswith('.') else ''}{key.lstrip('.')}",
                           self.detail)


def _expected(key: str, what: str, got: object) -> PolicyError:
    return PolicyError(key, f"expected {what}, got {got!r}")


# ------------------------------------------------------------------------------------ value checks


def _str_list(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _expected(key, "a list of strings", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _expected(f"{key}[{i}]", "a string", item)
    return tuple(value)


def _origins(key: str, value: object) -> tuple[str, ...]:
    out: list[str] = []
    for i, entry in enumerate(_str_list(key, value)):
        if entry == "*":
            text = "*"
        else:
            try:
                text = str(parse_allow_entry(entry))
            except OriginError as exc:
                raise PolicyError(f"{key}[{i}]", f"expected an origin such as 'https://app.example.com' or a "
                                  f"pattern 'https://*.example.com': {exc}") from exc
        if text not in out:
            out.append(text)
    return tuple(out)


def _methods(key: str, value: object) -> tuple[str, ...]:
    out: list[str] = []
    for i, method in enumerate(_str_list(key, value)):
        if not _TOKEN_RE.match(method):
            raise _expected(f"{key}[{i}]", "an HTTP method name such as 'GET'", method)
        upper = method.upper()
        if upper not in out:
            out.append(upper)
    return tuple(out)


def _headers(key: str, value: object) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(_str_list(key, value)):
        if not _TOKEN_RE.match(header):
            raise _expected(f"{key}[{i}]", "a header name such as 'X-Requested-With'", header)
        if header.lower() not in seen:
            seen.add(header.lower())
            out.append(header)
    return tuple(out)


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _expected(key, "true or false", value)
    return value


def _int(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _expected(key, f"a whole number >= {minimum}", value)
    return value


def _date(key: str, value: object) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        raise _expected(key, "a date YYYY-MM-DD (no time of day)", value.isoformat())
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise _expected(key, "a date YYYY-MM-DD", value)


def _route_path(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise _expected(key, "a path prefix starting with '/', such as '/api/account'", value)
    if any(c in value for c in "?#*") or any(c.isspace() for c in value):
        raise _expected(key, "a plain path prefix (no query, fragment, wildcard or spaces); "
                        "'/api' already covers '/api/...'", value)
    return value.rstrip("/") or "/"


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


# ------------------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class CORSSettings:
    """The `[cors]` table. Values are normalised on construction (methods upper-cased, origins serialised)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "HEAD")
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int = 600
    allow_null: bool = False
    allow_private_network: bool = False

    def __post_init__(self) -> None:
        _set(self, "allow_origins", _origins("cors.allow_origins", self.allow_origins))
        _set(self, "allow_methods", _methods("cors.allow_methods", self.allow_methods))
        _set(self, "allow_headers", _headers("cors.allow_headers", self.allow_headers))
        _set(self, "expose_headers", _headers("cors.expose_headers", self.expose_headers))
        _bool("cors.allow_credentials", self.allow_credentials)
        _int("cors.max_age", self.max_age, 0)
        _bool("cors.allow_null", self.allow_null)
        _bool("cors.allow_private_network", self.allow_private_network)


@dataclass(frozen=True)
class JSONPSettings:
    """The `[jsonp]` table: how the shim keeps JSONP callers working until the sunset."""

    callback_params: tuple[str, ...] = ("callback", "jsonp")
    sunset: datetime.date | None = None
    deprecation: datetime.date | None = None
    docs_url: str | None = None
    max_callback_length: int = 128
    check_referer: bool = True
    # false: no JSONP at all (a callback parameter is an ordinary query parameter); [[route]] jsonp = false
    # does the same below one path, e.g. where `callback` is a login redirect target
    enabled: bool = True

    def __post_init__(self) -> None:
        params: list[str] = []
        for i, name in enumerate(_str_list("jsonp.callback_params", self.callback_params)):
            if not _PARAM_RE.match(name):
                raise _expected(f"jsonp.callback_params[{i}]", "a query parameter name like 'callback'", name)
            if name not in params:
                params.append(name)
        _set(self, "callback_params", tuple(params))
        _set(self, "sunset", _date("jsonp.sunset", self.sunset))
        _set(self, "deprecation", _date("jsonp.deprecation", self.deprecation))
        if self.docs_url is not None and (
            not isinstance(self.docs_url, str) or not re.match(r"https?://[^\s]+\Z", self.docs_url)
        ):
            raise _expected("jsonp.docs_url", "an http(s) URL", self.docs_url)
        _int("jsonp.max_callback_length", self.max_callback_length, 1)
        _bool("jsonp.check_referer", self.check_referer)
        _bool("jsonp.enabled", self.enabled)


@dataclass(frozen=True)
class Route:
    """A `[[route]]` override: applies to `path` and everything below it; None means "inherit"."""

    path: str
    allow_origins: tuple[str, ...] | None = None
    allow_methods: tuple[str, ...] | None = None
    allow_headers: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    allow_credentials: bool | None = None
    max_age: int | None = None
    check_referer: bool | None = None
    jsonp: bool | None = None  # false: no JSONP below this path (the callback parameter means something else)

    def __post_init__(self) -> None:
        _set(self, "path", _route_path("route.path", self.path))
        if self.allow_origins is not None:
            _set(self, "allow_origins", _origins("route.allow_origins", self.allow_origins))
        if self.allow_methods is not None:
            _set(self, "allow_methods", _methods("route.allow_methods", self.allow_methods))
        if self.allow_headers is not None:
            _set(self, "allow_headers", _headers("route.allow_headers", self.allow_headers))
        if self.expose_headers is not None:
            _set(self, "expose_headers", _headers("route.expose_headers", self.expose_headers))
        if self.allow_credentials is not None:
            _bool("route.allow_credentials", self.allow_credentials)
        if self.max_age is not None:
            _int("route.max_age", self.max_age, 0)
        if self.check_referer is not None:
            _bool("route.check_referer", self.check_referer)
        if self.jsonp is not None:
            _bool("route.jsonp", self.jsonp)

    def overrides(self) -> dict[str, Any]:
        """The fields this route sets (everything but `path` that is not None)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "path"
                and getattr(self, f.name) is not None}


@dataclass(frozen=True)
class EffectivePolicy:
    """What applies to one request path: the merged settings, the route that matched, the origin matcher."""

    cors: CORSSettings
    jsonp: JSONPSettings
    route: Route | None
    matcher: OriginMatcher
    # Precomputed lookups for the shim (upper-case methods, lower-case header names).
    methods: frozenset[str] = field(init=False, repr=False, compare=False)
    headers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "methods", frozenset(self.cors.allow_methods))
        _set(self, "headers", frozenset(h.lower() for h in self.cors.allow_headers))

    def allows_origin(self, origin: str) -> bool:
        return self.matcher.matches(origin)

    def allows_method(self, method: str) -> bool:
        """True for a listed method, and always for GET, HEAD and POST.

        Those are CORS-safelisted: a browser accepts them whatever Access-Control-Allow-Methods says, so
        every target (and the shim) treats them alike. `*` counts only without credentials.
        """
        upper = method.upper()
        return (upper in CORS_SAFELISTED_METHODS or upper in self.methods
                or ("*" in self.methods and not self.cors.allow_credentials))

    def allows_headers(self, names: Iterable[str]) -> bool:
        """True when every requested header name is allowed (case-insensitive)."""
        if "*" in self.headers and not self.cors.allow_credentials:
            return True
        return all(name.strip().lower() in self.headers for name in names if name.strip())


@dataclass(frozen=True)
class Policy:
    """A whole `cors-policy.toml`: `[cors]`, `[jsonp]` and `[[route]]` overrides."""

    cors: CORSSettings = field(default_factory=CORSSettings)
    jsonp: JSONPSettings = field(default_factory=JSONPSettings)
    routes: tuple[Route, ...] = ()
    _by_prefix: dict[str, EffectivePolicy] = field(init=False, repr=False, compare=False, hash=False)
    _default: EffectivePolicy = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        routes = tuple(self.routes)
        _set(self, "routes", routes)
        _set(self, "_default", _effective(self.cors, self.jsonp, None, "cors"))
        by_prefix: dict[str, EffectivePolicy] = {}
        for i, route in enumerate(routes):
            if route.path in by_prefix:
                raise PolicyError(f"route[{i}].path", f"the path {route.path!r} is listed twice")
            by_prefix[route.path] = _effective(self.cors, self.jsonp, route, f"route[{i}]")
        _set(self, "_by_prefix", by_prefix)

    def for_path(self, path: str) -> EffectivePolicy:
        """The effective policy for a request path: the longest route prefix on `/` boundaries wins."""
        table = self._by_prefix
        if not table:
            return self._default
        p = path.split("?", 1)[0]
        while p:
            hit = table.get(p)
            if hit is not None:
                return hit
            cut = p.rfind("/")
            if cut <= 0:
                break
            p = p[:cut]
        return table.get("/", self._default)

    # ----------------------------------------------------------------------------------- TOML in
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        if not isinstance(data, Mapping):
            raise _expected("", "a table", data)
        _check_keys("", data, {"version", "cors", "jsonp", "route"})
        version = data.get("version", FILE_VERSION)
        if version != FILE_VERSION or isinstance(version, bool):
            raise _expected("version", f"{FILE_VERSION}", version)
        cors_data = _table("cors", data.get("cors", {}))
        _check_keys("cors", cors_data, {f.name for f in fields(CORSSettings)})
        jsonp_data = _table("jsonp", data.get("jsonp", {}))
        _check_keys("jsonp", jsonp_data, {f.name for f in fields(JSONPSettings)})
        cors = CORSSettings(**cors_data)
        jsonp = JSONPSettings(**jsonp_data)
        raw_routes = data.get("route", [])
        if not isinstance(raw_routes, list):
            raise _expected("route", "[[route]] tables", raw_routes)
        routes: list[Route] = []
        route_keys = {f.name for f in fields(Route)}
        for i, raw in enumerate(raw_routes):
            table = _table(f"route[{i}]", raw)
            _check_keys(f"route[{i}]", table, route_keys)
            if "path" not in table:
                raise PolicyError(f"route[{i}].path", "missing: every [[route]] needs a path prefix")
            try:
                routes.append(Route(**table))
            except PolicyError as exc:
                raise exc.under(f"route[{i}]") from exc
        return cls(cors, jsonp, tuple(routes))

    @classmethod
    def from_toml(cls, text: str) -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError("", f"not valid TOML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError("", f"cannot read {path}: {exc}") from exc
        try:
            return cls.from_toml(text)
        except PolicyError as exc:
            raise PolicyError(exc.key, f"{exc.detail} (in {path})") from exc

    # ---------------------------------------------------------------------------------- TOML out
    def to_dict(self) -> dict[str, Any]:
        """Plain data as `from_dict` takes it (dates as YYYY-MM-DD strings; unset optional keys left out)."""
        cors = {f.name: _plain(getattr(self.cors, f.name)) for f in fields(CORSSettings)}
        jsonp = {f.name: _plain(getattr(self.jsonp, f.name)) for f in fields(JSONPSettings)
                 if getattr(self.jsonp, f.name) is not None and not (f.name == "enabled" and self.jsonp.enabled)}
        out: dict[str, Any] = {"version": FILE_VERSION, "cors": cors, "jsonp": jsonp}
        if self.routes:
            out["route"] = [{"path": r.path, **{k: _plain(v) for k, v in r.overrides().items()}}
                            for r in self.routes]
        return out

    def to_toml(self, *, comments: Mapping[str, str] | None = None, header: str | None = None) -> str:
        """Deterministic TOML that `from_toml` reads back to an equal policy.

        `comments` adds reviewer notes: key `"<table>.<field>"` puts a comment after that line,
        `"<table>.<field>:<item>"` after one list item, `"<table>"` above the table header. `<table>` is
        `cors`, `jsonp`, or `route:<path>` for a `[[route]]`.
        """
        notes = dict(comments or {})
        lines: list[str] = []
        if header:
            lines.extend(_comment_lines(header))
        lines.append(f"version = {FILE_VERSION}")
        data = self.to_dict()
        for table in ("cors", "jsonp"):
            lines.append("")
            lines.extend(_comment_lines(notes.get(table, "")))
            lines.append(f"[{table}]")
            for key, value in data[table].items():
                lines.extend(_toml_key(table, key, value, notes))
        for route in data.get("route", []):
            name = f"route:{route['path']}"
            lines.append("")
            lines.extend(_comment_lines(notes.get(name, "")))
            lines.append("[[route]]")
            for key, value in route.items():
                lines.extend(_toml_key(name, key, value, notes))
        return "\n".join(lines) + "\n"

    def to_file(self, path: str | Path, **kwargs: Any) -> None:
        Path(path).write_text(self.to_toml(**kwargs), encoding="utf-8")

    def with_routes(self, routes: Iterable[Route]) -> Policy:
        return replace(self, routes=tuple(routes))


def _effective(cors: CORSSettings, jsonp: JSONPSettings, route: Route | None, key: str) -> EffectivePolicy:
    merged_cors = cors
    merged_jsonp = jsonp
    if route is not None:
        over = route.overrides()
        referer = over.pop("check_referer", None)
        enabled = over.pop("jsonp", None)
        if over:
            merged_cors = replace(cors, **over)
        if referer is not None:
            merged_jsonp = replace(merged_jsonp, check_referer=referer)
        if enabled is not None:
            merged_jsonp = replace(merged_jsonp, enabled=enabled)
    if merged_cors.allow_credentials and "*" in merged_cors.allow_origins:
        raise PolicyError(
            f"{key}.allow_origins",
            "'*' cannot be combined with allow_credentials = true (browsers refuse it); list the origins",
        )
    matcher = OriginMatcher(merged_cors.allow_origins, allow_null=merged_cors.allow_null)
    return EffectivePolicy(merged_cors, merged_jsonp, route, matcher)


def _table(key: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _expected(key, "a table", value)
    return value


def _check_keys(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    for key in data:
        if key not in known:
            prefix = f"{where}." if where else ""
            raise PolicyError(f"{prefix}{key}", f"unknown key; expected one of {', '.join(sorted(known))}")


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _comment_lines(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()] if text else []


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_key(table: str, key: str, value: object, notes: Mapping[str, str]) -> list[str]:
    note = notes.get(f"{table}.{key}")
    tail = f"  # {_one_line(note)}" if note else ""
    if not isinstance(value, list):
        return [f"{key} = {_toml_value(value)}{tail}"]
    item_notes = [notes.get(f"{table}.{key}:{item}") for item in value]
    if not value:
        return [f"{key} = []{tail}"]
    if not any(item_notes) and len(value) <= 4:
        return [f"{key} = [{', '.join(_toml_value(v) for v in value)}]{tail}"]
    out = [f"{key} = [{tail}"]
    for item, item_note in zip(value, item_notes, strict=True):
        out.append(f"    {_toml_value(item)},{f'  # {_one_line(item_note)}' if item_note else ''}")
    out.append("]")
    return out
