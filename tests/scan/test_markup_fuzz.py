"""Hypothesis: random markup and JavaScript never crash the consumer analyzers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.javascript import analyze_js_text
from jsonp2cors.scan.link import link_consumers, parse_url
from jsonp2cors.scan.markup import analyze_python_strings, analyze_web_file

CONFIG = ScanConfig()
PIECES = [
    "<script>",
    "</script>",
    '<script src="',
    "/api/x?callback=",
    "?",
    "=?",
    "&amp;",
    '">',
    "{{ a }}",
    "{% if %}",
    "{# c #}",
    "<?php ",
    "?>",
    "<% ",
    "%>",
    "<!--",
    "-->",
    "$.ajax({",
    "url:",
    '"/u"',
    "dataType:'jsonp'",
    "})",
    "document.createElement('script')",
    ".src=",
    "window[n]=f;",
    "`${",
    "}`",
    "\n",
    "\r\n",
    " ",
    "'",
    '"',
    "<",
    ">",
    "/",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ";",
    "$http.jsonp(",
    "JSON_CALLBACK",
    "\x00",
    "\ufeff",
    "é",
]
soup = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=60).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(soup)
def test_random_markup_never_crashes(text: str) -> None:
    for rel in ("p.html", "p.php", "c.vue", "a.js", "a.ts", "a.tsx"):
        out = analyze_web_file(rel, text.encode("utf-8", "surrogatepass"), CONFIG)
        for c in out.consumers:
            assert c.line >= 1 and c.column >= 1


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    analyze_web_file("p.html", b"<script>" + data, CONFIG)
    analyze_web_file("a.js", data, CONFIG)
    analyze_python_strings("v.py", b"x = '<script " + data, CONFIG)


@FAST
@given(soup)
def test_random_javascript_positions_stay_inside_the_text(text: str) -> None:
    lines = text.count("\n") + 1
    for c in analyze_js_text(text, "a.js", CONFIG).consumers:
        assert 1 <= c.line <= lines


@FAST
@given(st.text(max_size=80))
def test_url_parsing_and_linking_never_crash(url: str) -> None:
    parse_url(url)
    from jsonp2cors.findings import Consumer, Endpoint

    link_consumers(
        [Endpoint("a.py", 1, "f", "flask", url or "/"), Endpoint("a.py", 2, "g", "django", "^(x$")],
        [Consumer("p.html", 1, "script-tag", url)],
    )
