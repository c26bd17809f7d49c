"""The README's quickstart: exactly two set-up commands, and the first one works as written on a fresh copy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_the_quickstart_has_exactly_two_commands() -> None:
    first, second = quickstart_commands()
    assert "pip install ." in first and "jsonp2cors demo" in first
    assert second == "bash scripts/test.sh"
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # CI runs the same command


@pytest.mark.slow
def test_the_first_command_works_on_a_fresh_copy(tmp_path: Path) -> None:
    """Runs command 1 verbatim in a copy of the tracked files: a new venv, `pip install .`, `jsonp2cors demo`."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    copy = tmp_path / "jsonp2cors"
    for name in tracked.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    done = subprocess.run(["bash", "-c", quickstart_commands()[0]], cwd=copy, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Endpoints migrated: 5 of 5" in done.stdout and "Consumers migrated: 4 of 4" in done.stdout
