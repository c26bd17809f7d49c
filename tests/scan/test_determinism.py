"""The facts a Python module yields (and so the whole-repo pass and the report) do not depend on the interpreter's
string hash seed: nothing iterates a set of names into an ordered result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"

# A middleware registered both ways Starlette allows, on several apps (its hooks were once listed in set order,
# which for each app differed under one seed in eight), plus every Python fixture of every framework.
_DUMP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from jsonp2cors.scan.base import ScanConfig
    from jsonp2cors.scan.python import analyze_python

    extra = (
        "from starlette.applications import Starlette\\n"
        "from starlette.middleware import Middleware\\n"
        "from legacy.pad import JSONPMiddleware\\n"
        "app = Starlette(middleware=[Middleware(JSONPMiddleware)])\\n"
    )
    for name in ("api", "admin", "public", "internal", "v1", "v2", "legacy", "mobile"):
        extra += f"{name} = Starlette()\\n{name}.add_middleware(JSONPMiddleware, param='cb')\\n"
    sources = [("app/asgi.py", extra.encode())]
    root = Path(sys.argv[1])
    if sys.argv[2] == "all":
        sources += sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*.py"))
    for rel, data in sources:
        found = analyze_python(rel, data, ScanConfig())
        facts = {k: v for k, v in found.facts.items() if k not in ("source", "source_path")}
        print(rel, repr(found.endpoints), repr(sorted(facts.items())))
    """
)


def _dump(seed: str, which: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, str(FIXTURES), which],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return done.stdout


def test_module_facts_are_the_same_under_every_hash_seed() -> None:
    first = _dump("0", "all")
    assert "middleware" in first and "app/asgi.py" in first
    assert first.count("\n") == 1 + sum(1 for _ in FIXTURES.rglob("*.py"))  # every fixture module was read
    for seed in ("1", "2"):
        assert _dump(seed, "all") == first, f"facts differ between PYTHONHASHSEED=0 and {seed}"
    middleware = first.split("\n", 1)[0]
    for seed in ("3", "4", "5", "6", "7", "8", "9"):
        assert _dump(seed, "snippet").strip() == middleware, f"facts differ between PYTHONHASHSEED=0 and {seed}"
