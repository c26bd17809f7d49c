"""Showing a rewrite: unified diffs (coloured for a terminal) and one-line counts."""

from __future__ import annotations

from collections.abc import Sequence

from jsonp2cors.rewrite import FileEdit

_COLORS = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
_RESET = "\x1b[0m"


def diff_text(edits: Sequence[FileEdit], *, color: bool = False) -> str:
    """Every edit as a unified diff; with `color`, ANSI colours as `git diff` shows them."""
    text = "".join(edit.diff() for edit in edits)
    if not color:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(f"\x1b[1m{line.rstrip(chr(10))}{_RESET}\n")
        elif line[:1] in _COLORS:
            out.append(f"{_COLORS[line[:1]]}{line.rstrip(chr(10))}{_RESET}\n")
        else:
            out.append(line)
    return "".join(out)
