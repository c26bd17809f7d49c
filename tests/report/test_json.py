"""`--format json` is contract 1 exactly: ScanResult.to_json, and it reads back to the same result."""

from __future__ import annotations

import io
import json

from jsonp2cors.findings import ScanResult
from jsonp2cors.report import FORMATS, write_report
from tests.report.sample import sample_result


def test_json_report_is_contract_1() -> None:
    result = sample_result()
    out = io.StringIO()
    write_report(result, "json", out)
    text = out.getvalue()
    assert text == result.to_json() + "\n"
    data = json.loads(text)
    assert data["version"] == 1
    assert set(data) == {"version", "endpoints", "consumers", "errors", "stats"}
    endpoint = data["endpoints"][0]
    contract = ("file", "line", "function", "framework", "route", "methods", "callback_params", "credentials")
    assert set(contract) <= set(endpoint)
    consumer = next(c for c in data["consumers"] if c["kind"] == "script-tag")
    assert consumer["url"] == "https://api.example.com/weather?callback=show"
    assert consumer["target"] == "https://api.example.com" and consumer["migratable"] is True
    assert consumer["endpoint"] == {"file": "app/views.py", "line": 12}
    assert {"file", "message"} <= set(data["errors"][0])
    assert {"files_seen", "files_parsed", "seconds"} <= set(data["stats"])


def test_json_report_round_trips() -> None:
    result = sample_result()
    out = io.StringIO()
    write_report(result, "json", out)
    assert ScanResult.from_json(out.getvalue(), root=result.root) == result


def test_unknown_format_is_refused() -> None:
    assert FORMATS == ("table", "json", "sarif")
    try:
        write_report(sample_result(), "xml", io.StringIO())
    except ValueError as exc:
        assert "xml" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("no error for an unknown format")
