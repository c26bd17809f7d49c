"""The bundled legacy apps: exact endpoints per framework (fixtures/expected/*.json), no near-miss reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jsonp2cors.findings import Endpoint, ScanResult
from jsonp2cors.scan import scan

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
EXPECTED = sorted(
    p for p in (FIXTURES / "expected").glob("*.json") if "near_misses" in json.loads(p.read_text())
)
KEYS = ("file", "line", "function", "route", "methods", "callback_params", "credentials", "role", "test_code",
        "framework")


def _row(e: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in KEYS:
        v = getattr(e, k)
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


@pytest.fixture(scope="module")
def scans() -> dict[str, ScanResult]:
    return {p.stem: scan([FIXTURES / p.stem]) for p in EXPECTED}


def test_every_python_framework_has_a_fixture() -> None:
    names = {p.stem for p in EXPECTED}
    assert {"flask", "django", "bottle", "pyramid", "tornado", "aiohttp", "starlette", "fastapi", "falcon",
            "cherrypy", "flask_restful", "wsgi", "webob", "cgi", "python2", "webapp2", "webpy"} <= names


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_exact_endpoints(expected: Path, scans: dict[str, ScanResult]) -> None:
    doc = json.loads(expected.read_text())
    found = sorted((_row(e) for e in scans[expected.stem].endpoints), key=lambda r: (r["file"], r["line"]))
    want = sorted(doc["endpoints"], key=lambda r: (r["file"], r["line"]))
    assert found == want


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_near_misses_are_not_reported(expected: Path, scans: dict[str, ScanResult]) -> None:
    doc = json.loads(expected.read_text())
    reported = {f"{e.file}:{e.function}" for e in scans[expected.stem].endpoints}
    assert not reported & set(doc["near_misses"])
    for miss in doc["near_misses"]:  # the near-miss really is in the fixture (the list cannot go stale)
        file, function = miss.split(":")
        text = (FIXTURES / expected.stem / file).read_text()
        assert function == "<module>" or f"def {function.rsplit('.', 1)[-1]}(" in text


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_expected_errors(expected: Path, scans: dict[str, ScanResult]) -> None:
    doc = json.loads(expected.read_text())
    errors = scans[expected.stem].errors
    assert len(errors) == len(doc["errors"])
    for want in doc["errors"]:
        assert any(e.file == want["file"] and e.line == want["line"] and want["contains"] in e.message
                   for e in errors)


def test_whole_fixture_tree_matches_the_per_framework_scans(scans: dict[str, ScanResult]) -> None:
    """Scanning fixtures/ at once finds the same endpoints (module names of different apps do not clash)."""
    together = scan([FIXTURES])
    got = {(e.file, e.line, e.function, e.route, e.credentials, e.role) for e in together.endpoints}
    want = {(f"{name}/{e.file}", e.line, e.function, e.route, e.credentials, e.role)
            for name, r in scans.items() for e in r.endpoints}
    assert want <= got
    assert not {g for g in got if g[0].split("/", 1)[0] in scans} - want


def test_precision_and_recall_on_the_fixtures(scans: dict[str, ScanResult]) -> None:
    """Every expected endpoint found (recall 1.0) and nothing else, in particular no near-miss (precision 1.0)."""
    tp = fp = fn = 0
    for p in EXPECTED:
        doc = json.loads(p.read_text())
        want = {(e["file"], e["line"], e["function"]) for e in doc["endpoints"]}
        got = {(e.file, e.line, e.function) for e in scans[p.stem].endpoints}
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
    assert tp >= 50
    assert fp == 0 and fn == 0


def test_credentials_reasons_are_given(scans: dict[str, ScanResult]) -> None:
    for result in scans.values():
        for e in result.endpoints:
            assert (e.credentials_reason is not None) == e.credentials


def test_confidence_and_detector_are_reported(scans: dict[str, ScanResult]) -> None:
    py2 = scans["python2"].endpoints
    assert py2 and all(e.confidence == "low" for e in py2)
    flask = {e.function: e for e in scans["flask"].endpoints}
    assert flask["quote"].recognised_by == "flask_jsonpify"
    assert flask["weather"].recognised_by == "helper:jsonp"
    assert flask["jsonp"].role == "helper"
    assert flask["fake_partner_response"].test_code
