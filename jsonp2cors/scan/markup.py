"""JSONP consumers in HTML and template markup (beautifulsoup4): `<script src>` tags and inline scripts.

Template syntax (`{{ }}`, `{% %}`, `{# #}`, `<?php ?>`, `<% %>`) is tolerated: comments are blanked and
server-side code blocks are hidden from the HTML tokenizer (same length, so positions stay exact).
Inline `<script>` bodies go to the JavaScript detector with their offset in the page.
"""

from __future__ import annotations

import io
import re
import tokenize
import warnings
from dataclasses import replace
from typing import Any

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from jsonp2cors.findings import Consumer, ScanError
from jsonp2cors.scan.base import FileFindings, ScanConfig
from jsonp2cors.scan.javascript import FOLLOWUP_KEY, analyze_js_file, analyze_js_text
from jsonp2cors.scan.link import callback_in_query, parse_url
from jsonp2cors.scan.loaders import find_loader
from jsonp2cors.scan.web import (  # re-exported: the registry module holds the constants
    JS_SUFFIXES,
    MARKUP_SUFFIXES,
    is_template_path,
    python_strings_candidate,
)

_JS_TYPES = frozenset({
    "", "text/javascript", "application/javascript", "module", "text/babel", "text/jsx",
    "application/x-javascript", "text/ecmascript", "application/ecmascript", "text/x-javascript",
})
_TEMPLATE_TYPES = frozenset({
    "text/template", "text/x-template", "text/ng-template", "text/html", "text/x-handlebars-template",
    "text/x-jquery-tmpl", "text/x-underscore-template", "text/x-kendo-template",
})
_COMMENTS = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|<%--.*?--%>", re.DOTALL)
_SERVER_CODE = re.compile(r"<\?(?:php|=)?.*?(?:\?>|$)|<%.*?(?:%>|$)", re.DOTALL)
_HIDE = str.maketrans({"<": "\ue000", ">": "\ue001"})
_SHOW = str.maketrans({"\ue000": "<", "\ue001": ">"})
_HANDLER_ATTR = re.compile(rb"\son[a-z]+\s*=")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _prepare(text: str) -> str:
    """Same-length text for html.parser: template comments blanked, server code hidden from the tokenizer."""
    text = _COMMENTS.sub(_blank, text)
    return _SERVER_CODE.sub(lambda m: m.group(0).translate(_HIDE), text)


def decode_markup(data: bytes) -> tuple[str, str | None]:
    """Text of a page: UTF-8, else the `<meta charset>`, else cp1252 (with a note saying so)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii")), None
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("cp1252", "replace"), "not UTF-8 and no usable <meta charset>: decoded as cp1252"


class _Page:
    """One parsed piece of markup and how its positions map into the host file."""

    def __init__(self, text: str, rel: str, config: ScanConfig, line_base: int, col_base: int) -> None:
        self.original = text.replace("\r\n", "\n").replace("\r", "\n")
        self.text = _prepare(self.original)
        self.rel = rel
        self.config = config
        self.line_base = line_base
        self.col_base = col_base
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            warnings.simplefilter("ignore", UserWarning)
            self.soup = BeautifulSoup(self.text, "html.parser")

    def host_position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) in the host file of a character offset in this piece."""
        row = _bisect(self.line_starts, offset)
        col = offset - self.line_starts[row]
        if row == 0:
            col += self.col_base
        return self.line_base + row + 1, col + 1

    def tag_offset(self, tag: Tag) -> int:
        line = tag.sourceline or 1
        pos = tag.sourcepos or 0
        return min(self.line_starts[min(line - 1, len(self.line_starts) - 1)] + pos, len(self.text))

    def script_src_consumer(self, tag: Tag) -> Consumer | None:
        src = tag.get("src")
        if not isinstance(src, str):
            return None
        url = src.translate(_SHOW).strip()
        parts = parse_url(url)
        hit = callback_in_query(parts, self.config.callback_params)
        loader = find_loader(parts.host, parts.path)
        migratable = True
        detail = None
        if loader is not None:
            loader_hit = next(((k, v) for k, v in parts.query if k in loader.params), None)
            if loader_hit is None and hit is None:
                return None
            hit = loader_hit or hit
            migratable, detail = False, f"{loader.name} loader"
        if hit is None:
            return None
        line, col = self.host_position(self.tag_offset(tag))
        return Consumer(
            file=self.rel, line=line, column=col, kind="script-tag", url=url, callback=hit[1] or None,
            target=parts.origin, migratable=migratable, callback_param=hit[0], detail=detail,
        )

    def body_offset(self, tag: Tag, body: str) -> int | None:
        start = self.tag_offset(tag)
        pos = start
        while True:
            gt = self.text.find(">", pos)
            if gt == -1:
                return None
            if self.text.startswith(body, gt + 1):
                return gt + 1
            pos = gt + 1

    def event_handlers(self) -> list[tuple[Tag, str]]:
        """(tag, code) of `on*="..."` attributes and `href="javascript:..."` links that call something."""
        out: list[tuple[Tag, str]] = []
        for tag in self.soup.find_all(True):
            if not isinstance(tag, Tag):
                continue
            for key, value in tag.attrs.items():
                if not isinstance(value, str) or "(" not in value:
                    continue
                if key.startswith("on"):
                    out.append((tag, value.translate(_SHOW)))
                elif key == "href" and value.lstrip().lower().startswith("javascript:"):
                    out.append((tag, value.lstrip()[len("javascript:") :].translate(_SHOW)))
        return out

    def scripts(self) -> list[Tag]:
        return [t for t in self.soup.find_all("script") if isinstance(t, Tag)]


def _bisect(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def script_tags_in_text(
    text: str, rel: str, config: ScanConfig, *, line_base: int = 0, col_base: int = 0
) -> list[Consumer]:
    """`<script src>` consumers in a fragment of markup (a string literal in Python or JavaScript)."""
    try:
        page = _Page(text, rel, config, line_base, col_base)
    except Exception:  # a fragment is best effort: bs4 must never take the whole file down
        return []
    return [c for c in (page.script_src_consumer(t) for t in page.scripts()) if c is not None]


def analyze_markup_text(
    text: str, rel: str, config: ScanConfig, *, line_base: int = 0, col_base: int = 0
) -> FileFindings:
    """Consumers in a page: script tags with a callback URL and everything the inline scripts do."""
    out = FileFindings(parsed=True)
    page = _Page(text, rel, config, line_base, col_base)
    calls: list[dict[str, Any]] = []
    wrappers: list[dict[str, Any]] = []
    followups: list[bytes] = []
    for tag in page.scripts():
        consumer = page.script_src_consumer(tag)
        if consumer is not None:
            out.consumers.append(consumer)
        if tag.get("src") is not None:
            continue
        kind = str(tag.get("type") or "").strip().lower()
        body = tag.string if tag.string is not None else None
        unterminated = False
        if body is None and not tag.contents:
            body, unterminated = _unterminated_body(page, tag)
        if not body or not body.strip():
            continue
        offset = page.body_offset(tag, body)
        if offset is None:
            continue
        line, col = page.host_position(offset)
        original = page.original[offset : offset + len(body)]
        if unterminated:
            out.errors.append(ScanError(rel, "unterminated <script>: read to the end of the file",
                                        line=page.host_position(page.tag_offset(tag))[0]))
        if kind in _TEMPLATE_TYPES:
            inner = analyze_markup_text(original, rel, config, line_base=line - 1, col_base=col - 1)
            out.consumers.extend(inner.consumers)
            out.errors.extend(inner.errors)
            continue
        if kind not in _JS_TYPES and not kind.endswith(("javascript", "ecmascript", "typescript")):
            continue  # JSON data, shaders, text/x-... that is not code
        lang = str(tag.get("lang") or "").strip().lower()
        dialect = "tsx" if lang == "tsx" else "ts" if lang == "ts" or "typescript" in kind else "js"
        js = analyze_js_text(original, rel, config, line_base=line - 1, col_base=col - 1, dialect=dialect)
        out.consumers.extend(js.consumers)
        out.errors.extend(js.errors)
        calls.extend(js.facts.get("calls", ()))
        wrappers.extend(js.facts.get("wrappers", ()))
        followups.extend(js.facts.get(FOLLOWUP_KEY, ()))
    for tag, code in page.event_handlers():
        # `<body onload="getRemote('/api/x', show)">`: JavaScript in an attribute; reported at the tag
        line, col = page.host_position(page.tag_offset(tag))
        js = analyze_js_text(code, rel, config, line_base=line - 1, col_base=col - 1)
        out.consumers.extend(replace(c, line=line, column=col) for c in js.consumers)
        calls.extend({**call, "line": line, "column": col} for call in js.facts.get("calls", ()))
    out.facts = {"calls": calls, "wrappers": wrappers, FOLLOWUP_KEY: sorted(set(followups))}
    return out


def _unterminated_body(page: _Page, tag: Tag) -> tuple[str | None, bool]:
    start = page.tag_offset(tag)
    gt = page.text.find(">", start)
    if gt == -1:
        return None, False
    rest = page.text[gt + 1 :]
    if "</script" in rest.lower():
        return None, False
    return rest, True


def analyze_markup_file(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """The analyzer function for markup files."""
    low = data.lower()
    if b"<script" not in low and b"javascript:" not in low and not _HANDLER_ATTR.search(low):
        return FileFindings()
    text, note = decode_markup(data)
    try:
        out = analyze_markup_text(text, rel, config)
    except Exception as exc:  # bs4 on hostile input: report, never crash the scan
        return FileFindings(errors=[ScanError(rel, f"markup not parsed: {type(exc).__name__}: {exc}")])
    if note:
        out.errors.append(ScanError(rel, note))
    return out


def analyze_web_file(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """Markup or JavaScript, by suffix (one analyzer, so wrapper call sites link across both)."""
    if rel.lower().endswith(JS_SUFFIXES):
        try:
            return analyze_js_file(rel, data, config)
        except Exception as exc:  # tree-sitter does not raise on bad input; this guards our own walk
            message = f"JavaScript not analysed: {type(exc).__name__}: {exc}"
            return FileFindings(errors=[ScanError(rel, message)])
    return analyze_markup_file(rel, data, config)


# ------------------------------------------------------------------------- <script> in Python strings


def analyze_python_strings(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """`<script src=...?callback=...>` written inside Python string literals (inline HTML in views)."""
    if not python_strings_candidate(data, config):
        return FileFindings()
    return script_tags_in_python_strings(rel, data, config)


def script_tags_in_python_strings(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """`analyze_python_strings` without its cheap gate (for callers that already asked it)."""
    out = FileFindings()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return out
    starts = [0] + [m.end() for m in re.finditer("\n", text)]  # the lines tokenize counts
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out  # the Python analyzer reports broken Python files
    for start, end, bare in _string_spans(tokens):
        begin = starts[start[0] - 1] + start[1]
        literal = text[begin : starts[end[0] - 1] + end[1]]
        if bare or "<script" not in literal.lower():
            continue  # docstrings and bare string statements document, they do not emit markup
        m = _QUOTE.match(literal)
        if not m:
            continue
        inner = literal[m.end() : len(literal) - len(m.group(1))]
        out.consumers.extend(
            script_tags_in_text(inner, rel, config, line_base=start[0] - 1, col_base=start[1] + m.end())
        )
    return out


_QUOTE = re.compile(r"[rRbBuUfF]*('''|\"\"\"|'|\")")


def _string_spans(tokens: list[tokenize.TokenInfo]) -> list[tuple[tuple[int, int], tuple[int, int], bool]]:
    """(start, end, is a bare string statement) of every string literal, f-strings of 3.12+ included."""
    significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.COMMENT)]
    statement_start = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    spans: list[tuple[tuple[int, int], tuple[int, int], bool]] = []
    i = 0
    while i < len(significant):
        tok = significant[i]
        name = tokenize.tok_name.get(tok.type, "")
        if tok.type != tokenize.STRING and name != "FSTRING_START":
            i += 1
            continue
        j = i
        if name == "FSTRING_START":
            while j + 1 < len(significant) and tokenize.tok_name.get(significant[j].type) != "FSTRING_END":
                j += 1
        prev = significant[i - 1].type if i else tokenize.NEWLINE
        nxt = significant[j + 1].type if j + 1 < len(significant) else tokenize.NEWLINE
        bare = prev in statement_start and nxt in (tokenize.NEWLINE, tokenize.ENDMARKER)
        spans.append((tok.start, significant[j].end, bare))
        i = j + 1
    return spans


__all__ = [
    "MARKUP_SUFFIXES",
    "analyze_markup_file",
    "analyze_markup_text",
    "analyze_python_strings",
    "analyze_web_file",
    "is_template_path",
    "script_tags_in_text",
]
