"""JSONP consumers in HTML and template markup (beautifulsoup4). Placeholder until issue 3 lands."""

from __future__ import annotations

from jsonp2cors.scan.base import Analyzer

ANALYZERS: list[Analyzer] = []
