"""JSONP consumers in JavaScript (tree-sitter). Placeholder until issue 3 lands."""

from __future__ import annotations

from jsonp2cors.scan.base import Analyzer

ANALYZERS: list[Analyzer] = []
