"""`jsonp2cors rewrite`, `migrate` and `demo` from the command line: output, exit status, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jsonp2cors.cli import app

VIEW = """\
import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/api/weather")
def weather():
    callback = request.args.get("callback")
    body = json.dumps({"city": "Berlin"})
    if callback:
        return Response("%s(%s)" % (callback, body), mimetype="application/javascript")
    return Response(body, mimetype="application/json")
"""
PAGE = '<html><body><script src="/api/weather?callback=show"></script></body></html>\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(VIEW, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text(PAGE, encoding="utf-8")
    return tmp_path


runner = CliRunner()


def test_rewrite_shows_a_diff_and_writes_nothing(project: Path) -> None:
    result = runner.invoke(app, ["rewrite", str(project)])
    assert result.exit_code == 0, result.output
    assert "--- a/app.py" in result.stdout and "+++ b/templates/index.html" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    assert (project / "app.py").read_text(encoding="utf-8") == VIEW


def test_check_exits_1_then_0_after_write(project: Path) -> None:
    assert runner.invoke(app, ["rewrite", str(project), "--check"]).exit_code == 1
    written = runner.invoke(app, ["rewrite", str(project), "--write"])
    assert written.exit_code == 0, written.output
    assert "callback" not in (project / "app.py").read_text(encoding="utf-8")
    assert "fetch(" in (project / "templates" / "index.html").read_text(encoding="utf-8")
    again = runner.invoke(app, ["rewrite", str(project), "--check"])
    assert again.exit_code == 0, again.output


def test_only_limits_the_edits(project: Path) -> None:
    result = runner.invoke(app, ["rewrite", str(project), "--only", "markup", "--write"])
    assert result.exit_code == 0, result.output
    assert (project / "app.py").read_text(encoding="utf-8") == VIEW
    assert "fetch(" in (project / "templates" / "index.html").read_text(encoding="utf-8")


def test_usage_errors_exit_2(project: Path) -> None:
    assert runner.invoke(app, ["rewrite", str(project / "missing")]).exit_code == 2
    assert runner.invoke(app, ["rewrite", str(project), "--write", "--check"]).exit_code == 2
    assert runner.invoke(app, ["rewrite", str(project), "--only", "cobol"]).exit_code == 2
    assert runner.invoke(app, ["rewrite", str(project), "--policy", str(project / "nope.toml")]).exit_code == 2


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_write_refuses_uncommitted_changes(project: Path) -> None:
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "legacy")
    (project / "app.py").write_text(VIEW + "\n# local edit\n", encoding="utf-8")
    refused = runner.invoke(app, ["rewrite", str(project), "--write"])
    assert refused.exit_code == 2
    assert "uncommitted" in refused.output and "app.py" in refused.output
    assert (project / "app.py").read_text(encoding="utf-8").endswith("# local edit\n")
    allowed = runner.invoke(app, ["rewrite", str(project), "--write", "--allow-dirty"])
    assert allowed.exit_code == 0, allowed.output
    assert "callback" not in (project / "app.py").read_text(encoding="utf-8")


def test_migrate_writes_policy_and_summary(project: Path) -> None:
    result = runner.invoke(app, ["migrate", str(project), "--origin", "https://news.example.com", "--write"])
    assert result.exit_code == 0, result.output
    assert "Endpoints migrated: 1 of 1" in result.stdout
    assert "Consumers migrated: 1 of 1" in result.stdout
    assert "lint: clean" in result.stdout and "Next steps:" in result.stdout
    policy = (project / "cors-policy.toml").read_text(encoding="utf-8")
    assert "https://news.example.com" in policy
    rerun = runner.invoke(app, ["migrate", str(project)])
    assert rerun.exit_code == 0
    assert "kept" in rerun.stdout  # a reviewed policy is never overwritten


def test_migrate_bad_origin_exits_2(project: Path) -> None:
    result = runner.invoke(app, ["migrate", str(project), "--origin", "https://news.example.com/path"])
    assert result.exit_code == 2


def test_demo_needs_no_arguments() -> None:
    done = subprocess.run([sys.executable, "-m", "jsonp2cors", "demo"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "+++ b/app.py" in done.stdout and "+++ b/pages/index.html" in done.stdout
    assert "Endpoints migrated:" in done.stdout and "Shim mounted in: app.py" in done.stdout
    assert "cors-policy.toml" in done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_demo(port: int) -> tuple[subprocess.Popen[str], str, str]:
    """Start `demo --serve`; return the process, the API origin and the pages origin it printed."""
    import re
    import time

    proc = subprocess.Popen([sys.executable, "-m", "jsonp2cors", "demo", "--serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    seen = ""
    while "migrated page" not in seen and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
    api = re.search(r"behind the shim: (http://[\w.]+:\d+)/", seen)
    pages = re.search(r"migrated page \(fetch \+ CORS\): +(http://[\w.]+:\d+)/", seen)
    assert api and pages, seen
    return proc, api.group(1), pages.group(1)


def stop_demo(proc: subprocess.Popen[str]) -> None:
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_demo_serve_answers_jsonp_and_cors_then_stops_on_ctrl_c() -> None:
    import json
    import urllib.request

    proc, api, pages = start_demo(_free_port())
    try:
        with urllib.request.urlopen(f"{api}/api/weather?callback=show", timeout=10) as reply:
            body = reply.read().decode()
            assert "show(" in body and "javascript" in reply.headers["Content-Type"]
        request = urllib.request.Request(f"{api}/api/weather", headers={"Origin": pages})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.headers["Access-Control-Allow-Origin"] == pages
            assert json.loads(reply.read())["city"] == "Berlin"
        local = pages.replace("localhost", "127.0.0.1")
        with urllib.request.urlopen(f"{local}/migrated/index.html", timeout=10) as reply:
            page = reply.read().decode()
            assert f"{api}/api/weather" in page and "fetch(" in page
        with urllib.request.urlopen(f"{local}/legacy/index.html", timeout=10) as reply:
            assert "callback=showWeather" in reply.read().decode()
    finally:
        stop_demo(proc)
    assert proc.returncode == 0
