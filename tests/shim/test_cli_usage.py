"""`jsonp2cors usage FILE... [--format table|json]`: summary of the shim's usage records."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from jsonp2cors.cli import app
from jsonp2cors.shim.usage import UsageRecord

UTC = dt.timezone.utc


def write(path: Path, records: list[UsageRecord], garbage: bytes = b"") -> Path:
    path.write_bytes(b"".join(r.to_line() for r in records) + garbage)
    return path


def rec(day: int, path: str = "/api/weather", origin: str | None = "https://news.example.com") -> UsageRecord:
    return UsageRecord(time=dt.datetime(2026, 11, day, 9, 30, tzinfo=UTC), method="GET", path=path,
                       callback_param="callback", callback="show", origin=origin, user_agent="UA")


def test_json_summary_over_two_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec(20), rec(21, origin=None)], b"{broken\n")
    b = write(tmp_path / "b.jsonl", [rec(23, "/api/news", "https://blog.example.org")])
    result = CliRunner().invoke(app, ["usage", str(a), str(b), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["files"] == [str(a), str(b)]
    assert data["total"] == 3 and data["skipped"] == 1
    assert [e["path"] for e in data["endpoints"]] == ["/api/weather", "/api/news"]
    assert {o["origin"] for o in data["origins"]} == {"https://news.example.com", "https://blog.example.org", None}
    assert [d["count"] for d in data["daily"]] == [1, 1, 0, 1]


def test_table_and_exit_codes(tmp_path: Path) -> None:
    f = write(tmp_path / "u.jsonl", [rec(20), rec(20)])
    result = CliRunner().invoke(app, ["usage", str(f)])
    assert result.exit_code == 1
    assert "2 JSONP responses" in result.stdout and "/api/weather" in result.stdout
    assert "https://news.example.com" in result.stdout and "2026-11-20" in result.stdout
    assert CliRunner().invoke(app, ["usage", str(f), "--exit-zero"]).exit_code == 0
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = CliRunner().invoke(app, ["usage", str(empty)])
    assert result.exit_code == 0 and "No JSONP responses" in result.stdout
    missing = CliRunner().invoke(app, ["usage", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output


def test_console_script(tmp_path: Path) -> None:
    f = write(tmp_path / "u.jsonl", [rec(20)])
    out = subprocess.run([sys.executable, "-m", "jsonp2cors", "usage", str(f), "--format", "json"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1 and json.loads(out.stdout)["total"] == 1
