"""Reports of a scan: rich table, JSON (contract 1) and SARIF 2.1.0 here; the HTML migration report in `html`.

Submodules load on first use, so `import jsonp2cors.report` stays cheap (rich loads only for tables).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from jsonp2cors.findings import ScanResult

if TYPE_CHECKING:
    from jsonp2cors.report.sarif import to_sarif
    from jsonp2cors.report.table import render_table

__all__ = ["FORMATS", "render_table", "to_sarif", "write_report"]

#: The formats `jsonp2cors scan --format` accepts.
FORMATS: tuple[str, ...] = ("table", "json", "sarif")

_LAZY = {"render_table": "jsonp2cors.report.table", "to_sarif": "jsonp2cors.report.sarif"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jsonp2cors.report' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def write_report(
    result: ScanResult,
    fmt: str,
    stream: TextIO,
    *,
    root: str | Path | None = None,
    terminal: bool | None = None,
    width: int | None = None,
) -> None:
    """Write `result` to `stream` as `fmt` (one of FORMATS).

    For "table", `terminal` forces (True) or forbids (False) colours and links, None detects it from
    `stream`; `width` overrides the detected width. "json" is contract 1 exactly; "sarif" is SARIF 2.1.0.
    """
    if fmt == "json":
        stream.write(result.to_json() + "\n")
    elif fmt == "sarif":
        from jsonp2cors.report.sarif import to_sarif

        json.dump(to_sarif(result, root=root), stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    elif fmt == "table":
        from rich.console import Console

        from jsonp2cors.report.table import render_table

        if terminal is None:
            terminal = _isatty(stream)
        # Off a terminal, render into a buffer first to drop the padding rich puts at the end of table lines.
        buffer = io.StringIO()
        console = Console(
            file=stream if terminal else buffer,
            force_terminal=terminal,
            no_color=None if terminal else True,  # None: rich honours NO_COLOR
            width=width,
            highlight=False,
            soft_wrap=False,
        )
        render_table(result, console, root=root)
        if not terminal:
            stream.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
    else:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
