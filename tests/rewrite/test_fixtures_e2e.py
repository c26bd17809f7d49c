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
    migration = migrate(root, ["https://partner.example.com"], write=True, allow_dirty=True)
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


CLIENTS = {
    "flask": """
import json, sys
sys.path.insert(0, ".")
from app import app
client = app.test_client()
out = []
for path in json.loads(sys.argv[1]):
    r = client.get(path)
    out.append([path, r.status_code, r.headers.get("Content-Type", ""), r.get_data(as_text=True)])
print(json.dumps(out))
""",
    "django": """
import json, os, sys
sys.path.insert(0, ".")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from django.test import Client
client = Client()
out = []
for path in json.loads(sys.argv[1]):
    r = client.get(path)
    out.append([path, r.status_code, r.get("Content-Type", ""), r.content.decode()])
print(json.dumps(out))
""",
    "starlette": """
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, ".")
from starlette.testclient import TestClient
from app import app
client = TestClient(app)
out = []
for path in json.loads(sys.argv[1]):
    r = client.get(path)
    out.append([path, r.status_code, r.headers.get("content-type", ""), r.text])
print(json.dumps(out))
""",
}


def _concrete(route: str) -> str | None:
    if any(ch in route for ch in "<{(["):
        return None
    return route


@pytest.mark.parametrize("framework", sorted(CLIENTS))
def test_rewritten_fixture_apps_answer_json(migrated: tuple[Path, ScanResult, Migration, ScanResult],
                                            framework: str) -> None:
    root, before, migration, _ = migrated
    done_files = {m.file for m in migration.plan.migrated if m.kind == "endpoint"}
    paths = sorted({f"{route}?callback=old" for e in before.endpoints
                    if e.file.startswith(f"{framework}/") and e.role == "handler" and e.file in done_files
                    and e.route and (route := _concrete(e.route))})
    if not paths:
        pytest.skip(f"no concrete routes for {framework}")
    run = subprocess.run([sys.executable, "-c", CLIENTS[framework], json.dumps(paths)], cwd=root / framework,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    answers: list[list[Any]] = json.loads(run.stdout.strip().splitlines()[-1])
    for path, status, content_type, body in answers:
        assert "javascript" not in content_type, (path, content_type, body[:80])
        if status == 200:
            assert content_type.split(";")[0] == "application/json", (path, content_type)
            json.loads(body)
