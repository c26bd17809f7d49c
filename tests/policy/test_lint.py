"""`policy lint`: every error and warning, positions into the TOML, noqa, JSON output, exit codes."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jsonp2cors.cli import app
from jsonp2cors.policy.lint import RULES, LintFinding, lint_text

TODAY = datetime.date(2026, 11, 25)


def codes(text: str) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in lint_text(text, today=TODAY)]


CLEAN = """\
version = 1
[cors]
allow_origins = ["https://news.example.com", "https://*.partner.example", "http://localhost:3000"]
allow_methods = ["GET", "HEAD", "PUT"]
allow_headers = ["X-Requested-With"]
allow_credentials = true
max_age = 7200
[jsonp]
sunset = "2027-06-30"
[[route]]
path = "/api/open"
allow_credentials = false
allow_origins = ["*"]
allow_headers = ["*"]
"""


def test_clean_policy_has_no_findings() -> None:
    assert lint_text(CLEAN, today=TODAY) == []


# (snippet, expected (code, line) findings)
CASES = [
    # errors
    ('[cors]\nallow_origins = ["*"]\nallow_credentials = true', [("CP001", 2)]),
    ('[cors]\nallow_credentials = true\n[[route]]\npath = "/x"\nallow_origins = ["*"]', [("CP001", 5)]),
    ('[cors]\nallow_origins = ["*"]\n[[route]]\npath = "/x"\nallow_credentials = true', [("CP001", 5)]),
    ('[cors]\nallow_origins = ["null"]', [("CP002", 2)]),
    ("[cors]\nallow_null = true", [("CP002", 2)]),
    ('[cors]\nallow_origins = [\n  "https://ok.example",\n  "^https://.*\\\\.example\\\\.com$",\n]',
     [("CP003", 4)]),
    ('[cors]\nallow_origins = ["https://(a|b).example.com"]', [("CP003", 2)]),
    ('[cors]\nallow_origins = ["https://*.co.uk"]', [("CP004", 2)]),
    ('[[route]]\npath = "/x"\nallow_origins = ["https://*.github.io"]', [("CP004", 3)]),
    ('[cors]\nallow_origins = ["https://app.example.com/"]', [("CP005", 2)]),
    ('[cors]\nallow_origins = ["https://app.example.com/api"]', [("CP005", 2)]),
    ('[cors]\nallow_origins = ["https://u:p@app.example.com"]', [("CP005", 2)]),
    ('[cors]\nallow_origins = ["https://app.example.com?x"]', [("CP005", 2)]),
    ('[cors]\nallow_origins = ["https://a*.example.com"]', [("CP006", 2)]),
    ('[cors]\nallow_origins = ["app.example.com"]', [("CP006", 2)]),
    ("[cors]\nmax_age = -5", [("CP010", 2)]),
    ("[cors]\nallow_credential = true", [("CP010", 2)]),
    ('[[route]]\npath = "api"', [("CP010", 2)]),
    ("[cors\nx=1", [("CP010", 1)]),
    # warnings
    ('[cors]\nallow_origins = ["https://a.example", "http://a.example"]', [("CP101", 2)]),
    ('[cors]\nallow_origins = ["https://a.example", "http://localhost:8080", "http://127.0.0.1:3000"]', []),
    ('[cors]\nallow_origins = ["http://a.example", "http://b.example"]', []),
    ("[cors]\nmax_age = 7201", [("CP102", 2)]),
    ("[cors]\nmax_age = 86401", [("CP102", 2)]),
    ('[[route]]\npath = "/x"\nmax_age = 10000', [("CP102", 3)]),
    ('[cors]\nallow_credentials = true\nallow_headers = ["*"]', [("CP103", 3)]),
    ('[cors]\nallow_credentials = true\nexpose_headers = ["X-A", "*"]', [("CP103", 3)]),
    ('[cors]\nallow_headers = ["*"]\n[[route]]\npath = "/x"\nallow_credentials = true', [("CP103", 5)]),
    ('[cors]\nallow_methods = ["GET", "POST"]', [("CP104", 2)]),
    ('[cors]\nallow_methods = ["GET", "OPTIONS"]', [("CP104", 2)]),
    ('[jsonp]\nsunset = "2026-11-24"', [("CP105", 2)]),
    ("[jsonp]\nsunset = 2020-01-01", [("CP105", 2)]),
    ('[jsonp]\nsunset = "2026-11-25"', []),
    ('[cors]\nallow_origins = ["https://a.example", "https://a.example"]', [("CP106", 2)]),
    ('[cors]\nallow_headers = ["X-A", "x-a"]', [("CP106", 2)]),
    ('[jsonp]\nsunset = "2027-06-30"\ndeprecation = "2027-07-01"', [("CP107", 3)]),
    ('[jsonp]\nsunset = "2027-06-30"\ndeprecation = "2026-12-01"', []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_rule(text: str, expected: list[tuple[str, int]]) -> None:
    assert codes(text) == expected


def test_every_rule_is_exercised() -> None:
    seen = {code for _, expected in CASES for code, _ in expected}
    assert seen == set(RULES)


def test_columns_point_at_the_entry() -> None:
    text = '[cors]\nallow_origins = ["https://ok.example", "https://*.com"]\n'
    (finding,) = lint_text(text, today=TODAY)
    assert (finding.line, finding.column) == (2, text.splitlines()[1].index('"https://*.com"') + 1)
    assert finding.key == "cors.allow_origins" and "'https://*.com'" in finding.message


def test_many_findings_in_one_file_are_sorted_and_all_reported() -> None:
    text = """\
[cors]
allow_origins = [
  "*",
  "null",
  "https://*.co.uk",
  "https://x.example/",
  "https://ok.example",
  "http://ok.example",
]
allow_credentials = true
max_age = 100000
allow_headers = ["*"]
[jsonp]
sunset = "2001-01-01"
"""
    found = codes(text)
    assert found == sorted(found, key=lambda c: c[1])
    assert found == [("CP001", 3), ("CP002", 4), ("CP004", 5), ("CP005", 6), ("CP101", 8), ("CP102", 11),
                     ("CP103", 12), ("CP105", 14)]


def test_noqa_silences_one_line() -> None:
    text = ('[cors]\nallow_origins = ["https://a.example", "http://a.example"]  # noqa: CP101\n'
            "max_age = 9000  # noqa\nallow_null = true  # noqa: CP101\n")
    assert codes(text) == [("CP002", 4)]


def test_json_and_text_output_and_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.toml"
    bad.write_text('[cors]\nallow_origins = ["https://*.com"]\nmax_age = 9000\n', encoding="utf-8")
    result = runner.invoke(app, ["policy", "lint", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2:18: CP004 [error]" in result.output
    assert f"{bad}:3:1: CP102 [warning]" in result.output
    assert "Found 1 error(s) and 1 warning(s)." in result.output
    result = runner.invoke(app, ["policy", "lint", str(bad), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["errors"] == 1 and data["warnings"] == 1
    assert data["findings"][0] | {"message": ""} == {
        "line": 2, "column": 18, "code": "CP004", "message": "", "key": "cors.allow_origins",
        "severity": "error", "file": str(bad)}
    assert runner.invoke(app, ["policy", "lint", str(bad), "--exit-zero"]).exit_code == 0
    warn_only = tmp_path / "warn.toml"
    warn_only.write_text("[cors]\nmax_age = 9000\n", encoding="utf-8")
    assert runner.invoke(app, ["policy", "lint", str(warn_only)]).exit_code == 0
    clean = tmp_path / "clean.toml"
    clean.write_text(CLEAN, encoding="utf-8")
    result = runner.invoke(app, ["policy", "lint", str(clean)])
    assert result.exit_code == 0 and "All checks passed." in result.output
    assert runner.invoke(app, ["policy", "lint", str(tmp_path / "missing.toml")]).exit_code == 2


def test_finding_severity() -> None:
    assert LintFinding(1, 1, "CP001", "x").severity == "error"
    assert LintFinding(1, 1, "CP101", "x").severity == "warning"
