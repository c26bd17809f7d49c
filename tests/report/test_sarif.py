"""SARIF 2.1.0 output: valid against the official OASIS schema, a rule per finding kind, errors as notices."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.findings import Consumer, Endpoint, EndpointRef, ScanError, ScanResult
from jsonp2cors.report import write_report
from jsonp2cors.report.rules import RULES
from jsonp2cors.report.sarif import SRCROOT, to_sarif
from tests.report.sample import sample_result

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "sarif-schema-2.1.0.json"


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def assert_valid(log: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    json.dumps(log)  # JSON-ready: no tuples or other Python-only values left


def test_sample_log_is_valid_sarif_2_1_0() -> None:
    log = to_sarif(sample_result())
    assert_valid(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_empty_result_is_valid_and_has_no_results() -> None:
    log = to_sarif(ScanResult(root="/tmp/x"))
    assert_valid(log)
    run = log["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["toolExecutionNotifications"] == []


def test_one_rule_per_finding_kind_and_rule_index_matches() -> None:
    run = to_sarif(sample_result())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)) == len(RULES)
    names = {rule["name"] for rule in rules}
    assert {"jsonp-endpoint", "jsonp-padding-helper", "jsonp-script-tag", "jsonp-jquery-ajax",
            "jsonp-jquery-getjson", "jsonp-angularjs", "jsonp-dynamic-script", "jsonp-library-call"} <= names
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_kind = {r["properties"]["kind"]: r["ruleId"] for r in run["results"] if "kind" in r["properties"]}
    assert len(set(by_kind.values())) == len(by_kind) == 6  # each consumer kind has its own rule
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("warning", "note", "error")


def test_locations_are_relative_with_an_absolute_base(tmp_path: Path) -> None:
    run = to_sarif(sample_result(root=str(tmp_path)))["runs"][0]
    base = run["originalUriBaseIds"][SRCROOT]["uri"]
    assert base == tmp_path.resolve().as_uri() + "/"
    uris = set()
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        artifact = location["artifactLocation"]
        assert artifact["uriBaseId"] == SRCROOT
        assert not artifact["uri"].startswith(("/", "file:"))
        uris.add(artifact["uri"])
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
    assert "legacy/py2%20views.py" in uris  # percent-encoded, still relative


def test_region_and_logical_location_of_an_endpoint() -> None:
    run = to_sarif(sample_result())["runs"][0]
    profile = next(r for r in run["results"] if r["properties"].get("function") == "ProfileView.get")
    location = profile["locations"][0]
    assert location["physicalLocation"]["region"] == {"startLine": 40, "startColumn": 5, "endLine": 52}
    assert location["logicalLocations"][0] == {
        "name": "get", "fullyQualifiedName": "ProfileView.get", "kind": "function"}
    assert profile["ruleId"] == "JP100" and profile["level"] == "warning"
    assert "ProfileView.get" in profile["message"]["text"]


def test_properties_carry_the_extra_fields() -> None:
    run = to_sarif(sample_result())["runs"][0]
    profile = next(r for r in run["results"] if r["properties"].get("function") == "ProfileView.get")
    props = profile["properties"]
    assert props["credentials"] is True and props["credentials_reason"] == "reads the session"
    assert props["route"] == "/api/[id]/profile" and props["methods"] == ["GET", "POST"]
    assert props["callback_params"] == ["cb", "jsonp"] and props["framework"] == "django"
    tag = next(r for r in run["results"] if r["properties"].get("kind") == "script-tag")
    assert tag["properties"]["url"] == "https://api.example.com/weather?callback=show"
    assert tag["properties"]["target"] == "https://api.example.com"
    assert tag["properties"]["endpoint"] == {"file": "app/views.py", "line": 12}
    related = tag["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "app/views.py" and related["region"]["startLine"] == 12


def test_levels_follow_confidence_migratability_and_test_code() -> None:
    run = to_sarif(sample_result())["runs"][0]
    level = {}
    for r in run["results"]:
        physical = r["locations"][0]["physicalLocation"]
        level[(physical["artifactLocation"]["uri"], physical["region"]["startLine"])] = r["level"]
    assert level[("app/views.py", 12)] == "warning"
    assert level[("legacy/py2%20views.py", 8)] == "note"  # low confidence (token-level fallback)
    assert level[("tests/test_api.py", 20)] == "note"  # test code
    assert level[("static/map.js", 3)] == "note"  # script loader, not data


def test_errors_are_tool_notifications_not_results() -> None:
    run = to_sarif(sample_result())["runs"][0]
    assert len(run["results"]) == 12
    assert all(not r["ruleId"].startswith("JP9") for r in run["results"])
    assert run["tool"]["driver"]["notifications"][0]["id"] == "JP900"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert [n["descriptor"]["id"] for n in notes] == ["JP900", "JP900"]
    first = notes[0]
    assert "Python 2 syntax" in first["message"]["text"]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]  # no line known


def test_fingerprints_are_unique_and_do_not_depend_on_the_line() -> None:
    result = sample_result()
    run = to_sarif(result)["runs"][0]
    prints = [r["partialFingerprints"]["jsonp2cors/v1"] for r in run["results"]]
    assert len(prints) == len(set(prints))
    moved = ScanResult(
        endpoints=tuple(replace(e, line=e.line + 10, end_line=None) for e in result.endpoints),
        root=result.root,
    )
    moved_prints = [r["partialFingerprints"]["jsonp2cors/v1"] for r in to_sarif(moved)["runs"][0]["results"]]
    assert moved_prints == prints[: len(moved_prints)]


def test_write_report_sarif_is_the_same_log() -> None:
    out = io.StringIO()
    write_report(sample_result(), "sarif", out)
    assert json.loads(out.getvalue()) == to_sarif(sample_result())


KINDS = ["script-tag", "jquery-ajax", "jquery-getjson", "angular-jsonp", "dynamic-script", "other", "new"]
_text = st.text(min_size=0, max_size=30)
_name = st.text(min_size=1, max_size=30)


@st.composite
def results(draw: st.DrawFn) -> ScanResult:
    endpoints = draw(st.lists(st.builds(
        Endpoint, file=_name, line=st.integers(1, 10**6), function=_name, framework=_text,
        route=st.none() | _text, methods=st.lists(_text, max_size=3).map(tuple),
        callback_params=st.lists(_text, max_size=3).map(tuple), credentials=st.booleans(),
        role=st.sampled_from(["handler", "helper"]), confidence=st.sampled_from(["high", "medium", "low"]),
        test_code=st.booleans(), column=st.integers(1, 500), end_line=st.none() | st.integers(1, 10**6),
        credentials_reason=st.none() | _text,
    ), max_size=5))
    consumers = draw(st.lists(st.builds(
        Consumer, file=_name, line=st.integers(1, 10**6), kind=st.sampled_from(KINDS),
        url=st.none() | _text, callback=st.none() | _text, target=st.none() | _text, migratable=st.booleans(),
        callback_param=st.none() | _text, column=st.integers(1, 500),
        endpoint=st.none() | st.builds(EndpointRef, file=_name, line=st.integers(1, 10**6)),
    ), max_size=5))
    errors = draw(st.lists(st.builds(ScanError, file=_name, message=_text,
                                     line=st.none() | st.integers(1, 10**6)), max_size=3))
    return ScanResult(tuple(endpoints), tuple(consumers), tuple(errors), root="/tmp/any root").sorted()


@settings(max_examples=60, deadline=None)
@given(results())
def test_any_result_gives_a_valid_log(result: ScanResult) -> None:
    assert_valid(to_sarif(result))
