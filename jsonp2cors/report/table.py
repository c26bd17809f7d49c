"""Terminal report of a scan (rich): findings grouped by file, clickable `path:line:col`, errors, summary."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, TypeVar

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.style import Style
from rich.table import Table
from rich.text import Text

from jsonp2cors.findings import Consumer, Endpoint, ScanError, ScanResult
from jsonp2cors.report.rules import (
    consumer_message,
    consumer_rule,
    endpoint_message,
    endpoint_rule,
    error_message,
)

Layout = Literal["auto", "table", "lines"]
_Record = TypeVar("_Record", Endpoint, Consumer)

#: Below this many columns the tables get too cramped to read; "auto" prints ruff-like lines instead.
MIN_TABLE_WIDTH = 140


def render_table(
    result: ScanResult,
    console: Console,
    *,
    layout: Layout = "auto",
    root: str | Path | None = None,
) -> None:
    """Print `result` on `console`.

    `layout="table"` draws an endpoints table and a consumers table, rows grouped by file;
    `layout="lines"` prints one ruff-like `path:line:col: CODE message` line per finding;
    `"auto"` picks tables when the console is at least `MIN_TABLE_WIDTH` wide.
    Locations link to `file://` URIs (OSC 8) on terminals that show colours; `root` (default `result.root`)
    is the folder the findings' relative paths start from.
    """
    base = Path(root if root is not None else result.root)
    tables = [t for t in (_endpoint_table(result.endpoints, base), _consumer_table(result.consumers, base))
              if t.row_count]
    if layout == "auto":
        # Tables only where every column keeps its minimum width; otherwise rich would crop the right edge.
        fits = all(Measurement.get(console, console.options, t).minimum <= console.width for t in tables)
        layout = "table" if console.width >= MIN_TABLE_WIDTH and fits else "lines"
    if layout == "table":
        for table in tables:
            console.print(table)
    else:
        _render_lines(result, console, base)
    if result.has_findings and result.errors:
        console.print()
    _render_errors(result.errors, console, base)
    if result.has_findings or result.errors:
        console.print()
    console.print(Text(summary_line(result)), soft_wrap=True)


def summary_line(result: ScanResult) -> str:
    """The closing line: what was found, where, and what the scan covered."""
    files = {e.file for e in result.endpoints} | {c.file for c in result.consumers}
    stats = result.stats
    if result.has_findings:
        found = (
            f"Found {_plural(len(result.endpoints), 'JSONP endpoint')} and "
            f"{_plural(len(result.consumers), 'consumer')} in {_plural(len(files), 'file')}."
        )
    else:
        found = "No JSONP endpoints or consumers found."
    covered = (
        f" Scanned {_plural(stats.files_seen, 'file')} ({stats.files_parsed} parsed) "
        f"in {stats.seconds:.2f} s"
    )
    extras: list[str] = []
    if result.errors:
        error_files = len({e.file for e in result.errors})
        extras.append(f"{_plural(error_files, 'file')} with errors")
    if stats.files_skipped_vendored:
        extras.append(f"{stats.files_skipped_vendored} vendored skipped (--include-vendored)")
    return found + covered + (f"; {', '.join(extras)}." if extras else ".")


# -- lines --------------------------------------------------------------------------------------------


def _render_lines(result: ScanResult, console: Console, base: Path) -> None:
    rows: list[tuple[str, int, int, Text]] = []
    for endpoint in result.endpoints:
        rule = endpoint_rule(endpoint)
        rows.append((endpoint.file, endpoint.line, endpoint.column, _line(
            base, str(endpoint.location), endpoint.file, rule.code, endpoint_message(endpoint))))
    for consumer in result.consumers:
        rule = consumer_rule(consumer)
        rows.append((consumer.file, consumer.line, consumer.column, _line(
            base, str(consumer.location), consumer.file, rule.code, consumer_message(consumer))))
    rows.sort(key=lambda row: row[:3])
    for *_, text in rows:
        console.print(text, soft_wrap=True)


def _line(base: Path, location: str, file: str, code: str, message: str) -> Text:
    text = Text()
    text.append(location, style=_link_style(base, file, "bold"))
    text.append(": ")
    text.append(code, style="bold red")
    text.append(" " + message)
    return text


# -- tables -------------------------------------------------------------------------------------------


def _endpoint_table(endpoints: Iterable[Endpoint], base: Path) -> Table:
    table = _new_table("JSONP endpoints")
    table.add_column("Location", no_wrap=True)
    table.add_column("Code", no_wrap=True)
    table.add_column("Function", overflow="fold")
    table.add_column("Framework", overflow="fold")
    table.add_column("Route", overflow="fold")
    table.add_column("Methods", overflow="fold")
    table.add_column("Callback params", overflow="fold")
    table.add_column("Credentials", overflow="fold")
    table.add_column("Role / confidence", overflow="fold")
    for index, group in enumerate(_by_file(endpoints)):
        if index:
            table.add_section()
        for endpoint in group:
            rule = endpoint_rule(endpoint)
            credentials = "no"
            if endpoint.credentials:
                reason = endpoint.credentials_reason
                credentials = "yes" + (f": {reason}" if reason else "")
            role = f"{endpoint.role}, {endpoint.confidence}"
            if endpoint.recognised_by:
                role += f" ({endpoint.recognised_by})"
            if endpoint.test_code:
                role += ", test code"
            table.add_row(
                _location(base, endpoint.file, str(endpoint.location)),
                Text(rule.code, style="bold red"),
                Text(endpoint.function),
                Text(endpoint.framework),
                Text(endpoint.route or "-"),
                Text(", ".join(endpoint.methods) or "-"),
                Text(", ".join(endpoint.callback_params) or "-"),
                Text(credentials, style="yellow" if endpoint.credentials else ""),
                Text(role),
            )
    return table


def _consumer_table(consumers: Iterable[Consumer], base: Path) -> Table:
    table = _new_table("JSONP consumers")
    table.add_column("Location", no_wrap=True)
    table.add_column("Code", no_wrap=True)
    table.add_column("Kind", overflow="fold", max_width=16)
    table.add_column("Target", overflow="fold", max_width=28)
    table.add_column("URL (after target)", overflow="fold")
    table.add_column("Callback", overflow="fold", max_width=24)
    table.add_column("Migratable", no_wrap=True)
    table.add_column("Endpoint", overflow="fold", max_width=30)
    for index, group in enumerate(_by_file(consumers)):
        if index:
            table.add_section()
        for consumer in group:
            rule = consumer_rule(consumer)
            callback = consumer.callback or "-"
            if consumer.callback_param:  # "…": the name is not in the source (generated at run time)
                callback = f"{consumer.callback_param}={consumer.callback or '…'}"
            kind = Text(consumer.kind + (" (test code)" if consumer.test_code else ""))
            url = Text(_url_after_target(consumer))
            if consumer.detail:  # under the URL: that column gets the width the others leave
                url.append("\n" + consumer.detail, style="dim")
            if consumer.endpoint is not None:
                ref = f"{consumer.endpoint.file}:{consumer.endpoint.line}"
                endpoint_cell = _location(base, consumer.endpoint.file, ref)
                if consumer.credentials:
                    endpoint_cell.append("\nwith credentials", style="yellow")
            else:
                endpoint_cell = Text("-")
            table.add_row(
                _location(base, consumer.file, str(consumer.location)),
                Text(rule.code, style="bold red"),
                kind,
                Text(consumer.target or "-"),
                url,
                Text(callback),
                Text("yes" if consumer.migratable else "no", style="" if consumer.migratable else "dim"),
                endpoint_cell,
            )
    return table


def _url_after_target(consumer: Consumer) -> str:
    """The URL without its origin when the Target column already shows that origin (saves a wide column)."""
    url = consumer.url or "-"
    if consumer.target and url.startswith(consumer.target) and len(url) > len(consumer.target):
        return url[len(consumer.target):]
    return url


def _new_table(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)


def _by_file(records: Iterable[_Record]) -> list[list[_Record]]:
    groups: dict[str, list[_Record]] = {}
    for record in sorted(records, key=lambda r: (r.file, r.line, r.column)):
        groups.setdefault(record.file, []).append(record)
    return list(groups.values())


# -- errors and links ---------------------------------------------------------------------------------


def _render_errors(errors: Iterable[ScanError], console: Console, base: Path) -> None:
    errors = list(errors)
    if not errors:
        return
    console.print(Text(f"Errors ({len(errors)})", style="bold"))
    for error in errors:
        location = error.file if error.line is None else f"{error.file}:{error.line}"
        text = Text()
        text.append(location, style=_link_style(base, error.file, "bold"))
        text.append(": ")
        text.append("JP900", style="bold yellow")
        text.append(" " + error_message(error))
        console.print(text, soft_wrap=True)


def _location(base: Path, file: str, label: str) -> Text:
    return Text(label, style=_link_style(base, file, "cyan"))


def _link_style(base: Path, file: str, style: str) -> Style:
    try:
        uri = (base / file).resolve().as_uri()
    except (OSError, ValueError):
        return Style.parse(style)
    return Style.parse(style) + Style(link=uri)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
