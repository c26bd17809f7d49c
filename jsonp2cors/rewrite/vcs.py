"""Refusing to overwrite uncommitted work: which of the files a rewrite touches have changes in git."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def dirty_files(paths: Sequence[Path]) -> list[Path]:
    """The files among `paths` with uncommitted changes (or untracked) in their git work tree.

    Files outside a git work tree, or when git is missing, are never reported: there is nothing to lose
    that git would have kept.
    """
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.resolve().parent, []).append(path.resolve())
    dirty: list[Path] = []
    for folder, files in sorted(by_folder.items()):
        try:
            top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True,
                                 text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return []
        if top.returncode != 0:
            continue
        root = Path(top.stdout.strip()).resolve()
        rels = [str(f.relative_to(root)) for f in files if f.is_relative_to(root)]
        if not rels:
            continue
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-z", "--", *rels],
                                capture_output=True, check=False, timeout=60)
        if status.returncode != 0:
            continue
        changed = {entry[3:].decode("utf-8", "replace") for entry in status.stdout.split(b"\0") if len(entry) > 3}
        dirty += [f for f in files if str(f.relative_to(root)) in changed]
    return dirty
