"""`jsonp2cors scan`: each format and exit status, --output, --exclude, --exit-zero, bad paths, progress."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from typer.testing import CliRunner

import jsonp2cors.scan
from jsonp2cors.cli import app
from jsonp2cors.findings import ScanError, ScanResult
from jsonp2cors.scan.base import ScanConfig

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

JSONP_VIEW = '''\
import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/api/weather")
def weather():
    callback = request.args.get("callback", "cb")
    body = json.dumps({"temp": 21})
    return Response(f"{callback}({body})", mimetype="application/javascript")
'''
CLEAN_VIEW = '''\
from flask import Flask, jsonify, redirect, request

app = Flask(__name__)


@app.route("/api/plain")
def plain():
    return jsonify(temp=21)


@app.route("/login/callback")
def oauth_callback():
    return redirect(request.args.get("next", "/"))
'''

runner = CliRunner()


@pytest.fixture
def jsonp_tree(tmp_path: Path) -> Path:
    root = tmp_path / "jsonp"
    (root / "app").mkdir(parents=True)
    (root / "app" / "views.py").write_text(JSONP_VIEW, encoding="utf-8")
    (root / "app" / "plain.py").write_text(CLEAN_VIEW, encoding="utf-8")
    return root


@pytest.fixture
def clean_tree(tmp_path: Path) -> Path:
    root = tmp_path / "clean"
    root.mkdir()
    (root / "views.py").write_text(CLEAN_VIEW, encoding="utf-8")
    return root


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["scan", *args])


# -- formats ------------------------------------------------------------------------------------------


def test_table_is_the_default_and_findings_exit_1(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree))
    assert result.exit_code == 1, result.output
    # not a terminal (CliRunner): narrow console, so ruff-like lines
    assert "app/views.py:9:1: JP100 JSONP endpoint `weather`" in result.stdout
    assert "`plain`" not in result.stdout and "`oauth_callback`" not in result.stdout
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Found 1 JSONP endpoint and 0 consumers in 1 file.")
    assert result.stderr == ""  # no progress bar without a terminal


def test_json_is_contract_1(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == 1 and set(data) == {"version", "endpoints", "consumers", "errors", "stats"}
    [endpoint] = data["endpoints"]
    assert (endpoint["file"], endpoint["line"], endpoint["function"]) == ("app/views.py", 9, "weather")
    assert endpoint["callback_params"] == ["callback"] and endpoint["credentials"] is False
    assert ScanResult.from_json(result.stdout).to_json() == result.stdout.rstrip("\n")
    assert data["stats"]["files_seen"] == 2


def test_sarif_is_valid_and_points_at_the_handler(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree), "-f", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    [found] = run["results"]
    assert found["ruleId"] == "JP100"
    physical = found["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "app/views.py", "uriBaseId": "SRCROOT"}
    assert physical["region"]["startLine"] == 9
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == jsonp_tree.resolve().as_uri() + "/"


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_clean_tree_exits_0_in_every_format(clean_tree: Path, fmt: str) -> None:
    result = invoke(str(clean_tree), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "table":
        assert "No JSONP endpoints or consumers found." in result.stdout
    elif fmt == "json":
        assert json.loads(result.stdout)["endpoints"] == []
    else:
        assert json.loads(result.stdout)["runs"][0]["results"] == []


# -- options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_output_writes_the_report_to_a_file(jsonp_tree: Path, tmp_path_factory: pytest.TempPathFactory,
                                            fmt: str) -> None:
    target = tmp_path_factory.mktemp("out") / f"report.{fmt}"
    result = invoke(str(jsonp_tree), "--format", fmt, "--output", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"wrote {fmt} report to {target}" in result.stderr
    text = target.read_text(encoding="utf-8")
    if fmt == "table":
        assert "\x1b" not in text and "app/views.py:9:1" in text and "weather" in text
    elif fmt == "json":
        assert json.loads(text)["endpoints"][0]["function"] == "weather"
    else:
        jsonschema.Draft7Validator(SARIF_SCHEMA).validate(json.loads(text))


def test_output_dash_is_standard_output(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree), "--format", "json", "--output", "-")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["endpoints"][0]["function"] == "weather"
    assert not (Path.cwd() / "-").exists()


def test_output_into_a_missing_folder_is_an_error(jsonp_tree: Path, tmp_path_factory: pytest.TempPathFactory
                                                  ) -> None:
    target = tmp_path_factory.mktemp("out") / "no" / "such" / "report.json"
    result = invoke(str(jsonp_tree), "--format", "json", "--output", str(target))
    assert result.exit_code == 2
    assert "internal error" in result.stderr or "error" in result.stderr


def test_exclude_skips_matching_paths(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree), "--exclude", "app/views.py", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["endpoints"] == []
    result = invoke(str(jsonp_tree), "--exclude", "*.txt", "--exclude", "app/", "--format", "json")
    assert result.exit_code == 0
    result = invoke(str(jsonp_tree), "--exclude", "*.txt", "--format", "json")
    assert result.exit_code == 1


def test_exit_zero_keeps_the_report(jsonp_tree: Path) -> None:
    result = invoke(str(jsonp_tree), "--exit-zero")
    assert result.exit_code == 0
    assert "JP100" in result.stdout


def test_options_reach_the_scan_config(jsonp_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_scan(paths: Any, config: ScanConfig | None = None, *, progress: Any = None) -> ScanResult:
        seen["paths"] = list(paths)
        seen["config"] = config
        return ScanResult(root=str(jsonp_tree))

    monkeypatch.setattr(jsonp2cors.scan, "scan", fake_scan)
    (jsonp_tree / "pyproject.toml").write_text('[tool.jsonp2cors]\nexclude = ["build/"]\n', encoding="utf-8")
    result = invoke(str(jsonp_tree), "--jobs", "3", "--exclude", "gen/*.py", "--callback-param", "fn",
                    "--callback-param", "padding", "--helper", "render_jsonp", "--include-vendored")
    assert result.exit_code == 0, result.output
    config: ScanConfig = seen["config"]
    assert seen["paths"] == [jsonp_tree]
    assert config.jobs == 3 and config.include_vendored is True
    assert config.excludes == ("build/", "gen/*.py")  # the CLI adds to [tool.jsonp2cors]
    assert {"callback", "fn", "padding"} <= set(config.callback_params)
    assert "render_jsonp" in config.helper_names


def test_errors_alone_exit_0_but_are_listed(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text(  # Python 2, mentions a callback, but is no JSONP
        '# the OAuth callback lands here\ndef done(request):\n    print "logged in"\n'
        '    return redirect(request.args.get("next"))\n', encoding="utf-8")
    (tmp_path / "blob.py").write_bytes(b"callback\x00\x01\x02\x03jsonp\x00")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Errors (2)" in result.stdout
    assert "blob.py: JP900" in result.stdout and "old.py" in result.stdout
    data = json.loads(invoke(str(tmp_path), "--format", "json").stdout)
    assert {e["file"] for e in data["errors"]} == {"old.py", "blob.py"}
    sarif = json.loads(invoke(str(tmp_path), "--format", "sarif").stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 2 and sarif["runs"][0]["results"] == []


# -- exit status 2 ------------------------------------------------------------------------------------


def test_missing_path_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    result = invoke(str(missing))
    assert result.exit_code == 2
    assert f"no such file or directory: {missing}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--format", "xml"], ["--jobs", "-1"], ["--no-such-option"]])
def test_usage_errors_exit_2(clean_tree: Path, args: list[str]) -> None:
    result = invoke(str(clean_tree), *args)
    assert result.exit_code == 2


def test_bad_pyproject_config_exits_2(clean_tree: Path) -> None:
    (clean_tree / "pyproject.toml").write_text("[tool.jsonp2cors]\nno-such-key = 1\n", encoding="utf-8")
    result = invoke(str(clean_tree))
    assert result.exit_code == 2
    assert "no-such-key" in result.stderr


def test_internal_error_exits_2_with_one_line(clean_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_scan(*args: Any, **kwargs: Any) -> ScanResult:
        raise RuntimeError("analyzer exploded")

    monkeypatch.setattr(jsonp2cors.scan, "scan", broken_scan)
    result = invoke(str(clean_tree))
    assert result.exit_code == 2
    assert result.stderr.strip() == "jsonp2cors scan: internal error: RuntimeError: analyzer exploded"


def test_errors_only_result_with_exit_zero_and_findings(monkeypatch: pytest.MonkeyPatch, clean_tree: Path
                                                        ) -> None:
    only_errors = ScanResult(errors=(ScanError("x.py", "Python 2 syntax", 2),), root=str(clean_tree))
    monkeypatch.setattr(jsonp2cors.scan, "scan", lambda *a, **k: only_errors)
    result = invoke(str(clean_tree))
    assert result.exit_code == 0
    assert "x.py:2: JP900 scan error: Python 2 syntax" in result.stdout


# -- real processes -----------------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "jsonp2cors", "scan", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_subprocess_every_exit_status(jsonp_tree: Path, clean_tree: Path) -> None:
    found = run_cli(".", "--format", "json", cwd=jsonp_tree)
    assert found.returncode == 1, found.stderr
    assert json.loads(found.stdout)["endpoints"][0]["file"] == "app/views.py"
    assert found.stderr == ""
    clean = run_cli(cwd=clean_tree)  # no PATH: the current folder
    assert clean.returncode == 0, clean.stderr
    assert "No JSONP endpoints or consumers found." in clean.stdout
    table = run_cli(str(jsonp_tree), cwd=clean_tree)  # piped: plain ruff-like lines, no escape codes
    assert table.returncode == 1
    assert "app/views.py:9:1: JP100" in table.stdout and "\x1b" not in table.stdout
    bad = run_cli("does-not-exist", cwd=clean_tree)
    assert bad.returncode == 2 and "does-not-exist" in bad.stderr


def test_progress_bar_only_on_a_terminal(jsonp_tree: Path) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "jsonp2cors", "scan", str(jsonp_tree), "-f", "json"],
                               stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    stdout, _ = process.communicate(timeout=60)
    os.close(master)
    assert process.returncode == 1
    assert b"scanning" in b"".join(chunks)
    assert json.loads(stdout)["endpoints"]  # the report itself is untouched by the bar
    quiet = subprocess.run([sys.executable, "-m", "jsonp2cors", "scan", str(jsonp_tree), "-f", "json",
                            "--no-progress"], capture_output=True, env=env, timeout=120)
    assert quiet.returncode == 1 and quiet.stderr == b""


def test_command_signatures_hold_annotation_objects_not_strings() -> None:
    """typer reads every command's signature on each start; string annotations (a `from __future__ import
    annotations` in cli.py) made it compile and evaluate each of them, a tenth of the start-up."""
    import inspect

    import typer.main

    from jsonp2cors import cli

    group = typer.main.get_command(cli.app)
    assert "scan" in group.commands  # type: ignore[attr-defined]
    functions = [cli.scan_command, cli.rewrite_command, cli.policy_export_command, cli._root]
    for function in functions:
        for parameter in inspect.signature(function).parameters.values():
            assert not isinstance(parameter.annotation, str), (function.__name__, parameter.name)
