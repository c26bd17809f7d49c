"""`migrate --write` over a copy of fixtures/: only what is deliberately not migratable is left for scan."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from jsonp2cors.findings import ScanResult
from jsonp2cors.rewrite import plan
from jsonp2cors.rewrite.javascript import error_count, parser
from jsonp2cors.rewrite.migrate import Migration, migrate
from jsonp2cors.scan import scan
from tests.conftest import FIXTURES

NODE = shutil.which("node")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanResult, Migration, ScanResult]:
    root = tmp_path_factory.mktemp("e2e") / "fixtures"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "cors-policy.toml"))
    before = scan([root])
    migration = migrate(root, ["https://partner.example.com"], write=True, allow_dirty=True, mount_shim=True)
    after = scan([root])
    return root, before, migration, after


def test_fixtures_have_findings(migrated: tuple[Path, ScanResult, Migration, ScanResult]) -> None:
    _, before, migration, _ = migrated
    assert before.endpoints and before.consumers
    assert migration.written and migration.plan.edits


def test_only_declined_findings_remain(migrated: tuple[Path, ScanResult, Migration, ScanResult]) -> None:
    _, _, migration, after = migrated
    declined = Counter(d.file for d in migration.plan.declined)
    remaining = Counter(f.file for f in (*after.endpoints, *after.consumers))
    unexplained = {file: count for file, count in remaining.items() if count > declined.get(file, 0)}
    assert not unexplained, f"scan still reports findings the rewrite did not decline: {unexplained}"


def test_second_run_changes_nothing(migrated: tuple[Path, ScanResult, Migration, ScanResult]) -> None:
    root, _, _, after = migrated
    again = plan(after, root)
    assert [e.rel for e in again.edits] == []


def test_rewritten_javascript_parses(migrated: tuple[Path, ScanResult, Migration, ScanResult],
                                     tmp_path: Path) -> None:
    root, _, migration, _ = migrated
    scripts = [e for e in migration.plan.edits if e.rel.endswith(".js")]
    assert scripts
    for edit in scripts:
        path = root / edit.rel
        assert error_count(parser().parse(path.read_bytes())) == 0, edit.rel
        if NODE:
            done = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{edit.rel}: {done.stderr}"


def test_policy_written_and_clean(migrated: tuple[Path, ScanResult, Migration, ScanResult]) -> None:
    root, _, migration, _ = migrated
    assert (root / "cors-policy.toml").is_file()
    assert not migration.lint_errors


def test_python_files_still_compile(migrated: tuple[Path, ScanResult, Migration, ScanResult]) -> None:
    root, _, migration, _ = migrated
    for edit in migration.plan.edits:
        if edit.rel.endswith(".py"):
            compile((root / edit.rel).read_text(encoding="utf-8"), edit.rel, "exec")


WSGI_CLIENT = """
import io, json, sys
from wsgiref.util import setup_testing_defaults
sys.path.insert(0, ".")
{load}
out = []
for path, origin in json.loads(sys.argv[1]):
    environ = {{}}
    setup_testing_defaults(environ)
    environ["PATH_INFO"], _, environ["QUERY_STRING"] = path.partition("?")
    environ["wsgi.input"] = io.BytesIO(b"")
    if origin:
        environ["HTTP_ORIGIN"] = origin
    seen = {{}}
    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), {{k.lower(): v for k, v in headers}}
    body = b"".join(wsgi(environ, start_response)).decode()
    out.append([path, origin, seen["status"], seen["headers"], body])
print(json.dumps(out))
"""
CLIENTS = {
    "flask": WSGI_CLIENT.format(load="from app import app as wsgi"),
    "django": WSGI_CLIENT.format(load="from wsgi import application as wsgi"),
    "starlette": """
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, ".")
from starlette.testclient import TestClient
from app import app
client = TestClient(app)
out = []
for path, origin in json.loads(sys.argv[1]):
    r = client.get(path, headers={"Origin": origin} if origin else {})
    out.append([path, origin, r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text])
print(json.dumps(out))
""",
}
ORIGIN = "https://partner.example.com"


def _concrete(route: str) -> str | None:
    if any(ch in route for ch in "<{(["):
        return None
    return route


@pytest.mark.parametrize("framework", sorted(CLIENTS))
def test_rewritten_fixture_apps_answer_json_and_the_shim_keeps_jsonp(
        migrated: tuple[Path, ScanResult, Migration, ScanResult], framework: str) -> None:
    """With the shim mounted by --mount-shim: plain requests get JSON, old JSONP callers get padding from the
    shim, and the partner origin gets CORS headers."""
    root, before, migration, _ = migrated
    assert any(m.kind == "shim" and m.file.startswith(f"{framework}/") for m in migration.plan.migrated)
    done_files = {m.file for m in migration.plan.migrated if m.kind == "endpoint"}
    routes = sorted({route for e in before.endpoints
                     if e.file.startswith(f"{framework}/") and e.role == "handler" and e.file in done_files
                     and e.route and (route := _concrete(e.route))})
    if not routes:
        pytest.skip(f"no concrete routes for {framework}")
    requests = [[r, None] for r in routes] + [[f"{r}?callback=old", None] for r in routes] + [
        [r, ORIGIN] for r in routes]
    run = subprocess.run([sys.executable, "-c", CLIENTS[framework], json.dumps(requests)], cwd=root / framework,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    answers: list[list[Any]] = json.loads(run.stdout.strip().splitlines()[-1])
    ok = 0
    for path, origin, status, headers, body in answers:
        if status != 200:
            continue
        ok += 1
        content_type = headers.get("content-type", "").split(";")[0]
        if "callback=old" in path:
            assert "javascript" in content_type and "old(" in body, (path, content_type, body[:80])
        else:
            assert content_type == "application/json", (path, content_type, body[:80])
            json.loads(body)
        if origin:
            assert headers.get("access-control-allow-origin") == origin, (path, headers)
    assert ok, answers
