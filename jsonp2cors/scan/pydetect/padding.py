"""Padding shapes: where in a format template the JavaScript function name goes (`%s(`, `{0}(`, `{cb}(`)."""

from __future__ import annotations

import re
import string

_PERCENT = re.compile(r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])")
# A template that builds HTML or talks to another window is an iframe transport, not JSONP.
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!]|(?:^|[\s;])(?:window\.)?(?:parent|top|opener)\.\s*(?:%|\{|$)")


def looks_like_html(template: str) -> bool:
    return bool(_HTML.search(template))


def percent_name_slot(template: str) -> int | str | None:
    """Index (or mapping key) of the `%` placeholder directly followed by `(`; None when there is none."""
    index = 0
    for m in _PERCENT.finditer(template):
        if m.group("conv") == "%":
            continue
        if template.startswith("(", m.end()):
            return m.group("key") if m.group("key") is not None else index
        index += 1
    return None


def brace_name_slot(template: str) -> int | str | None:
    """Index or keyword of the `{}` field directly followed by `(`; None when there is none."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return None
    auto = 0
    pending: int | str | None = None
    for literal, field, _spec, _conv in parts:
        if pending is not None and literal.startswith("("):
            return pending
        pending = None
        if field is None:
            continue
        head = re.split(r"[.\[]", field, maxsplit=1)[0]
        if head == "":
            pending = auto
            auto += 1
        elif head.isdigit():
            pending = int(head)
        else:
            pending = head
    return None


def opens_call(text: str) -> bool:
    """A literal that continues a function name with its argument list: "(", "(%s)" ..."""
    return text.startswith("(")
