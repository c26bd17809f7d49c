"""Consumer scan of the fixture apps: every `expect:` marker found, nothing else, right details."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from jsonp2cors.findings import Consumer, ScanResult
from jsonp2cors.scan import scan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MARKER = re.compile(r"expect: ([a-z-]+) #([\w-]+)")
PAGE_SUFFIXES = (".html", ".djhtml", ".js", ".vue", ".php", ".jsp", ".erb", ".py")


def _markers() -> dict[str, tuple[str, int, str]]:
    """marker id -> (file relative to fixtures/, line, kind)"""
    found: dict[str, tuple[str, int, str]] = {}
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or not path.name.endswith(PAGE_SUFFIXES) or "expected" in path.parts:
            continue
        rel = path.relative_to(FIXTURES).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for m in MARKER.finditer(line):
                assert m.group(2) not in found, f"duplicate marker id {m.group(2)}"
                found[m.group(2)] = (rel, number, m.group(1))
    return found


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan([FIXTURES])


@pytest.fixture(scope="module")
def by_marker(result: ScanResult) -> dict[str, Consumer]:
    index = {(c.file, c.line, c.kind): c for c in result.consumers}
    return {mid: index[key] for mid, key in _markers().items() if key in index}


def test_every_marker_found_and_nothing_else(result: ScanResult) -> None:
    expected = set(_markers().values())
    got = {(c.file, c.line, c.kind) for c in result.consumers}
    assert sorted(expected - got) == [], "consumers missed"
    assert sorted(got - expected) == [], "false positives"


def test_every_kind_is_exercised() -> None:
    kinds = Counter(kind for _, _, kind in _markers().values())
    assert set(kinds) == {
        "script-tag",
        "jquery-ajax",
        "jquery-getjson",
        "angular-jsonp",
        "dynamic-script",
        "other",
    }


def test_expected_details(by_marker: dict[str, Consumer]) -> None:
    details = json.loads((FIXTURES / "expected" / "consumers.json").read_text(encoding="utf-8"))
    details.pop("_comment")
    assert set(details) <= set(_markers()), "consumers.json names an unknown marker"
    wrong = []
    for mid, want in details.items():
        consumer = by_marker.get(mid)
        if consumer is None:
            continue  # reported by test_every_marker_found_and_nothing_else
        for key, value in want.items():
            if key == "endpoint":
                continue
            got = getattr(consumer, key)
            ok = value in (got or "") if key == "detail" else got == value
            if not ok:
                wrong.append(f"{mid}.{key}: want {value!r}, got {got!r}")
    assert wrong == []


def test_links_to_endpoints(result: ScanResult, by_marker: dict[str, Consumer]) -> None:
    details = json.loads((FIXTURES / "expected" / "consumers.json").read_text(encoding="utf-8"))
    routed = {f"{e.file}::{e.function}": e for e in result.endpoints if e.route}
    routed.update({f"{e.file}::{e.function}::{e.route}": e for e in result.endpoints if e.route})
    checked, wrong = 0, []
    for mid, want in details.items():
        if mid.startswith("_") or "endpoint" not in want or mid not in by_marker:
            continue
        consumer = by_marker[mid]
        target = want["endpoint"]
        if target is None:
            checked += 1
            if consumer.endpoint is not None:
                wrong.append(f"{mid}: must not link, linked to {consumer.endpoint}")
            continue
        endpoint = routed.get(target)
        if endpoint is None:
            continue  # the endpoint scan does not (yet) report this route: nothing to link to
        checked += 1
        if consumer.endpoint is None or (consumer.endpoint.file, consumer.endpoint.line) != (
            endpoint.file,
            endpoint.line,
        ):
            wrong.append(f"{mid}: want {target} ({endpoint.file}:{endpoint.line}), got {consumer.endpoint}")
        elif consumer.credentials != endpoint.credentials:
            wrong.append(f"{mid}: credentials {consumer.credentials} != endpoint's {endpoint.credentials}")
    assert wrong == []
    assert checked >= 3


def test_positions_are_exact_inside_inline_scripts(result: ScanResult) -> None:
    page = (FIXTURES / "flask/templates/index.html").read_text(encoding="utf-8").splitlines()
    for c in result.consumers:
        if c.file == "flask/templates/index.html" and c.kind != "script-tag":
            assert page[c.line - 1][c.column - 1 :].startswith("$."), c


def test_wrapper_call_sites_in_files_without_needles(tmp_path: Path) -> None:
    (tmp_path / "lib.js").write_text(
        "function fetchRemote(url, done) {\n  var n = 'r' + Date.now();\n  window[n] = done;\n"
        "  var s = document.createElement('script');\n  s.src = url + '?callback=' + n;\n"
        "  document.head.appendChild(s);\n}\n",
        encoding="utf-8",
    )
    (tmp_path / "sidebar.js").write_text("fetchRemote('/api/ticker', render);\n", encoding="utf-8")
    (tmp_path / "page.html").write_text(
        "<p>x</p>\n<button onclick=\"fetchRemote('/api/more', render)\">more</button>\n", encoding="utf-8"
    )
    result = scan([tmp_path])
    got = sorted((c.file, c.line, c.kind, c.url) for c in result.consumers)
    assert got == [
        ("lib.js", 4, "dynamic-script", "{url}?callback=r{…}"),
        ("page.html", 2, "dynamic-script", "/api/more"),
        ("sidebar.js", 1, "dynamic-script", "/api/ticker"),
    ]
