"""The records a scan produces (endpoints, consumers, errors) and their JSON form (contract 1)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

SCHEMA_VERSION = 1

Framework = Literal[
    "flask", "django", "bottle", "pyramid", "tornado", "aiohttp", "starlette", "fastapi",
    "falcon", "cherrypy", "webob", "wsgi", "generic",
]
ConsumerKind = Literal["script-tag", "jquery-ajax", "jquery-getjson", "angular-jsonp", "dynamic-script", "other"]
Confidence = Literal["high", "medium", "low"]
EndpointRole = Literal["handler", "helper"]

FRAMEWORKS: tuple[str, ...] = (
    "flask", "django", "bottle", "pyramid", "tornado", "aiohttp", "starlette", "fastapi",
    "falcon", "cherrypy", "webob", "wsgi", "generic",
)
# Finer framework names the scan knows that contract 1's list has not: in JSON, `framework` holds the listed
# family (both are WSGI frameworks) and `framework_detail` the finer name, which reading the JSON back restores.
FRAMEWORK_FAMILY: dict[str, str] = {"webapp2": "wsgi", "webpy": "wsgi"}
CONSUMER_KINDS: tuple[str, ...] = (
    "script-tag", "jquery-ajax", "jquery-getjson", "angular-jsonp", "dynamic-script", "other",
)


@dataclass(frozen=True, order=True)
class Location:
    """A place in a scanned file: path relative to the scan root with `/` separators, 1-based line/column."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Endpoint:
    """A server-side request handler (or the helper doing its padding) that answers JSONP."""

    file: str
    line: int
    function: str
    framework: str = "generic"
    route: str | None = None
    methods: tuple[str, ...] = ("GET",)
    callback_params: tuple[str, ...] = ("callback",)
    credentials: bool = False
    role: str = "handler"  # "handler" | "helper"
    confidence: str = "high"  # "high" | "medium" | "low"
    recognised_by: str = ""  # short id of the detector, e.g. "flask-jsonpify", "format-padding"
    test_code: bool = False
    column: int = 1
    end_line: int | None = None
    credentials_reason: str | None = None  # e.g. "reads the session"
    # Every path the handler answers at when it has more than one (stacked route decorators, a view listed
    # twice in urls.py); `route` is the first of them.
    routes: tuple[str, ...] = ()

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    @property
    def all_routes(self) -> tuple[str, ...]:
        """`routes`, or just `route` (or nothing) for a handler with one path."""
        if self.routes:
            return self.routes
        return (self.route,) if self.route else ()


@dataclass(frozen=True)
class EndpointRef:
    """Points a consumer at the endpoint it calls."""

    file: str
    line: int


@dataclass(frozen=True)
class Consumer:
    """A place in markup or JavaScript that loads data through JSONP."""

    file: str
    line: int
    kind: str
    url: str | None = None
    callback: str | None = None
    target: str | None = None
    migratable: bool = True
    callback_param: str | None = None
    column: int = 1
    endpoint: EndpointRef | None = None
    credentials: bool | None = None  # inherited from the linked endpoint
    detail: str | None = None  # e.g. "Google Maps loader", "jsonpCallback option"
    test_code: bool = False

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)


@dataclass(frozen=True)
class ScanError:
    """A file the scan could not fully read or parse, with a one-line reason."""

    file: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class ScanStats:
    files_seen: int = 0
    files_parsed: int = 0
    seconds: float = 0.0
    files_skipped_vendored: int = 0
    files_prefiltered_out: int = 0
    bytes_read: int = 0


@dataclass(frozen=True)
class ScanResult:
    endpoints: tuple[Endpoint, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    errors: tuple[ScanError, ...] = ()
    stats: ScanStats = field(default_factory=ScanStats)
    root: str = "."

    @property
    def has_findings(self) -> bool:
        return bool(self.endpoints or self.consumers)

    def sorted(self) -> ScanResult:
        """The same result in a stable order (file, line, column)."""
        return replace(
            self,
            endpoints=tuple(sorted(self.endpoints, key=lambda e: (e.file, e.line, e.column, e.function))),
            consumers=tuple(sorted(self.consumers, key=lambda c: (c.file, c.line, c.column, c.kind))),
            errors=tuple(sorted(self.errors, key=lambda e: (e.file, e.line or 0, e.message))),
        )

    # JSON (contract 1) -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "endpoints": [_record_to_dict(e) for e in self.endpoints],
            "consumers": [_record_to_dict(c) for c in self.consumers],
            "errors": [_record_to_dict(e) for e in self.errors],
            "stats": _record_to_dict(self.stats),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], root: str = ".") -> ScanResult:
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported scan result version {version!r} (expected {SCHEMA_VERSION})")
        return cls(
            endpoints=tuple(_record_from_dict(Endpoint, d) for d in data.get("endpoints", ())),
            consumers=tuple(_record_from_dict(Consumer, d) for d in data.get("consumers", ())),
            errors=tuple(_record_from_dict(ScanError, d) for d in data.get("errors", ())),
            stats=_record_from_dict(ScanStats, data.get("stats", {})),
            root=root,
        )

    @classmethod
    def from_json(cls, text: str, root: str = ".") -> ScanResult:
        return cls.from_dict(json.loads(text), root=root)


def _record_to_dict(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, EndpointRef):
            value = {"file": value.file, "line": value.line}
        out[f.name] = value
        if f.name == "framework" and isinstance(record, Endpoint) and value not in FRAMEWORKS:
            out["framework"] = FRAMEWORK_FAMILY.get(value, "generic")
            out["framework_detail"] = value
    return out


def _record_from_dict(cls: Any, data: Mapping[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    if cls is Endpoint and isinstance(data.get("framework_detail"), str):
        data = {**data, "framework": data["framework_detail"]}
    for key, value in data.items():
        if key not in known:
            continue  # newer producers may add keys; contract 1 allows it
        if isinstance(value, list):
            value = tuple(value)
        elif key == "endpoint" and isinstance(value, Mapping):
            value = EndpointRef(file=value["file"], line=int(value["line"]))
        kwargs[key] = value
    return cls(**kwargs)


def merge_results(parts: Iterable[ScanResult], root: str = ".") -> ScanResult:
    """Concatenate partial results (stats are summed)."""
    endpoints: list[Endpoint] = []
    consumers: list[Consumer] = []
    errors: list[ScanError] = []
    seen = parsed = vendored = prefiltered = nbytes = 0
    seconds = 0.0
    for part in parts:
        endpoints.extend(part.endpoints)
        consumers.extend(part.consumers)
        errors.extend(part.errors)
        seen += part.stats.files_seen
        parsed += part.stats.files_parsed
        vendored += part.stats.files_skipped_vendored
        prefiltered += part.stats.files_prefiltered_out
        nbytes += part.stats.bytes_read
        seconds = max(seconds, part.stats.seconds)
    return ScanResult(
        tuple(endpoints), tuple(consumers), tuple(errors),
        ScanStats(seen, parsed, seconds, vendored, prefiltered, nbytes), root,
    ).sorted()
