"""`policy export` on the command line: stdout, -o, losses on stderr with exit 2, --lossy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jsonp2cors.cli import app
from tests.policy import cors_questions as cq

TARGETS = ["starlette", "flask-cors", "django", "nginx", "s3", "apigateway"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cors-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("target", ["flask-cors", "nginx"])
def test_routed_policy_exports_cleanly_where_routes_exist(runner: CliRunner, tmp_path: Path, target: str) -> None:
    result = runner.invoke(app, ["policy", "export", str(_write(tmp_path, cq.ROUTED_POLICY)), "--to", target])
    assert result.exit_code == 0, result.output
    assert "/api/account" in result.stdout


@pytest.mark.parametrize("target", ["starlette", "django", "s3", "apigateway"])
def test_unexpressible_parts_are_named_and_exit_2(runner: CliRunner, tmp_path: Path, target: str) -> None:
    policy = _write(tmp_path, cq.ROUTED_POLICY)
    result = runner.invoke(app, ["policy", "export", str(policy), "--to", target])
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing written without --lossy
    assert f"{target} cannot express route[0] (path '/api/account').allow_credentials" in result.stderr
    assert "use --lossy" in result.stderr
    lossy = runner.invoke(app, ["policy", "export", str(policy), "--to", target, "--lossy"])
    assert lossy.exit_code == 0
    assert lossy.stdout  # the export, with the same losses still listed on stderr
    assert "cannot express route[0]" in lossy.stderr


def test_s3_and_apigateway_json_on_stdout(runner: CliRunner, tmp_path: Path) -> None:
    policy = _write(tmp_path, cq.FLAT_POLICY)
    s3 = runner.invoke(app, ["policy", "export", str(policy), "--to", "s3"])
    assert s3.exit_code == 0 and json.loads(s3.stdout)["CORSRules"][0]["MaxAgeSeconds"] == 600
    http = runner.invoke(app, ["policy", "export", str(policy), "--to", "apigateway"])
    assert http.exit_code == 2 and "cors.allow_origins (https://*.partner.example)" in http.stderr
    rest = runner.invoke(app, ["policy", "export", str(policy), "--to", "apigateway", "--rest"])
    assert rest.exit_code == 0 and json.loads(rest.stdout)["openapi"].startswith("3.0")


def test_output_files(runner: CliRunner, tmp_path: Path) -> None:
    policy = _write(tmp_path, cq.FLAT_POLICY)
    out = tmp_path / "site-cors.conf"
    result = runner.invoke(app, ["policy", "export", str(policy), "--to", "nginx", "-o", str(out)])
    assert result.exit_code == 0
    assert "map $uri $cors_route" in out.read_text()
    server = tmp_path / "site-cors.server.conf"
    assert "add_header Access-Control-Allow-Origin $cors_allow_origin always;" in server.read_text()
    assert "include site-cors.server.conf" in out.read_text()
    py = tmp_path / "cors_settings.py"
    assert runner.invoke(app, ["policy", "export", str(policy), "--to", "django", "-o", str(py)]).exit_code == 0
    assert "CORS_ALLOWED_ORIGIN_REGEXES" in py.read_text()


def test_invalid_policy_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    policy = _write(tmp_path, '[cors]\nallow_origins = ["https://*.com"]\n')
    result = runner.invoke(app, ["policy", "export", str(policy), "--to", "nginx"])
    assert result.exit_code == 2
    assert "cors.allow_origins[0]" in result.stderr and "public suffix" in result.stderr
    bad_target = runner.invoke(app, ["policy", "export", str(policy), "--to", "apache"])
    assert bad_target.exit_code == 2


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_exports_the_flat_policy_or_says_why(runner: CliRunner, tmp_path: Path, target: str) -> None:
    result = runner.invoke(app, ["policy", "export", str(_write(tmp_path, cq.FLAT_POLICY)), "--to", target])
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert "cannot express" in result.stderr
    else:
        assert result.stdout
