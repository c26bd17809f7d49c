"""Registration of the consumer analyzers (markup, JavaScript, `<script>` tags in Python strings).

This module is light on purpose: the scan imports it to learn suffixes and needles, while beautifulsoup4
(markup.py) and tree-sitter (javascript.py) load only when a file actually reaches them. A scan of a tree
with no markup candidate never pays for either.
"""

from __future__ import annotations

from typing import Any

from jsonp2cors.scan.base import Analyzer, FileFindings, ScanConfig, may_load

MARKUP_SUFFIXES: tuple[str, ...] = (
    ".html", ".htm", ".xhtml", ".shtml", ".j2", ".jinja", ".jinja2", ".djhtml", ".tmpl", ".tpl",
    ".php", ".phtml", ".erb", ".jsp", ".jspf", ".asp", ".aspx", ".vue", ".svelte", ".hbs", ".mustache",
    ".njk", ".twig", ".mako", ".ejs",
)
JS_SUFFIXES: tuple[str, ...] = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
# Call sites of project-local wrappers in files without these needles come in through the scan's
# follow-up round: every analysed file names the wrappers it defines under its `followup_needles` fact.
JS_NEEDLES: tuple[bytes, ...] = (
    b"callback", b"jsonp", b"createelement", b"=?", b"<script", b"onload=", b"cb=",
)
WEB_NEEDLES: tuple[bytes, ...] = tuple(dict.fromkeys((b"<script", *JS_NEEDLES)))
# A `<script src>` in a Python string names its callback (or jQuery's `=?`, or a loader's onload=) in its URL.
PY_STRING_NEEDLES: tuple[bytes, ...] = (b"callback", b"jsonp", b"=?", b"onload=", b"cb=")
# How far after `<script` the cheap check looks for the end of the tag.
_TAG_WINDOW = 4096
_NOT_TEMPLATES = (
    ".py", ".pyc", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".css", ".json", ".woff", ".woff2",
    ".ttf", ".eot", ".map", ".mo", ".po", ".gz", ".zip",
)


def is_template_path(rel: str) -> bool:
    """Files under a `templates/` folder without a markup suffix (Django/Jinja templates named `*.txt`)."""
    lowered = "/" + rel.lower()
    name = lowered.rsplit("/", 1)[-1]
    return "/templates/" in lowered and not name.endswith(_NOT_TEMPLATES)


def script_tag_with_query(low: bytes) -> bool:
    """Does some `<script ...>` opening tag in these lower-cased bytes carry a `src` with a query string?

    Only such a tag can load JSONP (the callback travels in the query), so files where every `<script` lacks
    one (documentation generators, notebook display code) need no tokenizing at all.
    """
    pos = low.find(b"<script")
    while pos != -1:
        end = low.find(b">", pos, pos + _TAG_WINDOW)
        tag = low[pos : end if end != -1 else pos + _TAG_WINDOW]
        if b"src" in tag and b"?" in tag:
            return True
        pos = low.find(b"<script", pos + 7)
    return False


def analyze_web_file(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """Markup or JavaScript, by suffix (one analyzer, so wrapper call sites link across both)."""
    if not may_load("markup"):
        return FileFindings(deferred="markup")  # read by the worker that loads beautifulsoup4 and tree-sitter
    from jsonp2cors.scan import markup

    return markup.analyze_web_file(rel, data, config)


def python_strings_candidate(data: bytes, config: ScanConfig) -> bool:
    """Can this Python file hold a JSONP `<script src>` in a string? Tokenizing it is the cost: a tag that loads
    JSONP names its callback parameter (or jQuery's `=?`, or a loader's onload=) in a `src` with a query."""
    low = data.lower()
    callback_named = any(n in low for n in PY_STRING_NEEDLES) or any(
        p.lower().encode() + b"=" in low for p in config.callback_params
    )
    return callback_named and script_tag_with_query(low)


def analyze_python_strings(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """`<script src=...?callback=...>` written inside Python string literals (inline HTML in views)."""
    if not python_strings_candidate(data, config):
        return FileFindings()
    if not may_load("markup"):
        return FileFindings(deferred="markup")
    from jsonp2cors.scan import markup

    return markup.script_tags_in_python_strings(rel, data, config)


def finish_wrappers(items: list[tuple[str, dict[str, Any]]], config: ScanConfig) -> FileFindings:
    """Whole-repo pass: call sites of JSONP wrappers defined in another file (see javascript.finish_wrappers)."""
    if not any(facts.get("wrappers") for _, facts in items):
        return FileFindings()
    from jsonp2cors.scan import javascript

    return javascript.finish_wrappers(items, config)


WEB_ANALYZER = Analyzer(
    name="web-consumers",
    suffixes=MARKUP_SUFFIXES + JS_SUFFIXES,
    needles=WEB_NEEDLES,
    function=analyze_web_file,
    path_predicate=is_template_path,
    finish=finish_wrappers,
)
PYTHON_STRINGS_ANALYZER = Analyzer(
    name="script-tags-in-python-strings",
    suffixes=(".py",),
    needles=(b"<script",),
    function=analyze_python_strings,
)

ANALYZERS: list[Analyzer] = [WEB_ANALYZER, PYTHON_STRINGS_ANALYZER]
