"""The HTML migration report: content, the usage chart, escaping of hostile strings, the CLI, and Chromium."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jsonp2cors.cli import app
from jsonp2cors.findings import Consumer, Endpoint, EndpointRef, ScanError, ScanResult
from jsonp2cors.report.html import (
    CSS,
    LintItem,
    PolicyView,
    ReportData,
    RewriteView,
    _nice_max,
    build_report,
    policy_view,
    render,
    rewrite_view,
    usage_view,
)
from jsonp2cors.shim.usage import UsageRecord, read_usage
from tests.report.sample import sample_result

ROOT = Path(__file__).resolve().parents[2]
USAGE = Path(__file__).resolve().parent / "html_data" / "usage.jsonl"
NOW = dt.datetime(2026, 10, 15, 9, 30, tzinfo=dt.timezone.utc)
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


# ---------------------------------------------------------------------------------------- helpers
@dataclass
class Page(HTMLParser):
    """The parts of a rendered report the tests look at, gathered with the standard HTML parser."""

    tags: Counter[str] = field(default_factory=Counter)
    attributes: list[tuple[str, str, str | None]] = field(default_factory=list)
    series: list[dict[str, str | None]] = field(default_factory=list)
    points: list[dict[str, str | None]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    style: str = ""
    _in_style: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.extend((tag, name, value) for name, value in attrs)
        values = dict(attrs)
        if tag == "g" and values.get("class") == "series":
            self.series.append(values)
        if tag == "circle" and values.get("class") == "point":
            self.points.append(values)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def parse(document: str) -> Page:
    page = Page()
    page.feed(document)
    page.close()
    return page


def raw_daily_counts(path: Path) -> dict[str, Counter[str]]:
    """Calls per endpoint per day, counted straight from the JSON lines (independently of the report)."""
    counts: dict[str, Counter[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            day, endpoint = record["time"][:10], record["path"]
        except (ValueError, KeyError, TypeError):
            continue
        counts.setdefault(endpoint, Counter())[day] += 1
    return counts


def report(result: ScanResult | None = None, **kwargs: Any) -> str:
    return render(ReportData(result=result or ScanResult(), generated=NOW, **kwargs))


# ---------------------------------------------------------------------------------------- usage chart
def test_usage_view_counts_every_endpoint_every_day_from_the_records() -> None:
    log = read_usage([USAGE])
    view = usage_view(log, files=[str(USAGE)], skipped=log.skipped)
    expected = raw_daily_counts(USAGE)

    assert view.skipped == 3  # a blank line, a cut-off record and a line that is not JSON
    assert view.total == sum(sum(c.values()) for c in expected.values())
    assert len(view.days) == 14 and view.days[0] == dt.date(2026, 10, 1)
    assert {s.label for s in view.series} == set(expected)
    for series in view.series:
        assert len(series.points) == 14
        assert {d.isoformat(): n for d, n in series.points if n} == dict(expected[series.label])
        assert series.total == sum(expected[series.label].values())
    # Most used first; /api/news stopped on day 9 and so has no calls in the last week.
    assert [e.path for e in view.endpoints] == ["/api/weather", "/api/news", "/api/account"]
    news = next(e for e in view.endpoints if e.path == "/api/news")
    assert news.recent == 0 + sum(n for d, n in expected["/api/news"].items() if d >= "2026-10-08")
    no_referer = [o for o in view.origins if o.origin is None]
    assert no_referer and no_referer[0].endpoints == ("/api/news",)
    # Calls the shim refused (410 after the fixture's sunset, 403 from the Referer check), per endpoint.
    refused: Counter[str] = Counter()
    for line in USAGE.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            if record["status"] >= 400:
                refused[record["path"]] += 1
        except (ValueError, KeyError, TypeError):
            continue
    assert {e.path: e.refused for e in view.endpoints if e.refused} == dict(refused)
    scraper = next(o for o in view.origins if o.origin == "https://scraper.example.net")
    assert scraper.refused == scraper.count == 2


def test_chart_has_one_series_per_endpoint_and_one_point_per_day() -> None:
    log = read_usage([USAGE])
    page = parse(report(usage=usage_view(log, files=["usage.jsonl"], skipped=log.skipped)))
    expected = raw_daily_counts(USAGE)

    assert page.tags["svg"] >= 1
    assert [s["data-endpoint"] for s in page.series] == ["/api/weather", "/api/news", "/api/account"]
    assert len(page.points) == 3 * 14
    drawn: dict[str, int] = Counter()
    for point in page.points:
        drawn[str(point["data-date"])] += int(str(point["data-count"]))
    per_day: Counter[str] = Counter()
    for days in expected.values():
        per_day.update(days)
    assert {d: n for d, n in drawn.items() if n} == dict(per_day)


def test_chart_folds_the_least_used_endpoints_into_one_series() -> None:
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    records = [UsageRecord(start + dt.timedelta(days=i % 3, minutes=i), "GET", f"/api/e{n}", "callback", "f")
               for n in range(11) for i in range(n + 1)]
    view = usage_view(records, max_series=8)
    assert len(view.series) == 9
    other = view.series[-1]
    assert other.label == "3 other endpoints"
    assert other.total == 1 + 2 + 3  # /api/e0, e1, e2: the least used
    assert sum(s.total for s in view.series) == len(records)


def test_single_day_draws_points_without_a_line() -> None:
    when = dt.datetime(2026, 5, 5, 12, tzinfo=dt.timezone.utc)
    view = usage_view([UsageRecord(when, "GET", "/a", "callback", "f"),
                       UsageRecord(when, "GET", "/b", "cb", "g")])
    page = parse(report(usage=view))
    assert len(page.series) == 2 and len(page.points) == 2
    assert page.tags["polyline"] == 0


def test_sunset_inside_the_logged_period_is_marked_on_the_chart() -> None:
    log = read_usage([USAGE])
    policy = PolicyView("cors-policy.toml", "version = 1\n", sunset=dt.date(2026, 10, 10))
    assert 'class="sunset"' in report(usage=usage_view(log), policy=policy)
    later = PolicyView("cors-policy.toml", "version = 1\n", sunset=dt.date(2027, 1, 1))
    assert 'class="sunset"' not in report(usage=usage_view(log), policy=later)


@pytest.mark.parametrize(("peak", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (20, 20), (21, 50), (999, 1000)])
def test_y_axis_top_is_a_round_number(peak: int, top: int) -> None:
    assert _nice_max(peak) == top


def test_without_usage_records_the_page_says_how_to_get_them() -> None:
    page = report()
    assert "No usage records given" in page
    assert 'class="series"' not in page


# ---------------------------------------------------------------------------------------- content
def test_scan_records_rewrite_and_policy_all_appear() -> None:
    @dataclass
    class Edit:
        rel: str
        before: bytes
        after: bytes
        notes: tuple[str, ...] = ()

    @dataclass
    class Gone:
        file: str
        line: int
        reason: str

    @dataclass
    class Plan:
        edits: list[Edit]
        declined: list[Gone]

    plan = Plan([Edit("templates/index.html", b'<script src="/w?callback=show"></script>\r\n',
                      b"<script>fetch('/w').then(r => r.json()).then(show)</script>\r\n", ("uses fetch",))],
                [Gone("static/map.js", 3, "a script loader, not data")])
    text = report(sample_result(), rewrite=rewrite_view(plan),
                  policy=PolicyView("cors-policy.toml", 'version = 1\n[cors]\nallow_origins = ["https://a.example"]\n',
                                    ("https://a.example",), None,
                                    (LintItem("CP101", "error", "credentials with a wildcard", "cors"),)))
    for needle in ("app/views.py:12", "ProfileView.get", "reads the session", "Google Maps loader",
                   "templates/index.html", "uses fetch", "a script loader, not data", "CP101",
                   "credentials with a wildcard", "allow_origins", "Python 2 syntax"):
        assert needle in text, needle
    page = parse(text)
    assert "".join(page.text).count("fetch('/w')") == 1
    assert '<span class="add">+&lt;script&gt;fetch' in text
    assert '<span class="del">-&lt;script src=' in text


def test_rewrite_unavailable_is_a_note_not_a_failure() -> None:
    text = report(rewrite=RewriteView(note="The rewrite is not available in this installation."))
    assert "not available" in text


def test_policy_view_marks_caller_origins_the_policy_allows() -> None:
    from jsonp2cors.policy import Policy

    # news.example.com calls /api/weather and /api/account; the account route allows only the partners.
    policy = Policy.from_toml('version = 1\n[cors]\nallow_origins = ["https://news.example.com", '
                              '"https://*.partner.example"]\n[jsonp]\nsunset = "2026-12-31"\n'
                              '[[route]]\npath = "/api/account"\nallow_origins = ["https://*.partner.example"]\n')
    view = policy_view(policy, source="cors-policy.toml")
    assert view.sunset == dt.date(2026, 12, 31)
    assert view.allows is not None
    assert view.allows("https://blog.partner.example", "/api/weather")
    assert not view.allows("http://old.example.org", "/api/news")
    assert not view.allows("https://news.example.com", "/api/account")
    text = report(usage=usage_view(read_usage([USAGE])), policy=view)
    rows = re.findall(r'<tr><td><code>([^<]+)</code></td>(?:(?!</tr>).)*?<span class="(?:yes|no)">([^<]+)<',
                      text)
    assert dict(rows) == {"https://news.example.com": "on 1 of 2 endpoints",
                          "https://blog.partner.example": "yes", "http://old.example.org": "no",
                          "https://scraper.example.net": "no"}
    assert "<b>3</b><span>caller origins the policy does not allow everywhere they call" in text


def test_policy_file_lint_findings_point_into_the_file(tmp_path: Path) -> None:
    pytest.importorskip("jsonp2cors.policy.lint")
    policy = tmp_path / "cors-policy.toml"
    policy.write_text('version = 1\n[cors]\nallow_origins = ["https://a.example", "http://b.example"]\n'
                      'max_age = 86400\n[jsonp]\nsunset = "2026-10-01"\n', encoding="utf-8")
    data = build_report(tmp_path, policy_file=policy, with_rewrite=False, now=NOW)
    assert data.policy is not None and not data.policy.proposal
    where = {item.code: item.where for item in data.policy.lint}
    assert {"CP101", "CP102", "CP105"} <= set(where)  # http next to https, max_age too high, sunset passed
    assert str(where["CP102"]).startswith("line 4:")
    text = render(data)
    assert "allow_origins = [&quot;https://a.example&quot;" in text  # the file as written
    assert "Lint findings (" in text and "CP105" in text
    assert '<span class="ln">4</span>max_age = 86400' in text  # the line the CP102 finding points at


def test_without_a_policy_the_report_proposes_one_from_scan_and_usage() -> None:
    pytest.importorskip("jsonp2cors.policy.generate")
    data = build_report(ROOT / "fixtures" / "flask", usage_files=[USAGE], with_rewrite=False, now=NOW)
    assert data.policy is not None and data.policy.proposal
    assert data.policy.allows is not None and data.policy.allows("https://news.example.com", "/api/weather")
    assert "this is the policy jsonp2cors would generate" in render(data)


# ---------------------------------------------------------------------------------------- escaping
def _hostile_result(value: str) -> ScanResult:
    return ScanResult(
        endpoints=(Endpoint(f"app/{value}.py", 1, value, "flask", value, ("GET",), (value,), True,
                            credentials_reason=value),),
        consumers=(Consumer(f"templates/{value}.html", 2, "script-tag", value, value, value, True, value,
                            endpoint=EndpointRef(value, 1), detail=value),),
        errors=(ScanError(value, value, 3),),
    )


def _hostile_everything(value: str) -> str:
    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)

    @dataclass
    class Edit:
        rel: str
        before: bytes
        after: bytes
        notes: tuple[str, ...]

    @dataclass
    class Plan:
        edits: list[Edit]
        declined: list[Any]

    plan = Plan([Edit(value, value.encode(), (value + "x").encode(), (value,))], [])
    usage = usage_view([UsageRecord(when, "GET", value, "callback", value, origin=value)], files=[value])
    policy = PolicyView(value, value, (value,), None, (LintItem(value, value, value, value),), value)
    return render(ReportData(_hostile_result(value), NOW, root=value, rewrite=rewrite_view(plan),
                             policy=policy, usage=usage, title=value, notes=(value,)))


def _assert_inert(document: str) -> Page:
    page = parse(document)
    assert page.tags["script"] == 0
    assert page.tags["img"] == 0
    for tag, name, value in page.attributes:
        assert not name.startswith("on"), (tag, name, value)
        if name in ("href", "src", "xlink:href"):
            assert value is not None and (value.startswith("#") or value == "data:,"), (tag, name, value)
    return page


def test_hostile_strings_from_scanned_files_are_shown_as_text() -> None:
    document = _hostile_everything(HOSTILE)
    page = _assert_inert(document)
    assert "<script>" not in document
    assert HOSTILE in "".join(page.text)  # visible to the reader, exactly as found


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_string_renders_inert(value: str) -> None:
    _assert_inert(_hostile_everything(value))


def test_control_characters_are_made_visible() -> None:
    document = report(_hostile_result("a\x00b\x1bc"))
    assert "\x00" not in document and "\x1b" not in document
    assert "a\ufffdb\ufffdc" in document


def test_content_security_policy_forbids_scripts_and_network_and_matches_the_style() -> None:
    document = report()
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', document)
    assert match is not None
    csp = match.group(1).replace("&#x27;", "'")
    assert "default-src 'none'" in csp and "script-src" not in csp
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert parse(document).style == CSS


# ---------------------------------------------------------------------------------------- CLI
def test_cli_writes_the_report_and_exits_1_when_jsonp_is_found(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(ROOT / "fixtures" / "flask"), "--usage", str(USAGE),
                                      "-o", str(out), "--no-rewrite"])
    assert result.exit_code == 1, result.output
    text = out.read_text(encoding="utf-8")
    assert "JSONP endpoints" in text and 'class="series"' in text
    total = sum(sum(days.values()) for days in raw_daily_counts(USAGE).values())
    assert f"{total} JSONP calls" in result.output


def test_cli_exit_zero_stdout_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = ROOT / "fixtures" / "flask"
    to_stdout = runner.invoke(app, ["report", str(folder), "-o", "-", "--exit-zero", "--no-rewrite"])
    assert to_stdout.exit_code == 0
    assert to_stdout.output.startswith("<!DOCTYPE html>")
    missing = runner.invoke(app, ["report", str(folder), "--usage", str(tmp_path / "nope.jsonl"),
                                  "-o", str(tmp_path / "r.html")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    assert not (tmp_path / "r.html").exists()
    bad_policy = tmp_path / "cors-policy.toml"
    bad_policy.write_text("version = 1\n[cors]\nallow_origins = 5\n", encoding="utf-8")
    refused = runner.invoke(app, ["report", str(folder), "--policy", str(bad_policy),
                                  "-o", str(tmp_path / "r.html")])
    assert refused.exit_code == 2 and "allow_origins" in refused.output


def test_build_report_on_an_empty_folder(tmp_path: Path) -> None:
    data = build_report(tmp_path, now=NOW)
    assert not data.result.has_findings
    text = render(data)
    assert "No JSONP endpoint found." in text and "No JSONP consumer found." in text


# ---------------------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_report_opens_in_chromium_without_console_errors(tmp_path: Path, chromium: Any) -> None:
    from tests.e2e.harness import ARTIFACTS

    policy = tmp_path / "cors-policy.toml"
    policy.write_text('version = 1\n[cors]\nallow_origins = ["https://news.example.com"]\n'
                      '[jsonp]\nsunset = "2026-10-12"\n', encoding="utf-8")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(ROOT / "fixtures" / "flask"), "--usage", str(USAGE),
                                      "--policy", str(policy), "-o", str(out), "--exit-zero"])
    assert result.exit_code == 0, result.output

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        console: list[tuple[str, str]] = []
        requests: list[str] = []
        page.on("console", lambda msg: console.append((msg.type, msg.text)))
        page.on("pageerror", lambda exc: console.append(("pageerror", str(exc))))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(out.as_uri(), wait_until="load")

        chart = page.locator("svg.chart")
        assert chart.count() == 1
        box = chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150
        assert page.locator("svg.chart g.series").count() == 3
        assert page.locator("svg.chart circle.point").count() == 3 * 14
        assert page.locator("svg.chart g.sunset").count() == 1
        # The style sheet applied (the CSP hash matched): cards are laid out as flex boxes.
        assert page.locator(".cards").evaluate("e => getComputedStyle(e).display") == "flex"
        assert page.locator("#usage table").count() >= 2
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    finally:
        context.close()
    assert [m for m in console if m[0] in ("error", "warning", "pageerror")] == []
    assert requests == [out.as_uri()]  # nothing but the file itself: no network, no CDN
