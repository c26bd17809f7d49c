"""Markup JSONP consumers -> fetch(): `<script src=...?callback=fn>` tags and JSONP calls in inline scripts.

Tags are located on the consumer's line with a small quote-aware tag reader, so everything outside the
edited tag stays byte-identical; template tags inside attribute values are carried over untouched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from jsonp2cors.findings import Consumer
from jsonp2cors.rewrite.javascript import (
    IDENT_PATH,
    JsOutcome,
    JsResult,
    callback_call,
    callback_params_for,
    credentials_mode,
    fetch_chain,
    rewrite_js,
    strip_param_raw,
)

_SCRIPT_OPEN = re.compile(r"<script\b", re.IGNORECASE)
_SCRIPT_CLOSE = re.compile(r"</script\s*>", re.IGNORECASE)
_ATTR = re.compile(r"""\s*([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_DROP_ATTRS = frozenset({"src", "async", "defer", "charset", "integrity", "crossorigin", "referrerpolicy"})
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<%.*?%>|<\?.*?\?>", re.DOTALL)
_JS_TYPES = ("", "text/javascript", "application/javascript", "module", "text/ecmascript", "application/x-javascript")


@dataclass(frozen=True)
class Attr:
    name: str
    value: str | None  # raw text between the quotes (entities not decoded)
    start: int  # span of the attribute including the whitespace before it
    end: int


@dataclass(frozen=True)
class ScriptElement:
    start: int  # "<script"
    open_end: int  # just after the start tag's ">"
    close_start: int  # "</script>"
    end: int
    attrs: tuple[Attr, ...]

    def attr(self, name: str) -> Attr | None:
        return next((a for a in self.attrs if a.name.lower() == name), None)


def _tag_end(text: str, pos: int) -> int:
    """Index just after the `>` closing the tag opened before `pos`, skipping quoted values and template tags."""
    quote: str | None = None
    i = pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif text.startswith(("{{", "{%", "<%", "<?"), i):
            closer = {"{{": "}}", "{%": "%}", "<%": "%>", "<?": "?>"}[text[i:i + 2]]
            end = text.find(closer, i + 2)
            if end == -1:
                return -1
            i = end + 2
            continue
        elif ch == ">":
            return i + 1
        i += 1
    return -1


def _attrs(text: str, start: int, end: int) -> tuple[Attr, ...]:
    body = text[start:end]
    out: list[Attr] = []
    pos = 0
    # mask template tags so their spaces and quotes do not split attributes
    masked = _TEMPLATE.sub(lambda found: "T" * len(found.group(0)), body)
    while pos < len(masked):
        found = _ATTR.match(masked, pos)
        if not found or found.end() == pos:
            break
        name = body[found.start(1):found.end(1)]
        value = None
        if found.group(2) is not None:
            raw = body[found.start(2):found.end(2)]
            value = raw[1:-1] if raw[:1] in "\"'" else raw
        out.append(Attr(name, value, start + found.start(), start + found.end()))
        pos = found.end()
    return tuple(out)


def script_elements(text: str) -> list[ScriptElement]:
    out: list[ScriptElement] = []
    pos = 0
    while True:
        found = _SCRIPT_OPEN.search(text, pos)
        if not found:
            return out
        open_end = _tag_end(text, found.end())
        if open_end == -1:
            return out
        close = _SCRIPT_CLOSE.search(text, open_end)
        if not close:
            return out
        self_closing = text[open_end - 2:open_end] == "/>"
        attrs_end = open_end - (2 if self_closing else 1)
        out.append(ScriptElement(found.start(), open_end, close.start(), close.end(),
                                 _attrs(text, found.end(), attrs_end)))
        pos = close.end()


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _js_string(url: str) -> str | None:
    if "\\" in url or "\n" in url or "</" in url:
        return None
    if '"' not in url:
        return f'"{url}"'
    if "'" not in url:
        return f"'{url}'"
    return None


class MarkupDecline(Exception):
    pass


def _handler_code(element: ScriptElement, name: str) -> str | None:
    attr = element.attr(name)
    if attr is None or attr.value is None:
        return None
    code = html.unescape(attr.value).strip().rstrip(";")
    if re.search(r"\bthis\b|\bevent\b|</", code) or _TEMPLATE.search(code):
        raise MarkupDecline(f"the tag's {name} handler uses the element or the event; rewrite by hand")
    return code


def _handlers(element: ScriptElement, callback: str, notes: list[str]) -> tuple[str, str | None]:
    """The fetch() handlers: the callback (then the tag's onload code), and the tag's onerror code."""
    onload = _handler_code(element, "onload")
    onerror = _handler_code(element, "onerror")
    then = callback_call(callback) if onload is None else f"(data) => {{ {callback}(data); {onload}; }}"
    if onload is not None or onerror is not None:
        notes.append("onload/onerror attributes became fetch() handlers")
    return then, (None if onerror is None else f"() => {{ {onerror}; }}")


def _script_tag(text: str, element: ScriptElement, consumer: Consumer, notes: list[str]) -> tuple[int, int, str]:
    src = element.attr("src")
    assert src is not None and src.value is not None
    if text[element.open_end:element.close_start].strip():
        raise MarkupDecline("the <script src> element also has inline content")
    url = html.unescape(src.value) if "&" in src.value and not _TEMPLATE.search(src.value) else src.value
    masked = _TEMPLATE.sub(lambda found: "\x00" * len(found.group(0)), url)
    stripped = strip_param_raw(masked, callback_params_for(consumer))
    if stripped is None:
        raise MarkupDecline("no callback parameter found in the src URL")
    cut = len(masked) - len(stripped[0])
    start = next(i for i, (a, b) in enumerate(zip(masked, stripped[0] + "\x01", strict=False)) if a != b)
    new_url = url[:start] + url[start + cut:]
    value = url[start:start + cut].split("=", 1)[1].rstrip("&") if "=" in url[start:start + cut] else ""
    if "\x00" in stripped[1]:
        raise MarkupDecline("the callback name comes from a template expression")
    callback = consumer.callback if consumer.callback and consumer.callback != "?" else value
    if not callback or not IDENT_PATH.fullmatch(callback):
        raise MarkupDecline(f"callback {callback!r} is not a plain function name")
    literal = _js_string(new_url)
    if literal is None:
        raise MarkupDecline("the URL holds quotes, backslashes or line breaks that a JS string cannot keep as is")
    mode, note = credentials_mode(consumer)
    if note:
        notes.append(note)
    kept = "".join(text[a.start:a.end] for a in element.attrs
                   if a.name.lower() not in _DROP_ATTRS and a.name.lower() not in ("onload", "onerror"))
    type_attr = element.attr("type")
    if type_attr is not None and (type_attr.value or "").lower() not in _JS_TYPES:
        raise MarkupDecline(f"script type {type_attr.value!r} is not JavaScript")
    then, on_error = _handlers(element, callback, notes)
    body = fetch_chain(literal, mode, then, on_error) + ";"
    dropped = sorted(a.name.lower() for a in element.attrs if a.name.lower() in _DROP_ATTRS - {"src"})
    if dropped:
        notes.append(f"dropped {', '.join(dropped)} (inline scripts ignore them)")
    notes.append("runs after the fetch resolves, no longer blocking the parser")
    return element.start, element.end, f"<script{kept}>{body}</script>"


def rewrite_markup(text: str, consumers: Sequence[Consumer]) -> JsResult:
    """Rewrite script-tag consumers and the JSONP calls inside inline scripts of one markup file."""
    elements = script_elements(text)
    edits: list[tuple[int, int, str]] = []
    changed: list[JsOutcome] = []
    declined: list[JsOutcome] = []
    covered: list[JsOutcome] = []
    inline: dict[int, list[Consumer]] = {}
    for consumer in consumers:
        if not consumer.migratable:
            declined.append(JsOutcome(consumer.line, consumer.kind,
                                      f"not data: {consumer.detail or 'a script loader'} (migratable: false)"))
            continue
        if consumer.kind == "script-tag":
            candidates = [e for e in elements if e.attr("src") is not None
                          and _line_of(text, e.start) <= consumer.line <= _line_of(text, e.open_end)]
            if consumer.url:
                exact = [e for e in candidates if consumer.url in (e.attr("src").value,  # type: ignore[union-attr]
                                                                   html.unescape(e.attr("src").value or ""))]  # type: ignore[union-attr]
                candidates = exact or candidates
            if not candidates:
                inside = [i for i, e in enumerate(elements) if e.attr("src") is None
                          and _line_of(text, e.open_end) <= consumer.line <= _line_of(text, e.close_start)]
                reason = ("a <script> tag written inside a string literal; rewrite by hand" if inside
                          else "could not locate the <script src> tag at this line")
                declined.append(JsOutcome(consumer.line, consumer.kind, reason))
                continue
            notes: list[str] = []
            try:
                edits.append(_script_tag(text, candidates[0], consumer, notes))
            except MarkupDecline as exc:
                declined.append(JsOutcome(consumer.line, consumer.kind, str(exc)))
                continue
            changed.append(JsOutcome(consumer.line, consumer.kind, "; ".join(notes)))
            continue
        index = next((i for i, e in enumerate(elements) if e.attr("src") is None
                      and _line_of(text, e.open_end) <= consumer.line <= _line_of(text, e.close_start)), None)
        if index is None:
            declined.append(JsOutcome(consumer.line, consumer.kind, "not inside an inline <script> element"))
            continue
        inline.setdefault(index, []).append(consumer)
    for index, group in inline.items():
        element = elements[index]
        body = text[element.open_end:element.close_start]
        result = rewrite_js(body, group, line_offset=_line_of(text, element.open_end) - 1, strict=False)
        changed += result.changed
        declined += result.declined
        covered += result.covered
        if result.text != body:
            edits.append((element.open_end, element.close_start, result.text))
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return JsResult(out, tuple(changed), tuple(declined), tuple(covered))
