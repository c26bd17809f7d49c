"""Build a reviewable `cors-policy.toml` from a scan, declared origins and the shim's JSONP usage records.

Every entry carries a comment saying where it came from, so a reviewer can check it line by line.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from jsonp2cors.findings import Endpoint, ScanResult
from jsonp2cors.policy import CORSSettings, JSONPSettings, Policy, Route
from jsonp2cors.policy.origin import Origin, OriginError, OriginMatcher, parse_allow_entry

__all__ = ["GeneratedPolicy", "OriginUsage", "generate", "route_prefix", "usage_origins"]

# Route syntaxes of the frameworks the scan knows: <flask:conv>, {starlette}, :bottle, (regex groups), *.
_VARIABLE_SEGMENT = re.compile(r"[<{(\[*:]|\\|\$|\^|\?|\+|\|")


@dataclass(frozen=True)
class OriginUsage:
    """JSONP calls seen from one caller origin in the shim's usage records."""

    origin: str
    count: int
    last: datetime.date


@dataclass(frozen=True)
class GeneratedPolicy:
    """A generated policy, the reviewer comments that go beside its entries, and notes for stderr."""

    policy: Policy
    comments: dict[str, str] = field(default_factory=dict)
    header: str = ""
    notes: tuple[str, ...] = ()

    def to_toml(self) -> str:
        return self.policy.to_toml(comments=self.comments, header=self.header)


def route_prefix(route: str) -> tuple[str, bool]:
    """The literal path prefix of a framework route, and whether variable parts were cut off.

    `/api/user/<int:id>` -> (`/api/user`, True); Django `^api/weather/$` -> (`/api/weather`, False).
    """
    text = route.strip()
    if text.startswith("^"):
        text = text[1:]
    if text.endswith("$"):
        text = text[:-1]
    text = re.sub(r"\\([./\-])", r"\1", text)  # regex routes: `weather\.js` is a literal dot
    if not text.startswith("/"):
        text = "/" + text
    kept: list[str] = []
    cut = False
    for segment in text.split("/")[1:]:
        if _VARIABLE_SEGMENT.search(segment):
            cut = True
            break
        if segment:
            kept.append(segment)
    return "/" + "/".join(kept), cut


def usage_origins(records: Iterable[object]) -> tuple[list[OriginUsage], int, int]:
    """Caller origins of JSONP traffic: (per origin usage, calls without a usable origin, same-site calls).

    Records are the shim's `UsageRecord`s (anything with `origin`, `time` and `sec_fetch_site`). Calls the
    browser marked `same-origin` need no CORS and are left out.
    """
    counts: dict[str, int] = {}
    last: dict[str, datetime.date] = {}
    unknown = same = 0
    for record in records:
        origin = getattr(record, "origin", None)
        if getattr(record, "sec_fetch_site", None) == "same-origin":
            same += 1
            continue
        if not origin:
            unknown += 1
            continue
        when = getattr(record, "time", None)
        day = when.date() if isinstance(when, datetime.datetime) else datetime.date.min
        counts[origin] = counts.get(origin, 0) + 1
        if day > last.get(origin, datetime.date.min):
            last[origin] = day
    out = [OriginUsage(o, n, last.get(o, datetime.date.min)) for o, n in sorted(counts.items())]
    return out, unknown, same


def _where(endpoint: Endpoint) -> str:
    return f"{endpoint.file}:{endpoint.line}"


def generate(
    result: ScanResult,
    *,
    origins: Sequence[str] = (),
    usage: Iterable[object] = (),
    sunset: datetime.date | None = None,
    source: str | None = None,
) -> GeneratedPolicy:
    """The policy for a scanned code base.

    One `[[route]]` per endpoint route (its literal prefix) with the endpoint's methods and credentials;
    `jsonp.callback_params` lists every parameter name the scan saw; `cors.allow_origins` holds `origins`
    plus the caller origins of `usage` records. Raises `OriginError` for an invalid `--origin`.
    """
    comments: dict[str, str] = {}
    notes: list[str] = []

    # Origins ------------------------------------------------------------------------------------
    entries: dict[str, list[str]] = {}
    for text in origins:
        cleaned = text[:-1] if text.endswith("/") and text.count("/") == 3 else text
        entry = str(parse_allow_entry(cleaned))  # raises OriginError naming the entry
        entries.setdefault(entry, []).append("given with --origin")
    declared = [(entry, OriginMatcher([entry])) for entry in entries if "*" in entry]
    used, unknown, same = usage_origins(usage)
    for seen in used:
        try:
            parsed = parse_allow_entry(seen.origin)
        except OriginError as exc:
            notes.append(f"usage records: skipped caller origin {exc}")
            continue
        if isinstance(parsed, Origin) and parsed.host.endswith("."):
            continue
        calls = "call" if seen.count == 1 else "calls"
        covering = next((entry for entry, m in declared if m.matches(str(parsed))), None)
        if covering is not None:  # already allowed by a declared pattern: say so there
            entries[covering].append(f"{seen.count:,} JSONP {calls} from {parsed}, last {seen.last.isoformat()}")
            continue
        entries.setdefault(str(parsed), []).append(
            f"{seen.count:,} JSONP {calls} from this origin, last {seen.last.isoformat()}")
    for entry, why in entries.items():
        comments[f"cors.allow_origins:{entry}"] = "; ".join(why)
    allow_origins = tuple(sorted(entries))

    # Routes ---------------------------------------------------------------------------------------
    live = [e for e in result.endpoints if not e.test_code]
    handlers = [e for e in live if e.role == "handler"]
    grouped: dict[str, list[tuple[Endpoint, bool, str]]] = {}
    for endpoint in handlers:
        if not endpoint.route:
            notes.append(f"{_where(endpoint)} {endpoint.function}: no route known; covered by [cors] only")
            continue
        for path in endpoint.all_routes:
            prefix, cut = route_prefix(path)
            grouped.setdefault(prefix, []).append((endpoint, cut, path))
    routes: list[Route] = []
    for prefix in sorted(grouped):
        members = sorted(grouped[prefix], key=lambda m: (m[0].file, m[0].line, m[0].function))
        methods: list[str] = []
        for endpoint, _, _ in members:
            for method in endpoint.methods:
                if method.upper() not in methods:
                    methods.append(method.upper())
        credentialed = [e for e, _, _ in members if e.credentials]
        name = f"route:{prefix}"
        sources = []
        for endpoint, cut, path in members:
            label = f"{_where(endpoint)} {endpoint.function}() ({endpoint.framework} route {path!r}"
            sources.append(label + (", variable part cut to a prefix)" if cut else ")"))
        comments[name] = "\n".join(sources)
        if credentialed:
            comments[f"{name}.allow_credentials"] = "; ".join(
                f"{_where(e)} {e.credentials_reason or 'reads cookies or the logged-in user'}"
                for e in credentialed)
        else:
            comments[f"{name}.allow_credentials"] = "no endpoint here reads cookies, a session or the user"
        comments[f"{name}.allow_methods"] = "methods the handlers accept"
        routes.append(Route(path=prefix, allow_methods=tuple(methods) or ("GET",),
                            allow_credentials=bool(credentialed)))

    # JSONP settings -------------------------------------------------------------------------------
    params: dict[str, list[str]] = {}
    for endpoint in live:
        for param in endpoint.callback_params:
            params.setdefault(param, []).append(_where(endpoint))
    for consumer in result.consumers:
        # script loaders of third-party SDKs (`callback=initMap`) are not JSONP data calls
        if consumer.callback_param and consumer.migratable and not consumer.test_code:
            params.setdefault(consumer.callback_param, []).append(f"{consumer.file}:{consumer.line}")
    for param, where in params.items():
        shown = ", ".join(sorted(set(where))[:3]) + (", ..." if len(set(where)) > 3 else "")
        comments[f"jsonp.callback_params:{param}"] = f"seen {len(where)}x: {shown}"
    callback_params = tuple(sorted(params, key=lambda p: (-len(params[p]), p))) or ("callback", "jsonp")
    if not params:
        comments["jsonp.callback_params"] = "the scan saw no callback parameter; jsonp2cors defaults"
    if sunset is not None:
        comments["jsonp.sunset"] = "from this day JSONP requests get 410 Gone"

    cors = CORSSettings(allow_origins=allow_origins)
    comments["cors.allow_credentials"] = "granted per [[route]] below, where the scan saw credentials"
    if not allow_origins:
        comments["cors.allow_origins"] = "no origin given: add callers with --origin or --from-usage"
    policy = Policy(cors=cors, jsonp=JSONPSettings(callback_params=callback_params, sunset=sunset),
                    routes=tuple(routes))

    header_lines = [
        "cors-policy.toml generated by `jsonp2cors policy generate`; review every entry before deploying.",
        f"Scan of {source or result.root}: {len(handlers)} JSONP endpoint(s), "
        f"{len(result.consumers)} consumer(s), {len(routes)} route(s).",
    ]
    if unknown or same:
        header_lines.append(f"Usage records: {unknown:,} JSONP call(s) without a Referer origin, "
                            f"{same:,} same-origin call(s) (no CORS needed).")
    header_lines.extend(f"Note: {n}" for n in notes)
    return GeneratedPolicy(policy, comments, "\n".join(header_lines), tuple(notes))
