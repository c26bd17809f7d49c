"""Python JSONP endpoints: the analyzer registered with the scan (needles, cheap stage, detectors)."""

from __future__ import annotations

import ast
import re
from typing import Any

from jsonp2cors.findings import Endpoint, ScanError
from jsonp2cors.scan.base import Analyzer, FileFindings, ScanConfig
from jsonp2cors.scan.files import decode_python

_PAD = re.compile(r"(%(?:\([^)]*\))?[-#0 +]*\d*[sr]|\{[^{}]*\})\s*\(")


def _needles(config: ScanConfig) -> tuple[bytes, ...]:
    names = {n.lower() for n in config.callback_params} | {"jsonp", "callback", "javascript"}
    return (*sorted(n.encode() for n in names if len(n) > 3), b"'cb'", b'"cb"', b".cb", b"cb=")


def analyze_python(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    found = FileFindings()
    decoded = decode_python(data)
    if decoded.error:
        found.errors.append(ScanError(rel, decoded.error))
    try:
        tree = ast.parse(decoded.text)
    except (SyntaxError, ValueError) as exc:
        found.errors.append(ScanError(rel, f"syntax error: {getattr(exc, 'msg', exc)}",
                                      getattr(exc, "lineno", None)))
        return found
    found.parsed = True
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            text = ast.get_source_segment(decoded.text, node) or ""
            keyed = any(f'"{p}"' in text or f"'{p}'" in text for p in config.callback_params)
            if keyed and _PAD.search(text):
                found.endpoints.append(Endpoint(rel, node.lineno, node.name, confidence="medium",
                                                recognised_by="format-padding"))
    return found


def _finish(items: list[tuple[str, dict[str, Any]]], config: ScanConfig) -> FileFindings:
    return FileFindings()


ANALYZERS: list[Analyzer] = [
    Analyzer("python", (".py", ".pyw", ".cgi", ".wsgi"), _needles(ScanConfig()), analyze_python,
             finish=_finish),
]
