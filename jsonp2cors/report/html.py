"""The HTML migration report: one self-contained page (no network, no script) to follow the move off JSONP.

`build_report()` gathers the scan, the rewrite plan, the policy with its lint findings and the shim's usage
records into a `ReportData`; `render()` turns it into HTML. Every string that comes from a scanned file, a
policy or a usage record is escaped; a Content-Security-Policy forbids scripts and any network access.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import difflib
import hashlib
import html
import importlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, ScanResult
from jsonp2cors.scan.base import ScanConfig

__all__ = [
    "Declined",
    "EndpointUsage",
    "FileChange",
    "LintItem",
    "OriginUsage",
    "PolicyView",
    "ReportData",
    "RewriteView",
    "Series",
    "UsageView",
    "build_report",
    "chart_svg",
    "policy_view",
    "render",
    "rewrite_view",
    "usage_view",
    "write_report",
]

DEFAULT_TITLE = "JSONP to CORS migration report"
MAX_SERIES = 8  # endpoints drawn one by one; the rest are summed into one "other endpoints" line
RECENT_DAYS = 7  # "still calling" = seen in the last week of the usage log
MAX_DIFF_LINES = 400  # per file; a longer diff is cut with a note

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999")


# ================================================================================ the view model
@dataclass(frozen=True)
class FileChange:
    """One file the rewrite would change, as a unified diff."""

    rel: str
    diff: str
    added: int
    removed: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declined:
    """A place the rewrite left alone, and why."""

    file: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class RewriteView:
    """What `jsonp2cors.rewrite.plan` would change, or a note saying why there is no plan."""

    changes: tuple[FileChange, ...] = ()
    declined: tuple[Declined, ...] = ()
    note: str | None = None  # why there is no plan (rewrite unavailable, failed, ...)


@dataclass(frozen=True)
class LintItem:
    """One policy lint finding, ready to show."""

    code: str
    severity: str
    message: str
    where: str | None = None


@dataclass(frozen=True)
class PolicyView:
    """The policy the report shows: its text, sunset, lint findings and an origin check per request path."""

    source: str  # where the policy came from: a file name, or "generated from the scan"
    text: str  # its TOML
    allow_origins: tuple[str, ...] = ()
    sunset: dt.date | None = None
    lint: tuple[LintItem, ...] = ()
    note: str | None = None
    proposal: bool = False  # generated for this report, not read from a file
    # Does the policy let this caller origin use CORS on this request path? (None: unknown). Not compared.
    allows: Callable[[str, str], bool] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Series:
    """JSONP calls per day for one endpoint; `points` covers every day of the log, zero days included."""

    label: str
    total: int
    points: tuple[tuple[dt.date, int], ...]


@dataclass(frozen=True)
class EndpointUsage:
    """JSONP traffic of one endpoint path in the usage records."""

    path: str
    count: int
    first: dt.datetime
    last: dt.datetime
    recent: int  # calls in the last RECENT_DAYS days of the log
    origins: int  # distinct caller origins
    refused: int = 0  # answered 4xx/5xx by the shim (410 after the sunset, 403 from the Referer check, ...)


@dataclass(frozen=True)
class OriginUsage:
    """JSONP traffic from one caller origin in the usage records."""

    origin: str | None  # None: calls without a usable Referer
    count: int
    first: dt.datetime
    last: dt.datetime
    recent: int
    endpoints: tuple[str, ...]
    refused: int = 0


@dataclass(frozen=True)
class UsageView:
    """Everything the usage section shows: totals, the chart's series, per-endpoint and per-origin rows."""

    files: tuple[str, ...] = ()
    total: int = 0
    skipped: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    days: tuple[dt.date, ...] = ()
    series: tuple[Series, ...] = ()
    endpoints: tuple[EndpointUsage, ...] = ()
    origins: tuple[OriginUsage, ...] = ()


@dataclass(frozen=True)
class ReportData:
    """All the report shows; `render()` turns it into the HTML page."""

    result: ScanResult
    generated: dt.datetime
    root: str = "."
    rewrite: RewriteView | None = None
    policy: PolicyView | None = None
    usage: UsageView | None = None
    title: str = DEFAULT_TITLE
    notes: tuple[str, ...] = ()  # problems met while gathering (a usage file that could not be read, ...)


# ================================================================================ adapters
def usage_view(records: Iterable[Any], *, files: Sequence[str] = (), skipped: int = 0,
               max_series: int = MAX_SERIES) -> UsageView:
    """Per-day, per-endpoint and per-origin figures from shim usage records (`jsonp2cors.shim.usage`)."""
    from jsonp2cors.shim.usage import summarize

    rows = list(records)
    summary = summarize(rows, skipped=skipped)
    if not rows or summary.first is None or summary.last is None:
        return UsageView(files=tuple(files), skipped=skipped)
    days = tuple(day for day, _ in summary.daily)
    last_day = days[-1]
    recent_from = last_day - dt.timedelta(days=RECENT_DAYS - 1)

    per_day: dict[str, dict[dt.date, int]] = {}
    recent_path: dict[str, int] = {}
    recent_origin: dict[str | None, int] = {}
    refused_path: dict[str, int] = {}
    refused_origin: dict[str | None, int] = {}
    origin_paths: dict[str | None, set[str]] = {}
    path_origins: dict[str, set[str | None]] = {}
    for record in rows:
        day = record.time.astimezone(dt.timezone.utc).date()
        counts = per_day.setdefault(record.path, {})
        counts[day] = counts.get(day, 0) + 1
        if day >= recent_from:
            recent_path[record.path] = recent_path.get(record.path, 0) + 1
            recent_origin[record.origin] = recent_origin.get(record.origin, 0) + 1
        origin_paths.setdefault(record.origin, set()).add(record.path)
        path_origins.setdefault(record.path, set()).add(record.origin)
        if record.status >= 400:
            refused_path[record.path] = refused_path.get(record.path, 0) + 1
            refused_origin[record.origin] = refused_origin.get(record.origin, 0) + 1

    ranked = [count.key for count in summary.endpoints if count.key is not None]
    shown, rest = ranked[:max_series], ranked[max_series:]
    series = [Series(path, sum(per_day[path].values()), tuple((d, per_day[path].get(d, 0)) for d in days))
              for path in shown]
    if rest:
        other = {d: sum(per_day[path].get(d, 0) for path in rest) for d in days}
        series.append(Series(f"{len(rest)} other endpoints", sum(other.values()), tuple(other.items())))

    endpoints = tuple(
        EndpointUsage(str(c.key), c.count, c.first, c.last, recent_path.get(str(c.key), 0),
                      len(path_origins.get(str(c.key), ())), refused_path.get(str(c.key), 0))
        for c in summary.endpoints
    )
    origins = tuple(
        OriginUsage(c.key, c.count, c.first, c.last, recent_origin.get(c.key, 0),
                    tuple(sorted(origin_paths.get(c.key, ()))), refused_origin.get(c.key, 0))
        for c in summary.origins
    )
    return UsageView(tuple(files), summary.total, summary.skipped, summary.first, summary.last, days,
                     tuple(series), endpoints, origins)


def rewrite_view(plan: Any) -> RewriteView:
    """A rewrite plan (`jsonp2cors.rewrite.plan`) as diffs; reads only `.edits` and `.declined`."""
    changes: list[FileChange] = []
    for edit in getattr(plan, "edits", ()):
        rel = str(getattr(edit, "rel", "") or getattr(edit, "path", ""))
        before = _text(getattr(edit, "before", b""))
        after = _text(getattr(edit, "after", b""))
        lines = list(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                          fromfile=f"a/{rel}", tofile=f"b/{rel}", n=2))
        added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
        diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        notes = tuple(str(note) for note in (getattr(edit, "notes", ()) or ()))
        changes.append(FileChange(rel, diff, added, removed, notes))
    declined = tuple(
        Declined(str(getattr(item, "file", "")), _int_or_none(getattr(item, "line", None)),
                 str(getattr(item, "reason", item)))
        for item in getattr(plan, "declined", ())
    )
    return RewriteView(tuple(sorted(changes, key=lambda c: c.rel)), declined)


def policy_view(policy: Any, *, source: str, text: str | None = None, lint: Iterable[Any] = (),
                note: str | None = None, proposal: bool = False) -> PolicyView:
    """A `jsonp2cors.policy.Policy` and its lint findings, as the report shows them.

    `text` is the TOML the lint positions refer to (the file as written); by default the policy's own TOML.
    """
    if text is None:
        text = policy.to_toml() if hasattr(policy, "to_toml") else str(policy)
    cors = getattr(policy, "cors", None)
    jsonp = getattr(policy, "jsonp", None)
    origins = tuple(getattr(cors, "allow_origins", ()) or ())
    sunset = getattr(jsonp, "sunset", None)

    allows: Callable[[str, str], bool] | None = None
    for_path = getattr(policy, "for_path", None)
    if callable(for_path):
        def allows(origin: str, path: str) -> bool:
            # The route that applies to `path` decides (its own allow_origins or the top level's).
            return bool(for_path(path).matcher.matches(origin))
    return PolicyView(source, text, origins, sunset if isinstance(sunset, dt.date) else None,
                      tuple(_lint_item(f) for f in lint), note, proposal, allows)


def _lint_item(finding: Any) -> LintItem:
    """A `jsonp2cors.policy.lint.LintFinding` (line, column, code, message, key, severity) for display."""
    severity = getattr(finding, "severity", None) or "warning"
    line, column = getattr(finding, "line", None), getattr(finding, "column", None)
    key = getattr(finding, "key", None)
    where = f"line {line}:{column}" if isinstance(line, int) and isinstance(column, int) else ""
    if key:
        where = f"{where} ({key})" if where else str(key)
    return LintItem(str(getattr(finding, "code", "") or ""), str(severity).lower(),
                    str(getattr(finding, "message", finding)), where or None)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        data: bytes = value[3:] if value.startswith(b"\xef\xbb\xbf") else value
        return data.decode("utf-8", errors="replace")
    return str(value)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ================================================================================ gathering
def build_report(
    path: str | Path = ".",
    *,
    usage_files: Sequence[str | Path] = (),
    policy_file: str | Path | None = None,
    with_rewrite: bool = True,
    title: str = DEFAULT_TITLE,
    now: dt.datetime | None = None,
    config: ScanConfig | None = None,
) -> ReportData:
    """Scan `path`, plan the rewrite, load and lint the policy, read usage records: everything the page shows.

    Parts that are missing or fail (no rewrite module, a policy that does not load) become notes in the
    report instead of errors, except an unreadable policy or usage file named by the caller, which raises.
    """
    from jsonp2cors.scan import scan, scan_root

    generated = now or dt.datetime.now(dt.timezone.utc)
    root = Path(path)
    result = scan([root], config)
    notes: list[str] = []

    records: list[Any] = []
    usage: UsageView | None = None
    if usage_files:
        from jsonp2cors.shim.usage import read_usage

        log = read_usage(usage_files)
        records = list(log)
        usage = usage_view(log, files=[str(f) for f in usage_files], skipped=log.skipped)

    policy_obj: Any = None
    policy: PolicyView | None = None
    if policy_file is not None:
        from jsonp2cors.policy import Policy

        policy_obj = Policy.from_file(policy_file)
        text = Path(policy_file).read_text(encoding="utf-8")
        findings = _lint(text, generated.date(), notes)
        policy = policy_view(policy_obj, source=str(policy_file), text=text, lint=findings)
    else:
        policy_obj, policy = _generated_policy(result, records, generated.date(), notes)

    rewrite: RewriteView | None = None
    if with_rewrite:
        rewrite = _plan(result, scan_root([root]), policy_obj)

    return ReportData(result=result, generated=generated, root=str(root), rewrite=rewrite, policy=policy,
                      usage=usage, title=title, notes=tuple(notes))


def _lint(text: str, today: dt.date, notes: list[str]) -> list[Any]:
    """Findings of `jsonp2cors.policy.lint` on the policy's TOML (positions refer to that text)."""
    try:
        lint_text = importlib.import_module("jsonp2cors.policy.lint").lint_text
    except (ImportError, AttributeError):
        notes.append("The policy linter (jsonp2cors.policy.lint) is not available: no lint findings shown.")
        return []
    try:
        return list(lint_text(text, today=today))
    except Exception as exc:
        notes.append(f"The policy linter failed: {type(exc).__name__}: {exc}")
        return []


def _generated_policy(result: ScanResult, records: Sequence[Any], today: dt.date,
                      notes: list[str]) -> tuple[Any, PolicyView | None]:
    """Without --policy: what `jsonp2cors policy generate` would propose from the scan and the usage."""
    try:
        generate = importlib.import_module("jsonp2cors.policy.generate").generate
    except (ImportError, AttributeError):
        return None, None
    try:
        proposal = generate(result, usage=records)
        text = proposal.to_toml()
    except Exception as exc:
        notes.append(f"Generating a policy proposal failed: {type(exc).__name__}: {exc}")
        return None, None
    source = "a proposal built from the scan and the usage records (jsonp2cors policy generate), not saved"
    note = ("No --policy was given, so this is the policy jsonp2cors would generate. Review it, save it as "
            "cors-policy.toml and pass it with --policy.")
    return proposal.policy, policy_view(proposal.policy, source=source, text=text,
                                        lint=_lint(text, today, notes), note=note, proposal=True)


def _plan(result: ScanResult, root: Path, policy: Any) -> RewriteView:
    try:
        plan = importlib.import_module("jsonp2cors.rewrite").plan
    except (ImportError, AttributeError) as exc:
        return RewriteView(note=f"The rewrite is not available in this installation ({exc}).")
    try:
        return rewrite_view(plan(result, root, policy))
    except Exception as exc:
        return RewriteView(note=f"The rewrite plan failed: {type(exc).__name__}: {exc}")


def write_report(data: ReportData, path: str | Path) -> Path:
    target = Path(path)
    target.write_text(render(data), encoding="utf-8")
    return target


# ================================================================================ rendering
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute: markup escaped, control characters made visible."""
    return html.escape(_CONTROL.sub("\ufffd", str(value)), quote=True)


CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #ffffff; --panel: #f5f7fa;
        --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --add: #e6ffec; --del: #ffebe9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
header { padding: 20px 32px 12px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
nav { padding: 8px 32px; border-bottom: 1px solid var(--line); background: var(--panel); }
nav a { margin-right: 16px; color: var(--fg); }
main { padding: 8px 32px 40px; max-width: 1200px; }
section { margin-top: 28px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin-bottom: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px;
        background: var(--panel); }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td code { overflow-wrap: anywhere; }
td.where { white-space: nowrap; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 8px;
      overflow-x: auto; white-space: pre; }
pre.diff span { display: block; }
pre.diff .add { background: var(--add); }
pre.diff .del { background: var(--del); }
pre.diff .hunk { color: var(--muted); }
pre.toml .ln { display: inline-block; width: 3.5em; padding-right: 1em; text-align: right; color: var(--muted);
               user-select: none; }
.note { color: var(--muted); font-style: italic; }
.yes { color: var(--ok); font-weight: 600; }
.no { color: var(--bad); font-weight: 600; }
.sev-error { color: var(--bad); font-weight: 600; }
.sev-warning { color: var(--warn); font-weight: 600; }
.sev-info, .sev-note { color: var(--muted); }
.legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 14px; }
.legend svg { vertical-align: middle; margin-right: 4px; }
svg.chart { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
details { margin: 6px 0; }
summary { cursor: pointer; }
footer { color: var(--muted); padding: 16px 32px; border-top: 1px solid var(--line); }
"""


def _csp(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
            "form-action 'none'")


def render(data: ReportData) -> str:
    """The whole report as one HTML document (UTF-8, no scripts, no external resources)."""
    body = [
        _header(data),
        _nav(data),
        "<main>",
        _overview(data),
        _usage_section(data),
        _scan_section(data.result),
        _rewrite_section(data.rewrite),
        _policy_section(data.policy),
        "</main>",
        f"<footer>Generated by jsonp2cors {esc(_version())} on {esc(_stamp(data.generated))}.</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp(CSS))}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(data.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def _version() -> str:
    from jsonp2cors import __version__

    return __version__


def _stamp(when: dt.datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _day(when: dt.datetime | dt.date | None) -> str:
    if when is None:
        return "–"
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    return when.isoformat()


def _header(data: ReportData) -> str:
    return (f"<header><h1>{esc(data.title)}</h1>"
            f"<p>Scanned <code>{esc(data.root)}</code> · {esc(_stamp(data.generated))}</p></header>")


def _nav(data: ReportData) -> str:
    links = [("overview", "Overview"), ("usage", "JSONP usage"), ("scan", "Endpoints and consumers"),
             ("rewrite", "Rewrite"), ("policy", "Policy")]
    return "<nav>" + "".join(f'<a href="#{key}">{esc(label)}</a>' for key, label in links) + "</nav>"


def _card(value: object, label: str) -> str:
    return f'<div class="card"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _overview(data: ReportData) -> str:
    result = data.result
    migratable = sum(1 for c in result.consumers if c.migratable)
    cards = [
        _card(len(result.endpoints), "JSONP endpoints"),
        _card(len(result.consumers), f"JSONP consumers ({migratable} migratable)"),
    ]
    if data.rewrite is not None and data.rewrite.note is None:
        cards.append(_card(len(data.rewrite.changes), "files the rewrite would change"))
    if data.policy is not None:
        cards.append(_card(len(data.policy.lint), "policy lint findings"))
        sunset = data.policy.sunset
        if sunset is not None:
            left = (sunset - data.generated.date()).days
            when = f"in {left} days" if left > 0 else ("today" if left == 0 else f"{-left} days ago")
            cards.append(_card(sunset.isoformat(), f"JSONP sunset ({when})"))
        else:
            cards.append(_card("none", "JSONP sunset date set"))
    if data.usage is not None and data.usage.total:
        still = sum(1 for o in data.usage.origins if o.recent)
        cards.append(_card(data.usage.total, "JSONP calls in the usage log"))
        refused = sum(e.refused for e in data.usage.endpoints)
        if refused:
            cards.append(_card(refused, "of them refused (410 after the sunset, 403 Referer check, ...)"))
        cards.append(_card(still, f"caller origins in the last {RECENT_DAYS} days of the log"))
        allows = data.policy.allows if data.policy is not None else None
        if allows is not None:
            outside = sum(1 for o in data.usage.origins if o.origin is not None
                          and _allowed_on(allows, o.origin, o.endpoints) < len(o.endpoints))
            cards.append(_card(outside, "caller origins the policy does not allow everywhere they call"))
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in data.notes)
    return (f'<section id="overview"><h2>Overview</h2><div class="cards">{"".join(cards)}</div>{notes}'
            "</section>")


# ------------------------------------------------------------------------------------ usage chart
def _nice_max(value: int) -> int:
    """The smallest 1/2/5 x 10^k at or above `value` (at least 1): a readable top for the y axis."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def chart_svg(series: Sequence[Series], days: Sequence[dt.date], *, sunset: dt.date | None = None,
              width: int = 860, height: int = 300) -> str:
    """A line chart of calls per day, one `<g class="series">` per endpoint with one circle per day."""
    left, right, top, bottom = 52, 16, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((count for s in series for _, count in s.points), default=0)
    y_max = _nice_max(peak)
    n = len(days)
    first, last = (days[0].isoformat(), days[-1].isoformat()) if days else ("-", "-")

    def x_at(index: int) -> float:
        return left + plot_w / 2 if n <= 1 else left + plot_w * index / (n - 1)

    def y_at(count: int) -> float:
        return top + plot_h * (1 - count / y_max)

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="chart-title chart-desc">',
           '<title id="chart-title">JSONP calls per day per endpoint</title>',
           f'<desc id="chart-desc">{len(series)} series over {n} days, {esc(first)} to {esc(last)}.</desc>',
           '<g class="axes">']
    ticks = 5 if y_max >= 5 else y_max
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = y_at(int(value)) if value == int(value) else top + plot_h * (1 - value / y_max)
        label = f"{value:g}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e6ec" '
                   'stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
    label_every = max(1, math.ceil(n / 10))
    labelled = set(range(0, n, label_every))
    if n > 1 and (n - 1) - max(labelled) >= label_every / 2:
        labelled.add(n - 1)  # the last day, unless its label would touch the previous one
    for index, day in enumerate(days):
        if index not in labelled:
            continue
        x = x_at(index)
        out.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" '
                   'stroke="#8a93a3" stroke-width="1"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                   f'{esc(day.strftime("%m-%d"))}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
               'stroke="#8a93a3" stroke-width="1"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">day (UTC)</text>')
    out.append("</g>")
    if sunset is not None and days and days[0] <= sunset <= days[-1]:
        x = x_at((sunset - days[0]).days)
        out.append(f'<g class="sunset"><line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                   'stroke="#cf222e" stroke-width="1.5" stroke-dasharray="5 4"/>'
                   f'<text x="{x + 4:.1f}" y="{top + 12}">sunset</text></g>')
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        coords = [(x_at(i), y_at(count)) for i, (_, count) in enumerate(one.points)]
        out.append(f'<g class="series" data-endpoint="{esc(one.label)}" data-total="{one.total}">')
        out.append(f"<title>{esc(one.label)}: {one.total} calls</title>")
        if len(coords) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        for (x, y), (day, count) in zip(coords, one.points, strict=True):
            out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" '
                       f'data-date="{day.isoformat()}" data-count="{count}">'
                       f"<title>{esc(one.label)} · {day.isoformat()}: {count}</title></circle>")
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _swatch(colour: str) -> str:
    return (f'<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
            f'<rect width="14" height="14" rx="2" fill="{colour}"/></svg>')


def _usage_section(data: ReportData) -> str:
    head = '<section id="usage"><h2>JSONP usage (from the shim\'s records)</h2>'
    usage = data.usage
    if usage is None:
        return (head + '<p class="note">No usage records given. Mount the shim with <code>usage=...</code> '
                "and pass its files with <code>--usage FILE</code> to see who still calls JSONP.</p>"
                "</section>")
    files = ", ".join(f"<code>{esc(f)}</code>" for f in usage.files)
    if not usage.total:
        skipped = f" ({usage.skipped} unreadable lines skipped)" if usage.skipped else ""
        return head + f'<p class="note">No JSONP calls recorded in {files}{esc(skipped)}.</p></section>'
    sunset = data.policy.sunset if data.policy is not None else None
    parts = [
        head,
        f"<p>{usage.total} JSONP calls from {esc(_day(usage.first))} to {esc(_day(usage.last))} UTC "
        f"in {files}" + (f"; {usage.skipped} unreadable lines skipped" if usage.skipped else "") + ".</p>",
        "<h3>Calls per day per endpoint</h3>",
        chart_svg(usage.series, usage.days, sunset=sunset),
        '<ul class="legend">' + "".join(
            f"<li>{_swatch(PALETTE[i % len(PALETTE)])}<code>{esc(s.label)}</code> ({s.total})</li>"
            for i, s in enumerate(usage.series)) + "</ul>",
        _daily_table(usage),
        "<h3>Endpoints</h3>",
        _table(["Endpoint", "Calls", "Refused", f"Last {RECENT_DAYS} days", "Caller origins", "First seen",
                "Last seen"],
               [[f"<code>{esc(e.path)}</code>", _num(e.count), _num(e.refused), _num(e.recent), _num(e.origins),
                 esc(_day(e.first)), esc(_day(e.last))] for e in usage.endpoints], numeric={1, 2, 3, 4}),
        "<h3>Caller origins still using JSONP</h3>",
        "<p>Origins come from the <code>Referer</code> of each JSONP call (script tags send no "
        "<code>Origin</code>). An origin the policy does not allow will break when its pages move to "
        "<code>fetch()</code>: add it to the policy or contact its owners before the sunset. "
        "<em>Refused</em> counts calls the shim answered with an error status: 410 after the sunset "
        "(a caller that has not migrated yet), 403 from the Referer check on credentialed routes.</p>",
        _origins_table(usage, data.policy),
        "</section>",
    ]
    return "".join(parts)


def _daily_table(usage: UsageView) -> str:
    header = "".join(f"<th class=\"num\">{esc(s.label)}</th>" for s in usage.series)
    rows = []
    for index, day in enumerate(usage.days):
        cells = "".join(f'<td class="num">{s.points[index][1]}</td>' for s in usage.series)
        rows.append(f"<tr><td>{esc(day.isoformat())}</td>{cells}</tr>")
    return ("<details><summary>Daily numbers</summary><table><thead><tr><th>Day</th>"
            f"{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>")


def _origins_table(usage: UsageView, policy: PolicyView | None) -> str:
    rows = []
    for o in usage.origins:
        name = "<em>no Referer</em>" if o.origin is None else f"<code>{esc(o.origin)}</code>"
        allowed = '<span class="note">?</span>'
        if policy is not None and policy.allows is not None and o.origin is not None:
            ok = _allowed_on(policy.allows, o.origin, o.endpoints)
            if ok == len(o.endpoints):
                allowed = '<span class="yes">yes</span>'
            elif ok == 0:
                allowed = '<span class="no">no</span>'
            else:
                allowed = f'<span class="no">on {ok} of {len(o.endpoints)} endpoints</span>'
        elif o.origin is None:
            allowed = '<span class="note">–</span>'
        endpoints = ", ".join(f"<code>{esc(p)}</code>" for p in o.endpoints)
        rows.append([name, _num(o.count), _num(o.refused), _num(o.recent), esc(_day(o.first)),
                     esc(_day(o.last)), allowed, endpoints])
    return _table(["Origin", "Calls", "Refused", f"Last {RECENT_DAYS} days", "First seen", "Last seen",
                   "Allowed by policy", "Endpoints"], rows, numeric={1, 2, 3})


def _allowed_on(allows: Callable[[str, str], bool], origin: str, paths: Sequence[str]) -> int:
    """On how many of `paths` the policy lets `origin` use CORS (a check that raises counts as refused)."""
    count = 0
    for path in paths:
        with contextlib.suppress(Exception):
            count += bool(allows(origin, path))
    return count


# ------------------------------------------------------------------------------------ tables
def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _num(value: int) -> str:
    return f"{value:,}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: set[int] | None = None,
           empty: str = "none", where: int | None = None) -> str:
    """Cells are HTML already (escaped by the caller); headers are plain text.

    Columns in `numeric` are right-aligned; column `where` (a file:line) is kept on one line.
    """
    if not rows:
        return f'<p class="note">{esc(empty)}</p>'
    numeric = numeric or set()

    def cls(index: int) -> str:
        if index in numeric:
            return ' class="num"'
        return ' class="where"' if index == where else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _where(file: str, line: int | None) -> str:
    return f"<code>{esc(file)}{':' + str(line) if line else ''}</code>"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return '<span class="note">?</span>'
    return '<span class="yes">yes</span>' if value else "no"


def _endpoint_row(e: Endpoint) -> list[str]:
    cred = _yes_no(e.credentials)
    if e.credentials and e.credentials_reason:
        cred += f' <span class="note">({esc(e.credentials_reason)})</span>'
    return [_where(e.file, e.line), f"<code>{esc(e.function)}</code>", esc(e.framework),
            f"<code>{esc(e.route)}</code>" if e.route else '<span class="note">–</span>',
            esc(", ".join(e.methods)), esc(", ".join(e.callback_params)), cred, esc(e.role),
            esc(e.confidence)]


def _consumer_row(c: Consumer) -> list[str]:
    linked = _where(c.endpoint.file, c.endpoint.line) if c.endpoint else '<span class="note">–</span>'
    kind = esc(c.kind) + (f' <span class="note">({esc(c.detail)})</span>' if c.detail else "")
    return [_where(c.file, c.line), kind,
            f"<code>{esc(c.url)}</code>" if c.url else '<span class="note">–</span>',
            f"<code>{esc(c.callback)}</code>" if c.callback else '<span class="note">–</span>',
            f"<code>{esc(c.target)}</code>" if c.target else '<span class="note">own or unknown</span>',
            _yes_no(c.migratable), linked]


def _scan_section(result: ScanResult) -> str:
    parts = ['<section id="scan"><h2>Endpoints and consumers</h2>',
             f"<p>{_plural(result.stats.files_seen, 'file')} seen, {result.stats.files_parsed} parsed in "
             f"{result.stats.seconds:.2f} s.</p>",
             f"<h3>JSONP endpoints ({len(result.endpoints)})</h3>",
             _table(["Where", "Function", "Framework", "Route", "Methods", "Callback params", "Credentials",
                     "Role", "Confidence"], [_endpoint_row(e) for e in result.endpoints],
                    empty="No JSONP endpoint found.", where=0),
             f"<h3>JSONP consumers ({len(result.consumers)})</h3>",
             _table(["Where", "Kind", "URL", "Callback", "Calls origin", "Migratable", "Endpoint"],
                    [_consumer_row(c) for c in result.consumers], empty="No JSONP consumer found.",
                    where=0)]
    if result.errors:
        parts.append(f"<h3>Files not fully read ({len(result.errors)})</h3>")
        rows = [[_where(e.file, e.line), esc(e.message)] for e in result.errors]
        parts.append(_table(["File", "Problem"], rows))
    parts.append("</section>")
    return "".join(parts)


# ------------------------------------------------------------------------------------ rewrite, policy
def _diff_html(diff: str) -> str:
    lines = diff.splitlines()
    cut = len(lines) > MAX_DIFF_LINES
    out = []
    for line in lines[:MAX_DIFF_LINES]:
        if line.startswith(("+++", "---")):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        else:
            cls = "ctx"
        out.append(f'<span class="{cls}">{esc(line) or " "}</span>')
    if cut:
        out.append(f'<span class="hunk">… {len(lines) - MAX_DIFF_LINES} more lines (run '
                   "<code>jsonp2cors rewrite --diff</code> for the whole diff)</span>")
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _rewrite_section(rewrite: RewriteView | None) -> str:
    head = '<section id="rewrite"><h2>What the rewrite would change</h2>'
    if rewrite is None:
        return head + '<p class="note">The rewrite plan was not computed (--no-rewrite).</p></section>'
    if rewrite.note is not None:
        return head + f'<p class="note">{esc(rewrite.note)}</p></section>'
    parts = [head, f"<p>{_plural(len(rewrite.changes), 'file')} would change. This report writes nothing; "
                   "the <code>jsonp2cors rewrite</code> command applies the plan.</p>"]
    for change in rewrite.changes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in change.notes)
        parts.append(f"<details><summary><code>{esc(change.rel)}</code> "
                     f'<span class="yes">+{change.added}</span> <span class="no">−{change.removed}</span>'
                     f"</summary>{'<ul>' + notes + '</ul>' if notes else ''}{_diff_html(change.diff)}"
                     "</details>")
    if rewrite.declined:
        parts.append(f"<h3>Left for a person ({len(rewrite.declined)})</h3>")
        rows = [[_where(d.file, d.line), esc(d.reason)] for d in rewrite.declined]
        parts.append(_table(["Where", "Why"], rows))
    parts.append("</section>")
    return "".join(parts)


def _policy_section(policy: PolicyView | None) -> str:
    head = '<section id="policy"><h2>CORS policy</h2>'
    if policy is None:
        return (head + '<p class="note">No policy given. Write one with '
                "<code>jsonp2cors policy generate</code> and pass it with "
                "<code>--policy cors-policy.toml</code>.</p></section>")
    lead = esc(policy.source[:1].upper() + policy.source[1:]) if policy.proposal else (
        f"From <code>{esc(policy.source)}</code>")
    parts = [head, f"<p>{lead}. "
                   f"{len(policy.allow_origins)} allowed origins at the top level; "
                   + (f"JSONP sunset on {esc(policy.sunset)}." if policy.sunset else "no sunset date.")
                   + "</p>"]
    if policy.note:
        parts.append(f'<p class="note">{esc(policy.note)}</p>')
    parts.append(f"<h3>Lint findings ({len(policy.lint)})</h3>")
    parts.append(_table(["Severity", "Code", "Where", "Finding"],
                        [[f'<span class="sev-{esc(f.severity)}">{esc(f.severity)}</span>',
                          f"<code>{esc(f.code)}</code>", f"<code>{esc(f.where)}</code>" if f.where else "",
                          esc(f.message)] for f in policy.lint], empty="The linter found nothing to report."))
    numbered = "".join(f'<span class="ln">{number}</span>{esc(line)}\n'
                       for number, line in enumerate(policy.text.splitlines(), 1))
    parts.append(f'<details><summary>The policy file</summary><pre class="toml">{numbered}</pre></details>')
    parts.append("</section>")
    return "".join(parts)
