"""The rich terminal report: content of the table and lines layouts, links, errors and the summary line."""

from __future__ import annotations

import io
import re

from rich.console import Console

from jsonp2cors.findings import Endpoint, ScanError, ScanResult, ScanStats
from jsonp2cors.report import write_report
from jsonp2cors.report.table import MIN_TABLE_WIDTH, render_table, summary_line
from tests.report.sample import sample_result

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>JP\d{3}) (?P<message>.+)$")


def render(result: ScanResult, *, width: int, layout: str = "auto", terminal: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, no_color=not terminal,
                      color_system="truecolor" if terminal else None, highlight=False)
    render_table(result, console, layout=layout)  # type: ignore[arg-type]
    return out.getvalue()


def test_table_layout_has_every_column_and_location() -> None:
    text = render(sample_result(), width=220, layout="table")
    for header in ("Location", "Code", "Function", "Framework", "Route", "Methods", "Callback params",
                   "Credentials", "Role / confidence", "Kind", "Target", "URL", "Callback", "Migratable",
                   "Endpoint"):
        assert header in text, header
    for location in ("app/views.py:12:1", "app/views.py:40:5", "app/helpers.py:3:1",
                     "templates/index.html:30:1", "static/app.js:7:3", "static/map.js:3:1"):
        assert location in text, location
    assert "ProfileView.get" in text and "GET, POST" in text and "cb, jsonp" in text
    assert "yes: reads the session" in text
    assert "helper, medium (project-helper)" in text
    assert "JSONP endpoints" in text and "JSONP consumers" in text


def test_table_rows_are_grouped_by_file_in_order() -> None:
    text = render(sample_result(), width=220, layout="table")
    endpoints_part = text[text.index("JSONP endpoints"):text.index("JSONP consumers")]
    order = [endpoints_part.index(loc) for loc in
             ("app/helpers.py:3:1", "app/views.py:12:1", "app/views.py:40:5", "legacy/py2 views.py:8:1",
              "tests/test_api.py:20:1")]
    assert order == sorted(order)
    # a blank separator line between files, none between two rows of the same file
    rows = endpoints_part.splitlines()
    helper_row = next(i for i, r in enumerate(rows) if "app/helpers.py:3:1" in r)
    assert rows[helper_row + 1].strip() == ""
    first_view = next(i for i, r in enumerate(rows) if "app/views.py:12:1" in r)
    assert "app/views.py:40:5" in rows[first_view + 1] or "app/views.py:40:5" in rows[first_view + 2]


def test_consumer_table_shows_target_path_callback_and_linked_endpoint() -> None:
    text = render(sample_result(), width=220, layout="table")
    consumers = text[text.index("JSONP consumers"):]
    row = next(r for r in consumers.splitlines() if "templates/index.html:30:1" in r)
    assert "script-tag" in row and "https://api.example.com" in row
    assert "/weather?callback=show" in row and "callback=show" in row and "app/views.py:12" in row
    ajax_rows = consumers[consumers.index("static/app.js:7:3"):].splitlines()
    assert "app/views.py:40" in ajax_rows[0] and "with credentials" in ajax_rows[1]
    map_row = next(r for r in consumers.splitlines() if "static/map.js:3:1" in r)
    assert re.search(r"\bno\b", map_row)
    assert "Google Maps loader" in consumers


def test_lines_layout_is_ruff_like_and_sorted() -> None:
    result = sample_result()
    text = render(result, width=80, layout="lines")
    finding_lines = [line for line in text.splitlines() if LINE.match(line)]
    assert len(finding_lines) == len(result.endpoints) + len(result.consumers)
    keys = [(m["path"], int(m["line"]), int(m["col"])) for m in map(LINE.match, finding_lines) if m]
    assert keys == sorted(keys)
    by_location = {f"{m['path']}:{m['line']}:{m['col']}": m for m in map(LINE.match, finding_lines) if m}
    assert by_location["app/views.py:12:1"]["code"] == "JP100"
    assert by_location["app/helpers.py:3:1"]["code"] == "JP101"
    assert by_location["tests/test_api.py:20:1"]["code"] == "JP102"
    assert by_location["templates/index.html:30:1"]["code"] == "JP201"
    assert by_location["static/app.js:7:3"]["code"] == "JP202"
    assert by_location["static/app.js:19:1"]["code"] == "JP203"
    assert by_location["static/ng.js:4:1"]["code"] == "JP204"
    assert by_location["static/map.js:3:1"]["code"] == "JP205"
    assert by_location["static/lib.js:11:1"]["code"] == "JP206"
    profile = by_location["app/views.py:40:5"]["message"]
    assert "ProfileView.get" in profile and "/api/[id]/profile" in profile and "reads the session" in profile
    assert "calls app/views.py:12" in by_location["templates/index.html:30:1"]["message"]
    assert "calls app/views.py:40 (with credentials)" in by_location["static/app.js:7:3"]["message"]
    assert "not data" in by_location["static/map.js:3:1"]["message"]


def test_auto_layout_picks_lines_on_narrow_consoles_and_tables_on_wide_ones() -> None:
    narrow = render(sample_result(), width=80)
    assert "Role / confidence" not in narrow
    assert any(LINE.match(line) for line in narrow.splitlines())
    wide = render(sample_result(), width=max(MIN_TABLE_WIDTH, 220))
    assert "Role / confidence" in wide


def test_tables_never_overflow_the_console() -> None:
    # (the lines layout deliberately never wraps, so that each finding stays one greppable line)
    for width in (MIN_TABLE_WIDTH, 150, 180):
        text = render(sample_result(), width=width)
        tables = text.split("Errors (")[0]
        assert max(len(line) for line in tables.splitlines()) <= width


def test_errors_are_listed_with_their_reason() -> None:
    text = render(sample_result(), width=200)
    assert "Errors (2)" in text
    assert "legacy/old.py:3: JP900 scan error: Python 2 syntax" in text
    assert "static/bundle.bin.js: JP900 scan error: skipped: undecodable bytes" in text


def test_summary_line_counts() -> None:
    result = sample_result()
    line = summary_line(result)
    assert line.startswith("Found 5 JSONP endpoints and 7 consumers in 9 files.")
    assert "Scanned 120 files (9 parsed) in 0.42 s" in line
    assert "2 files with errors" in line and "4 vendored skipped" in line
    assert summary_line(ScanResult()).startswith("No JSONP endpoints or consumers found.")
    one = ScanResult(endpoints=(Endpoint("a.py", 1, "f"),), stats=ScanStats(files_seen=1, files_parsed=1))
    assert summary_line(one).startswith("Found 1 JSONP endpoint and 0 consumers in 1 file.")
    errors_only = ScanResult(errors=(ScanError("x.py", "Python 2 syntax"),))
    assert "1 file with errors" in summary_line(errors_only)


def test_summary_is_the_last_line() -> None:
    text = render(sample_result(), width=100)
    assert text.rstrip().splitlines()[-1] == summary_line(sample_result())


def test_locations_are_file_uri_links_on_a_terminal(tmp_path: object) -> None:
    text = render(sample_result(root="/srv/app"), width=200, terminal=True)
    assert "\x1b]8;" in text  # OSC 8 hyperlink
    assert "file:///srv/app/app/views.py" in text
    assert "file:///srv/app/legacy/py2%20views.py" in text


def test_no_escape_codes_without_a_terminal() -> None:
    text = render(sample_result(), width=200)
    assert "\x1b" not in text


def test_values_are_printed_literally_not_as_markup() -> None:
    result = ScanResult(endpoints=(Endpoint("a.py", 1, "f", route="/x/[bold]y[/bold]/[/]"),))
    for layout in ("table", "lines"):
        text = render(result, width=200, layout=layout)
        assert "/x/[bold]y[/bold]/[/]" in text


def test_write_report_table_to_a_plain_stream() -> None:
    out = io.StringIO()
    write_report(sample_result(), "table", out, terminal=False, width=160)
    text = out.getvalue()
    assert "\x1b" not in text
    assert "JSONP endpoints" in text
    assert text.rstrip().endswith(".")
