"""The Python analyzer: byte needles, a cheap stdlib-`ast` stage, libcst detectors for real candidates,
a token-level fallback for Python 2, and the whole-repo pass that links handlers to helpers in other modules.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, AnyStr, Generic, cast

from jsonp2cors.findings import Endpoint, ScanError
from jsonp2cors.scan.base import PARSED_KEY, Analyzer, FileFindings, ScanConfig, use_heavy
from jsonp2cors.scan.files import decode_python
from jsonp2cors.scan.pydetect import padding, tables
from jsonp2cors.scan.pydetect.paths import module_name

if TYPE_CHECKING:
    from jsonp2cors.scan.pydetect.model import CallSite, ModuleFacts
    from jsonp2cors.scan.pydetect.resolve import Resolver

SUFFIXES = (".py", ".pyw", ".cgi", ".wsgi")
# Files without any of these (lower-cased) bytes cannot hold a Python JSONP endpoint.
BASE_NEEDLES: tuple[bytes, ...] = (
    b"jsonp",
    b"callback",
    b"javascript",
    b"'cb'",
    b'"cb"',
    b".cb",
    b"cb=",
    b"cb:",
    b"<cb>",
    b"{cb}",
    b"call_back",
)


def _name_forms(name: bytes) -> tuple[bytes, ...]:
    """How a callback parameter's name shows up where a request reads it: a string literal (`"callback"`,
    `'jsoncallback'`), an attribute (`request.query.callback`), a keyword or annotated handler argument
    (`callback=None`, `callback: str`), a route segment (`<callback>`, `{callback}`), a `%(callback)s` key."""
    if len(name) > 3:  # long enough to be a string's tail too: "jsoncallback" ends with callback"
        return (b"'" + name, b'"' + name, name + b"'", name + b'"', b"." + name, name + b"=", name + b":",
                b"<" + name, b"{" + name, b"%(" + name + b")")
    return (b"'" + name + b"'", b'"' + name + b'"', b"." + name, name + b"=", name + b":", b"<" + name + b">",
            b"{" + name + b"}")


_QUOTES = (b"'", b'"')
_BEFORE_LONG = (b"'", b'"', b".", b"<", b"{")
_AFTER_LONG = (b"'", b'"', b"=", b":")
_AFTER_SHORT = (b"=", b":")
_PAIRS_SHORT = ((b"<", b">"), (b"{", b"}"))


def in_a_name_form(low: bytes, name: bytes) -> bool:
    """Does `name` occur in one of its `_name_forms` in these bytes? One search for the name and a look at the
    bytes around each occurrence, instead of one pass over the file per form."""
    n = len(name)
    pos = low.find(name)
    while pos != -1:
        before, after = low[pos - 1 : pos] if pos else b"", low[pos + n : pos + n + 1]
        if n > 3:
            if before in _BEFORE_LONG or after in _AFTER_LONG or (after == b")" and low[pos - 2 : pos] == b"%("):
                return True
        elif (
            (before in _QUOTES and after == before)
            or before == b"."
            or after in _AFTER_SHORT
            or (before, after) in _PAIRS_SHORT
        ):
            return True
        pos = low.find(name, pos + 1)
    return False


def needles_for(config: ScanConfig) -> tuple[bytes, ...]:
    extra: list[bytes] = []
    for name in (*config.callback_params, *config.helper_names):
        low = name.lower().encode()
        extra += [low] if len(low) > 3 else list(_name_forms(low))
    return tuple(dict.fromkeys((*BASE_NEEDLES, *extra)))


# Request reads: request.args..., self.get_argument(, cgi's form.getvalue("x"), webargs, web.py ... Each
# alternative starts with a literal, and they are searched one by one: the regex engine skips ahead to a
# literal, while one alternation of them all tries every position (twice as slow on library code).
_READ_HINT_PARTS: tuple[str, ...] = (
    r"req(?:uest)?(?:\.(?:args|values|params|GET|POST|REQUEST|query|query_params|form|forms|arguments|rel_url"
    r"|vars|get_vars|post_vars|match_info|matchdict|path_params|view_args|get\(|get_all\()"
    r"|(?<=request)[\"']\]\.)",  # renderer_context["request"].query_params, system["request"].params
    r"get_argument|get_query_argument|get_param(?:\b|_as_)",  # Falcon req.get_param(_as_list), not get_params()
    r"get(?:first|value|list)\([ \t]*[^)\s]",  # cgi's form.getvalue("x"), not StringIO's getvalue()
    r"QUERY_STRING",
    r"FieldStorage",
    r"parse_qsl?\b",
    r"use_args|use_kwargs",
    r"web\.input",
    r"parser\.parse\((?:[^()]|\([^()]*\))*?\breq",  # webargs: parser.parse(schema, request)
    r"getattr\([ \t]*(?:self\.)?req(?:uest)?[ \t]*,",  # getattr(request, "query_params", {})
    r"g\.(?<![\w.]g\.)\w*(?:callback|jsonp)",  # Flask's g.callback (literal first; the look-behind after it)
)


class _Hints(Generic[AnyStr]):
    """A set of literal-led patterns searched one by one, over text or (lower-cased) bytes."""

    def __init__(self, parts: tuple[re.Pattern[AnyStr], ...]) -> None:
        self.parts: tuple[re.Pattern[AnyStr], ...] = parts

    def search(self, text: AnyStr) -> bool:
        return any(p.search(text) is not None for p in self.parts)

    def positions(self, text: AnyStr) -> list[int]:
        return sorted({m.start() for p in self.parts for m in p.finditer(text)})


_READ_HINT: _Hints[str] = _Hints(tuple(re.compile(part) for part in _READ_HINT_PARTS))
# The same, for the prefilter's second tier, which looks at lower-cased bytes.
_READ_HINT_LOW: _Hints[bytes] = _Hints(tuple(re.compile(part.lower().encode("ascii")) for part in _READ_HINT_PARTS))


def contains(needle: bytes) -> Callable[[bytes], bool]:
    """`needle in data`, done the faster way for its length: the regex engine's literal search beats `in` on
    short needles (`cb`, `jsonp`: twice as fast over library code), `in` wins on longer ones."""
    if len(needle) > 5:
        return lambda data: needle in data
    search = re.compile(re.escape(needle)).search
    return lambda data: search(data) is not None


def candidate_for(config: ScanConfig) -> Callable[[bytes], bool]:
    """The prefilter for Python files, on lower-cased bytes, in two tiers.

    A file is a candidate when it says JSONP, names a project helper, or names a callback parameter the way a
    request reads one (see `_name_forms`). The bare words `callback` and `javascript` are everywhere in
    library code (`def add_done_callback(callback)`), so a file with only those is a candidate only when it
    also reads request values or defines a handler-shaped function taking a callback-named parameter (one
    given a URL path segment: `def data(request, callback)` behind Django's `path("data/<str:callback>/", ...)`,
    Tornado's `def get(self, callback)`; see `_handler_param_hint`). A helper that pads a value handed to it is
    found through its callers: the follow-up round reads dropped files that define a function a handler calls.
    """
    strong_needles = dict.fromkeys(
        (
            b"jsonp",
            b"call_back",
            *(n.lower().encode() for n in tables.LIBRARY_JSONP_NAMES),
            *(h.lower().encode() for h in config.helper_names),
        )
    )
    strong = tuple(contains(n) for n in strong_needles)
    words = [w for w in dict.fromkeys(p.lower().encode() for p in config.callback_params) if b"jsonp" not in w]
    # (word, its test, the shorter word inside it or None): "jsoncallback" need not be searched for in a file
    # without "callback"; each search is a pass over the file, and this test runs on every Python file.
    groups = tuple(
        (w, contains(w), next((o for o in words if o != w and o in w), None)) for w in sorted(words, key=len)
    )
    says_javascript = contains(b"javascript")
    param_def = _handler_param_hint(config).search

    def candidate(low: bytes) -> bool:
        for test in strong:
            if test(low):
                return True
        present: set[bytes] = set()
        for word, test, inner in groups:
            if (inner is None or inner in present) and test(low):
                present.add(word)
                if in_a_name_form(low, word):
                    return True
        weak = any(len(w) > 3 for w in present)  # "cb" inside other words is no evidence at all
        if not weak and not says_javascript(low):
            return False
        return _READ_HINT_LOW.search(low) or param_def(low) is not None

    return candidate


# Calls that register routes (a module holding them is read fully so handlers elsewhere get their paths).
ROUTE_CALLS = frozenset(
    {
        "add_route",
        "add_url_rule",
        "add_resource",
        "register_blueprint",
        "include_router",
        "add_renderer",
        "add_view",
        "add_get",
        "add_post",
        "Application",
        "Mount",
        "Route",
        "quickstart",
        "include",
        "re_path",
    }
)
# Route tables of any framework, for handlers whose own module does not say which.
_ANY_ROUTE_NEEDLES: tuple[bytes, ...] = (b"urlpatterns", b"add_url_rule", b"application(", b"add_route")
# Asked for in a second round when a handler's route lives in a module the prefilter dropped.
ROUTE_NEEDLES: dict[str, tuple[bytes, ...]] = {
    "django": (b"urlpatterns",),
    "pyramid": (b"add_route", b"add_view"),
    "tornado": (b"application(",),
    "falcon": (b"add_route",),
    "aiohttp": (b"add_get", b"add_route", b"add_routes"),
    "starlette": (b"route(", b"mount("),
    "fastapi": (b"include_router", b"add_api_route"),
    "flask": (b"add_url_rule", b"add_resource", b"register_blueprint"),
    "cherrypy": (b"mount(", b"quickstart("),
    "bottle": (b"route(", b"mount("),
}


# ----------------------------------------------------------------------------------------- cheap stage
def _padding_literal(value: str) -> bool:
    if "(" not in value or padding.looks_like_html(value):
        return False
    return (
        padding.percent_name_slot(value) is not None
        or padding.brace_name_slot(value) is not None
        or (padding.opens_call(value) and len(value.strip()) <= 12)
        or tables.TEMPLATE_CALL.search(value) is not None  # "$callback($data)", "{{ cb }}(...)"
    )


@dataclass
class Signals:
    """What the cheap stage saw in a module."""

    jsonp: bool = False  # mentions JSONP (or a configured helper name)
    padding: bool = False  # builds `name(`-shaped strings
    source: bool = False  # reads a callback-like request parameter (or names one)
    routes: bool = False  # registers routes
    padding_defs: set[str] = field(default_factory=set)  # top-level functions/classes that build `name(` strings
    source_calls: set[str] = field(default_factory=set)  # callees of the functions that read request values
    together: bool = False  # one function/class both reads a request value and pads
    sets_g: bool = False  # a request-reading unit stores into Flask's `g` (a hook other modules rely on)

    @property
    def full(self) -> bool:
        if self.jsonp or self.together:
            return True
        # a request reader calling a padding function of the same module
        return any(call.rsplit(".", 1)[-1] in self.padding_defs for call in self.source_calls)


# "jsonp" as a word: JSONP, jsonp_view, JSONPResponse, getJSONP, jsonpify, a renderer named "jsonp2"; not
# JSONProvider, jsonParse, jsonpath, nor this tool's package name (a module mounting its shim is no JSONP code).
_JSONP_WORD = re.compile(
    r"(?:(?<![A-Za-z])(?:jsonp|JSONP|Jsonp)|(?<=[a-z])(?:JSONP|Jsonp))(?![a-z]|2cors)|(?<![A-Za-z])jsonpif(?:y|ied)"
)
# Text hints that let the cheap stage skip walking a module's syntax tree: `%s(` / `%(name)s(` templates, and
# `(` right after a quote or a brace (`"("`, `'{}('`, f"{cb}("). Two patterns that each start with a literal
# character, so the regex engine skips ahead to it: one alternation with quotes first ran eight times slower.
_PAD_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +\d.]*[sr]\(")
_PAD_OPEN = re.compile(r"""\((?<=[}"']\()""")
_PAD_DOLLAR = re.compile(r"\$\{?\w+\}?\(")  # string.Template: "$callback($data)", "${cb}(...)"


def _pad_positions(text: str) -> list[int]:
    """Where padding-shaped text starts (the `%`, or the quote or brace before `(`), in order."""
    percent = (m.start() for m in _PAD_PERCENT.finditer(text))
    dollar = (m.start() for m in _PAD_DOLLAR.finditer(text))
    return sorted((*percent, *dollar, *(m.start() - 1 for m in _PAD_OPEN.finditer(text))))


def _has_pad(text: str, start: int = 0, end: int | None = None) -> bool:
    stop = len(text) if end is None else end
    return (
        _PAD_PERCENT.search(text, start, stop) is not None
        or _PAD_OPEN.search(text, start + 1, stop) is not None
        or _PAD_DOLLAR.search(text, start, stop) is not None
    )


def _route_call_patterns(names: Iterable[str]) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """How `_route_hint` looks for `name(` of every name: the names sharing their first four characters with
    another (`add_route(`, `add_view(`, ...) as one regex that starts with that literal (one pass over the text
    for the group), the others as substrings."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(name[:4], []).append(name)
    alone = tuple(members[0] + "(" for members in groups.values() if len(members) == 1)
    grouped = tuple(
        re.compile(re.escape(prefix) + "(?:" + "|".join(re.escape(m[len(prefix) :]) for m in members) + r")\(")
        for prefix, members in groups.items()
        if len(members) > 1
    )
    return alone, grouped


_ROUTE_ALONE, _ROUTE_GROUPED = _route_call_patterns(ROUTE_CALLS)


def _route_hint(text: str) -> bool:
    """Does the text call one of ROUTE_CALLS (`add_route(`, `include(`, ...) or name `urlpatterns`?"""
    return (
        "urlpatterns" in text
        or any(call in text for call in _ROUTE_ALONE)
        or any(p.search(text) is not None for p in _ROUTE_GROUPED)
    )


_DEBUG = bool(os.environ.get("JSONP2CORS_DEBUG"))  # lists the modules the whole-repo pass reads fully
# Classes whose construction builds a response body (a padding one is a JSONP response class).
_RESPONSE_CLASS = re.compile(r"(?i)response|renderer|jsonp|padd")
# Calls that read the query string into something indexable (webargs, parse_qs, cgi).
_READING_CALLS = frozenset({"use_args", "use_kwargs", "parse_qs", "parse_qsl", "FieldStorage"})


def mentions_jsonp(text: str) -> bool:
    """Does `_JSONP_WORD` occur in the text? Every match starts one character before "sonp" or "SONP": the
    regex is tried only there (searching with it, which cannot skip ahead to a literal, was 5x slower)."""
    for core in ("sonp", "SONP"):
        pos = text.find(core, 1)
        while pos != -1:
            if _JSONP_WORD.match(text, pos - 1) is not None:
                return True
            pos = text.find(core, pos + 1)
    return False


_CONTAINER_ATTRS = frozenset(tables.REQUEST_CONTAINER_NAMES)


def _request_chain(node: ast.Attribute) -> bool:
    if node.attr not in _CONTAINER_ATTRS:
        return False
    parts: list[str] = [node.attr]
    value: ast.expr = node.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if isinstance(value, ast.Name):
        parts.append(value.id)
    elif (  # renderer_context["request"].query_params
        isinstance(value, ast.Subscript)
        and isinstance(value.slice, ast.Constant)
        and value.slice.value == "request"
    ):
        parts.append("request")
    dotted = ".".join(reversed(parts))
    m = tables.REQUEST_CONTAINER.search(dotted)
    return bool(m and tables.REQUEST_ROOT.match(dotted[: m.start()]))


def _reads_request(node: ast.AST, tainted: set[str]) -> bool:
    """Roughly: does this expression hold a request value (request.args..., a name assigned from one)?"""
    for sub in _nodes(node):
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Attribute) and _request_chain(sub):
            return True
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and (sub.func.attr in tables.REQUEST_API_METHODS or _request_get(sub.func))
            and bool(sub.args)
        ):
            return True
    return False


def _getattr_container(call: ast.Call) -> bool:
    """`getattr(request, "query_params", {})`: a request's parameter container read by name."""
    if len(call.args) < 2 or not isinstance(call.args[1], ast.Constant):
        return False
    base = _dotted(call.args[0])
    return (
        base is not None
        and call.args[1].value in tables.REQUEST_CONTAINER_NAMES
        and bool(tables.REQUEST_ROOT.match(base))
    )


def _request_get(func: ast.expr) -> bool:
    """`self.request.get` / `request.get_all`: webapp2's (and WebOb's) parameter readers."""
    if not isinstance(func, ast.Attribute) or func.attr not in ("get", "get_all"):
        return False
    base = _dotted(func.value)
    return base is not None and bool(tables.REQUEST_ROOT.match(base))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _class_names(tree: ast.Module) -> set[str]:
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef)}


def _units(tree: ast.AST) -> list[tuple[str | None, list[ast.AST]]]:
    """(top-level name, nodes) per function/method of the module; module-level code is one more unit."""
    if not isinstance(tree, ast.Module):
        return [(None, [tree])]
    units: list[tuple[str | None, list[ast.AST]]] = []
    loose: list[ast.AST] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            units.append((stmt.name, [stmt]))
        elif isinstance(stmt, ast.ClassDef):
            methods = [m for m in stmt.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
            rest = [m for m in stmt.body if m not in methods]
            units.extend((stmt.name, [m]) for m in methods)
            units.append((stmt.name, [*rest, *stmt.bases, *stmt.decorator_list]))
        else:
            loose.append(stmt)
    units.append((None, loose))
    return units


# Per node type: the fields that can hold child nodes, last first (the order they go on `_nodes`' stack), and the
# field that names the node (`id`, `attr`, `name` or `module`, the first the type has), or None. Fields that
# never hold a node are left out: names and numbers, and `ctx`, whose Load/Store nodes say nothing here.
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
_NAME_FIELD: dict[type[ast.AST], str | None] = {}
_SCALAR_FIELDS = frozenset(
    {"ctx", "type_comment", "id", "attr", "name", "module", "arg", "asname", "conversion", "level", "kind", "is_async",
     "simple", "tag", "rest"}
)
_SCALAR_VALUE = (ast.Constant, ast.MatchSingleton)  # their `value` is a Python constant, not a node


def _type_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    fields = tuple(
        f
        for f in reversed(kind._fields)
        if f not in _SCALAR_FIELDS and not (f == "value" and kind in _SCALAR_VALUE)
    )
    _CHILD_FIELDS[kind] = fields
    _NAME_FIELD[kind] = next((f for f in ("id", "attr", "name", "module") if f in kind._fields), None)
    return fields


def _name_field(kind: type[ast.AST]) -> str | None:
    if kind not in _NAME_FIELD:
        _type_fields(kind)
    return _NAME_FIELD[kind]


def _nodes(root: ast.AST) -> Iterator[ast.AST]:
    """Every node under `root` (itself included) in source order: `ast.walk` without the `ctx` nodes, the
    per-node generators and the look at fields that hold names or numbers (together, half the cheap stage)."""
    stack = [root]
    pop, push = stack.pop, stack.append
    fields_of = _CHILD_FIELDS.get
    node_type = ast.AST
    while stack:
        node = pop()
        yield node
        fields = fields_of(node.__class__)
        if fields is None:
            fields = _type_fields(node.__class__)
        for name in fields:
            value = getattr(node, name, None)
            if value is None:
                continue
            if value.__class__ is list:
                for item in reversed(value):  # a list may hold names (`global a, b`) or None (`{**d}` keys)
                    if isinstance(item, node_type):
                        push(item)
            elif isinstance(value, node_type):
                push(value)


def signals(tree: ast.AST, config: ScanConfig, keyed_reads: bool = False) -> Signals:
    """Cheap stdlib-`ast` look at a module: only modules that pad a request value, or mention JSONP, go on to
    libcst; the others leave facts (imports, routes, padding functions, callees of request readers) for the
    whole-repo pass. `keyed_reads`: the module exposes handlers that take the query as keyword arguments
    (CherryPy, TurboGears), so `kwargs["callback"]` / `kw.get("jsonp")` reads a request value."""
    helpers = {h.lower() for h in config.helper_names}
    # the node types the loop below compares `node.__class__` with, as locals (the fastest lookup)
    constant_t, name_t, attribute_t, call_t, joinedstr_t, assign_t, def_t, async_def_t, subscript_t = (
        ast.Constant, ast.Name, ast.Attribute, ast.Call, ast.JoinedStr, ast.Assign, ast.FunctionDef,
        ast.AsyncFunctionDef, ast.Subscript,
    )
    params = config.callback_params
    sig = Signals()
    templates: set[str] = set()  # module-level constants holding a padding template: JSONP = "%s(%s);"
    for stmt in getattr(tree, "body", ()):
        assigned = stmt.value if isinstance(stmt, ast.Assign) else None
        if isinstance(assigned, ast.Constant) and isinstance(assigned.value, str) and _padding_literal(assigned.value):
            templates |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    classes = _class_names(tree) if isinstance(tree, ast.Module) else set()
    exposed = _exposed_methods(tree)
    sig.padding_defs |= _padding_lambdas(tree, templates)
    g_source = False  # some request-reading unit stores into Flask's `g`
    class_pad: dict[str, bool] = {}
    class_src: dict[str, bool] = {}
    for owner, roots in _units(tree):
        pad = src = reads = False  # reads: request.args/... or get_argument()-style, not just a name
        calls: set[str] = set()  # callees given a request value (roughly: the unit's request-derived names)
        call_nodes: list[tuple[str, ast.Call]] = []
        assigns: list[ast.Assign] = []
        for root in roots:
            for node in _nodes(root):
                kind = node.__class__  # compared by identity: a chain of isinstance() was a third of this loop
                name: object = None  # the node's own name (`id`, `attr`, `name`, `module`), if any
                if kind is constant_t:
                    value = cast(ast.Constant, node).value
                    if value.__class__ is bytes:
                        value = value.decode("latin-1")
                    if value.__class__ is str:
                        if ("sonp" in value or "SONP" in value) and mentions_jsonp(value):
                            sig.jsonp = True
                        elif value == "QUERY_STRING":
                            src = reads = True
                        elif not pad and _padding_literal(value):
                            pad = True
                    continue
                if kind is name_t:
                    name = cast(ast.Name, node).id
                    if name == "urlpatterns":
                        sig.routes = True
                    elif name in templates:
                        pad = True
                elif kind is attribute_t:
                    name = cast(ast.Attribute, node).attr
                    if not reads and _request_chain(cast(ast.Attribute, node)):
                        src = reads = True
                    elif not src and _g_callback(cast(ast.Attribute, node), config):
                        src = True  # Flask `g.callback`, set from the request elsewhere
                elif kind is call_t:
                    node = cast(ast.Call, node)
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                    if called in ROUTE_CALLS:
                        sig.routes = True
                    elif (called in tables.REQUEST_API_METHODS and node.args) or called in _READING_CALLS:
                        src = reads = True
                    elif called in ("get", "get_all") and node.args and _request_get(func):
                        src = reads = True  # webapp2: self.request.get("callback")
                    elif called == "getattr" and _getattr_container(node):
                        src = reads = True  # getattr(request, "query_params", {})
                    elif keyed_reads and called in ("get", "pop") and _callback_key(node.args, params):
                        src = reads = True  # kwargs.get("callback") in an exposed CherryPy handler
                    if not pad and called in tables.TEMPLATE_RENDERERS and _javascript_template(node):
                        pad = True  # a template that writes JavaScript may pad what it is handed
                    dotted = _dotted(func)
                    if dotted and dotted.endswith(("parser.parse", "web.input")):  # webargs, web.py
                        src = reads = True
                    if dotted:
                        call_nodes.append((dotted, node))
                    continue
                elif kind is joinedstr_t:
                    if not pad and _fstring_pads(cast(ast.JoinedStr, node)):
                        pad = True
                    continue
                elif kind is assign_t:
                    assigns.append(cast(ast.Assign, node))
                    continue
                elif kind is subscript_t:
                    if keyed_reads and _callback_key((cast(ast.Subscript, node).slice,), params):
                        src = reads = True  # kwargs["callback"]
                    continue
                else:
                    # a handler taking the callback as an argument: a query parameter (CherryPy, FastAPI) or a URL
                    # path segment (Django, Tornado, Falcon, Flask's `/<cb>`)
                    if (
                        (kind is def_t or kind is async_def_t)
                        and not src
                        and _param_source(cast(ast.FunctionDef, node), owner, exposed, params)
                    ):
                        src = True
                    field_name = _name_field(kind)
                    if field_name is not None:
                        name = getattr(node, field_name, None)
                if isinstance(name, str) and (
                    (("sonp" in name or "SONP" in name) and mentions_jsonp(name))
                    or name in _LIBRARY_JSONP_NAMES
                    or (helpers and name.lower() in helpers)
                ):
                    sig.jsonp = True
        if reads:  # only request-reading units: which callees get a request value (names assigned from one)
            tainted: set[str] = set()
            for assign in assigns:
                if _reads_request(assign.value, tainted):
                    tainted |= {t.id for t in assign.targets if isinstance(t, ast.Name)}
            for dotted, call in call_nodes:
                if any(_reads_request(a, tainted) for a in (*call.args, *(k.value for k in call.keywords))):
                    calls.add(dotted)
        sig.padding |= pad
        sig.source |= src
        sig.together |= pad and src
        # Flask `g.callback = request.args.get(...)` in a hook: whatever pads `g.callback` pads a request value
        if reads and not g_source:
            g_source = any(_sets_g(a) for a in assigns)
        if owner:
            class_pad[owner] = class_pad.get(owner, False) or pad
            class_src[owner] = class_src.get(owner, False) or src
        if pad and owner and (owner not in classes or _RESPONSE_CLASS.search(owner)):
            sig.padding_defs.add(owner)
        if reads:
            sig.source_calls |= calls
    # methods share state through self: a response class padding what its constructor was given, a handler
    # class padding what prepare()/__init__ read from the request
    handler_classes = {
        n.name
        for n in getattr(tree, "body", ())
        if isinstance(n, ast.ClassDef)
        and any(
            isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name in tables.HANDLER_METHODS for m in n.body
        )
    }
    sig.together |= g_source and sig.padding
    sig.sets_g = g_source
    sig.together |= any(
        class_pad[c] and class_src[c] and (_RESPONSE_CLASS.search(c) or c in handler_classes) for c in classes
    )
    return sig


def _param_source(fn: ast.FunctionDef | ast.AsyncFunctionDef, owner: str | None, exposed: dict[str, set[str]],
                  params: tuple[str, ...]) -> bool:
    """Is `fn` a request handler that takes the callback as an argument? It must take a callback-named parameter
    that is not annotated as a function type, and look like a handler: decorated (a route, `@cherrypy.expose`),
    named for an HTTP method (`get`, `on_get`, `GET`, `do_GET`), taking the request first (a Django view given
    URL keyword arguments), or exposed by its CherryPy class (see `_exposed_methods`). A plain function taking a
    `callback` (library code's callbacks) is none of these."""
    args = fn.args
    if not any(
        tables.is_callback_name(a.arg, params)
        and not (a.annotation is not None and tables.function_typed(ast.unparse(a.annotation)))
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
    ):
        return False
    if fn.decorator_list or fn.name in tables.HANDLER_METHODS:
        return True
    if owner is not None and (fn.name in exposed.get(owner, ()) or "*" in exposed.get(owner, ())):
        return True
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    if positional[:1] in (["self"], ["cls"]):
        positional = positional[1:]
    return positional[:1] in (["request"], ["req"])


def _fstring_pads(node: ast.JoinedStr) -> bool:
    """An f-string with a value right before a text opening an argument list: f"{cb}({body})"."""
    return any(
        isinstance(a, ast.FormattedValue)
        and isinstance(b, ast.Constant)
        and isinstance(b.value, str)
        and padding.opens_call(b.value)
        for a, b in itertools.pairwise(node.values)
    )


def _padding_lambdas(tree: ast.AST, templates: set[str]) -> set[str]:
    """Module-level `pad = lambda cb, data: "%s(%s)" % (cb, data)`: names of lambdas that build `name(` strings
    (functions to the whole-repo pass, like a `def`)."""
    out: set[str] = set()
    for stmt in getattr(tree, "body", ()):
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda)):
            continue
        for node in ast.walk(stmt.value.body):
            if (
                (isinstance(node, ast.Constant) and isinstance(node.value, str) and _padding_literal(node.value))
                or (isinstance(node, ast.Name) and node.id in templates)
                or (isinstance(node, ast.JoinedStr) and _fstring_pads(node))
            ):
                out |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
                break
    return out


def _exposed_methods(tree: ast.AST) -> dict[str, set[str]]:
    """Per top-level class, the methods CherryPy exposes without a decorator: `index.exposed = True` or
    `index = cherrypy.expose(index)` in the class body; "*" for a class whose body says `exposed = True`."""
    out: dict[str, set[str]] = {}
    for cls in getattr(tree, "body", ()):
        if not isinstance(cls, ast.ClassDef):
            continue
        for stmt in cls.body:
            if not isinstance(stmt, ast.Assign):
                continue
            value = stmt.value
            for target in stmt.targets:
                if isinstance(value, ast.Constant) and value.value is True:
                    if isinstance(target, ast.Name) and target.id == "exposed":
                        out.setdefault(cls.name, set()).add("*")
                    elif isinstance(target, ast.Attribute) and target.attr == "exposed" and isinstance(
                        target.value, ast.Name
                    ):
                        out.setdefault(cls.name, set()).add(target.value.id)
                elif (
                    isinstance(target, ast.Name)
                    and isinstance(value, ast.Call)
                    and (_dotted(value.func) or "").rsplit(".", 1)[-1] == "expose"
                    and len(value.args) == 1
                    and isinstance(value.args[0], ast.Name)
                    and value.args[0].id == target.id
                ):
                    out.setdefault(cls.name, set()).add(target.id)
    return out


def _callback_key(args: Sequence[ast.expr], params: tuple[str, ...]) -> bool:
    """The first argument (or subscript) is a string literal naming a callback parameter."""
    first = args[0] if args else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return False
    return tables.is_callback_name(first.value, params)


# Handlers exposed to URL dispatch with the query string as keyword arguments (CherryPy's `@cherrypy.expose` /
# `exposed = True`, TurboGears' `@expose`): there a dict key read names a request parameter.
_EXPOSES = "expose"


def _keyed_read_positions(text: str, config: ScanConfig) -> list[int]:
    """Where a callback-named string key is read (`kwargs["callback"]`, `kw.get('jsonp')`): each quoted name
    found by its literal, kept when `[` or `.get(`/`.pop(` comes right before it."""
    out: list[int] = []
    for name in config.callback_params:
        for quote in ('"', "'"):
            needle = quote + name + quote
            pos = text.find(needle)
            while pos != -1:
                before = text[max(0, pos - 8) : pos].rstrip(" \t")
                if before.endswith(("[", ".get(", ".pop(")):
                    out.append(pos)
                pos = text.find(needle, pos + 1)
    return out


def _g_callback(node: ast.Attribute, config: ScanConfig) -> bool:
    """`g.callback` (Flask's per-request namespace holding a callback-named value)."""
    base = node.value
    return (
        isinstance(base, ast.Name)
        and base.id == "g"
        and tables.is_callback_name(node.attr, config.callback_params)
    )


def _sets_g(assign: ast.Assign) -> bool:
    """`g.name = ...` / `flask.g.name = ...`: a store into Flask's per-request namespace."""
    for target in assign.targets:
        if isinstance(target, ast.Attribute):
            base = target.value
            if (isinstance(base, ast.Name) and base.id == "g") or (
                isinstance(base, ast.Attribute) and base.attr == "g" and isinstance(base.value, ast.Name)
                and base.value.id == "flask"
            ):
                return True
    return False


def _javascript_template(call: ast.Call) -> bool:
    """A template render whose literal arguments say JavaScript: a `.js`/`.jsonp` template name, a JavaScript
    content type, or template text that calls one of its variables (`{{ callback }}(`)."""
    values = [*call.args, *(k.value for k in call.keywords)]
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call):
        values.extend(call.func.value.args)  # Template("{{ cb }}(...)").render(...)
    return any(
        isinstance(v, ast.Constant)
        and isinstance(v.value, str)
        and (tables.names_javascript(v.value) or tables.TEMPLATE_CALL.search(v.value) is not None)
        for v in values
    )


def _absolute_calls(calls: set[str], imports: list[str]) -> list[str]:
    """`wrap` / `helpers.wrap` called in a module -> `pkg.helpers.wrap` through the module's imports."""
    by_name: dict[str, str] = {}
    for imp in imports:
        by_name.setdefault(imp.rsplit(".", 1)[-1], imp)
        by_name.setdefault(imp, imp)
    out: list[str] = []
    for call in calls:
        first, _, rest = call.partition(".")
        base = by_name.get(first)
        if base is not None:
            out.append(f"{base}.{rest}" if rest else base)
    return sorted(set(out))


# Import statements, found by their keyword (a literal first: the engine skips ahead to it) and kept only where
# the keyword starts its line (`_line_starts`).
_IMPORT_FROM = re.compile(r"from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)")
_IMPORT = re.compile(r"import[ \t]+([^\n#;]+)")
# A top-level `def`/`class` (column 0), found from the newline before it (searched in "\n" + text, so that a
# match's start is the line's offset in the text itself).
_TOP_DEF = re.compile(r"\n(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)")
# `name = lambda ...:` at module level (a function to the whole-repo pass when its line pads)
_TOP_LAMBDA = re.compile(r"\n(\w+)[ \t]*=[ \t]*lambda\b[^\n]*")


def _line_starts(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of `pattern` that begin a line (after its indentation), in order, without overlaps."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        line = text.rfind("\n", 0, m.start()) + 1
        if text[line : m.start()].strip(" \t"):
            pos = m.start() + 1
            continue
        yield m
        pos = max(m.end(), m.start() + 1)


def _cheap_facts(rel: str, text: str, found: FileFindings, *, pad_hint: bool = False,
                 tree: ast.AST | None = None, sig: Signals | None = None) -> None:
    """Facts for the whole-repo pass from a module that is not read fully: its imports (from `tree` when the whole
    module was parsed, else from the text), padding functions and callees given a request value (from the
    cheap stage's `sig`, else padding functions from the text when `pad_hint`), and whether it registers routes."""
    module = module_name(rel)
    imports = _imports(tree, module, rel.endswith("__init__.py")) if tree is not None else _text_imports(text, rel)
    if sig is not None:
        padding_defs = sorted(sig.padding_defs)
        source_calls = _absolute_calls(sig.source_calls, imports)
    else:
        padding_defs = _padding_defs_of_text(text) if pad_hint else []
        source_calls = []
    routes = (sig is not None and sig.routes) or _route_hint(text)
    # Pyramid renderers this module registers with its own factory, and those its views name
    registered = sorted({m.group(1) for m in _ADD_RENDERER.finditer(text) if not m.group(2).startswith("JSONP")})
    used = sorted({m.group(1) for m in _USES_RENDERER.finditer(text)} - _BUILTIN_RENDERERS)
    # a DRF settings module (read because it names a padding renderer class): the renderers its views answer with
    drf = [r for m in _DRF_DEFAULTS.finditer(text) for r in _DOTTED_STRING.findall(m.group(1))]
    # a Django settings module: the middleware classes it lists (one of the project's may pad every view)
    middleware = [
        r for m in _DJANGO_MIDDLEWARE.finditer(text) for r in _DOTTED_STRING.findall(m.group(1))
    ] if "MIDDLEWARE" in text else []
    found.facts.update(
        {
            "stage": "cheap",
            "module": module,
            "imports": imports,
            "padding_defs": padding_defs,
            "source_calls": source_calls,
            "routes": routes,
            "renderers_registered": registered,
            "renderers_used": used,
        }
    )
    if middleware:
        found.facts["django_middleware"] = middleware
    if sig is not None and sig.sets_g:
        found.facts["sets_g"] = True
    if (
        padding_defs
        or (sig is not None and sig.sets_g)
        or (sig is not None and sig.source_calls)
        or routes
        or registered
        or used
        or drf
        or middleware
        or any(map(_project_import, imports))
        or any(i.startswith("rest_framework.") for i in imports)
        or (_imports_django(imports) and _says_json(text))  # a JSON view (see `_django_views`)
    ):
        found.facts["keep_source"] = True  # may be read fully by the whole-repo pass
    wanted = _definition_needles(c for c in source_calls if _project_import(c))
    # the views naming a renderer this module registers may live in files the prefilter dropped
    wanted += [f"renderer={q}{name}{q}".lower().encode() for name in registered for q in "'\""]
    if drf:
        found.facts["drf_default_renderers"] = drf
        if _jsonp_capable(drf):  # the views it makes JSONP may live in files the prefilter dropped
            wanted += [b"rest_framework", b"urlpatterns"]
    if wanted:
        found.facts["followup_needles"] = wanted


# `config.add_renderer("padded", factory)` (name, factory); `@view_config(renderer="padded")`.
_ADD_RENDERER = re.compile(
    r"""add_renderer\(\s*(?:name\s*=\s*)?["']([^"'.][^"']*)["']\s*,\s*(?:factory\s*=\s*)?["']?([\w.:]+)"""
)
_USES_RENDERER = re.compile(r"""renderer\s*=\s*["']([^"'.][^"']*)["']""")  # no \b: a literal first is 20x faster
_BUILTIN_RENDERERS = frozenset({"json", "string", "jsonp"})


def _jsonp_capable(renderers: Iterable[str]) -> bool:
    """Do these DRF default renderers (a settings module's) include a JSONP one, the library's or the project's?"""
    return any(r in tables.LIBRARY_RENDERER_CLASSES or not r.startswith("rest_framework.") for r in renderers)


# The renderer paths of `"DEFAULT_RENDERER_CLASSES": (...)` in a settings module's text (the cheap stage's view).
_DRF_DEFAULTS = re.compile(r"""DEFAULT_RENDERER_CLASSES["']\s*:\s*[(\[]([^)\]]*)""")
_DJANGO_MIDDLEWARE = re.compile(r"""MIDDLEWARE(?:_CLASSES)?\s*[+]?=\s*[(\[]([^)\]]*)""")
_DOTTED_STRING = re.compile(r"""["']([\w.]+)["']""")


def _text_imports(text: str, rel: str) -> list[str]:
    """Imports by regular expression (absolute names; relative ones resolved against the module's package)."""
    module = module_name(rel)
    package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
    imports: list[str] = []
    for m in _line_starts(_IMPORT_FROM, text):
        base = _resolve_relative(m.group(1), package)
        for name in m.group(2).strip("()").replace("\n", " ").split(","):
            name = name.split(" as ")[0].strip()
            if name and name != "\\":
                imports.append(f"{base}.{name}" if base else name)
    for m in _line_starts(_IMPORT, text):
        imports.extend(n.split(" as ")[0].strip() for n in m.group(1).split(",") if n.strip())
    return imports


def _padding_defs_of_text(text: str) -> list[str]:
    """Top-level functions (and response-like classes) whose own text builds `name(`-shaped strings."""
    starts = [(m.start(), m.end() - 1, m.group(1)) for m in _TOP_DEF.finditer("\n" + text)]
    out: list[str] = []
    for i, (begin, head_end, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        is_class = text.startswith("class", begin)
        if (not is_class or _RESPONSE_CLASS.search(name)) and _has_pad(text, head_end, end):
            out.append(name)
    if "lambda" in text:
        out += [m.group(1) for m in _TOP_LAMBDA.finditer("\n" + text) if _has_pad(m.group())]
    return out


def _resolve_relative(name: str, package: str) -> str:
    if not name.startswith("."):
        return name
    dots = len(name) - len(name.lstrip("."))
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (dots - 1)] if dots - 1 <= len(parts) else []
    rest = name[dots:]
    return ".".join([*parts, rest] if rest else parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    package = module if is_package else module.rpartition(".")[0]
    out: list[str] = []
    stack: list[ast.AST] = list(getattr(tree, "body", ()))
    while stack:  # module level, looking into if/try blocks (not into functions: cheap)
        node = stack.pop()
        if isinstance(node, ast.If | ast.Try):
            stack.extend(node.body)
            stack.extend(node.orelse)
            if isinstance(node, ast.Try):
                stack.extend(node.finalbody)
                for handler in node.handlers:
                    stack.extend(handler.body)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level - 1 <= len(parts) else []
                base = ".".join([*parts, base] if base else parts)
            out.extend(f"{base}.{a.name}" if base else a.name for a in node.names)
    return out


def _definition_needles(refs: Iterable[str]) -> list[bytes]:
    """`def wrap(` / `class wrap` / `wrap = lambda` needles (lower-cased) for the last component of each reference."""
    out: set[bytes] = set()
    for ref in refs:
        name = ref.rsplit(".", 1)[-1].lower().encode()
        if len(name) > 2:
            out |= {b"def " + name + b"(", b"class " + name, b"\n" + name + b" = lambda", b"\n" + name + b"=lambda"}
    return sorted(out)


def _project_import(name: str) -> bool:
    top = name.split(".", 1)[0]
    return bool(top) and top not in tables.LIBRARY_ROOTS and top not in sys.stdlib_module_names


# --------------------------------------------------------------------------------------------- analyzer
def _hands_request(call: CallSite) -> bool:
    """Is a request value among a call's arguments?"""
    return any(t is not None and t.kind == "request" for t in (*call.args, *(v for _, v in call.kwargs)))


def _full(rel: str, text: str, config: ScanConfig, found: FileFindings) -> None:
    from jsonp2cors.scan.pydetect.collect import Collector
    from jsonp2cors.scan.pydetect.resolve import Repo, Resolver

    facts = Collector(rel, text, config).collect()
    resolver = Resolver(Repo([facts], config))
    resolver.run()
    found.endpoints.extend(resolver.endpoints())
    found.facts["stage"] = "full"
    found.facts["module_facts"] = facts
    names = {n for ns in resolver.padders(strong_only=True).values() for n in ns if n != "<module>"}
    # Names the prefilter already passes (they say JSONP or name a helper) and module-private `__name`s (nobody
    # imports those) need no second round over the dropped files.
    always = (b"jsonp", *(h.lower().encode() for h in config.helper_names))
    follow = sorted(
        low
        for low in (n.lower().encode() for n in names if len(n) > 2 and not n.startswith("__"))
        if not any(a in low for a in always)
    )
    for e in found.endpoints:
        if e.role == "handler" and e.route is None and e.confidence == "high":
            follow = sorted({*follow, *ROUTE_NEEDLES.get(e.framework, ())})
        elif _mounted_elsewhere(e, text):  # the module registering the blueprint/router may give it a prefix
            follow = sorted({*follow, *_MOUNT_NEEDLES})
    if _jsonp_capable(facts.drf_default_renderers):  # every DRF view answers JSONP: read the modules defining them
        follow = sorted({*follow, b"rest_framework", b"urlpatterns"})
    # project functions called with a request value: their definitions may live in files the prefilter dropped
    tainted_calls = {
        c.target
        for f in facts.functions.values()
        for c in f.calls
        if _hands_request(c)
        and not c.target.startswith((facts.module + ".", "self."))
        and _project_import(c.target)
    }
    follow = sorted({*follow, *_definition_needles(tainted_calls)})
    if follow:
        found.facts["followup_needles"] = follow


# A top-level definition starts at column 0 with a decorator, `def`, `async def` or `class`.
# (Matched at the newline before it, a literal the regex engine skips ahead to; group 1 marks a decorator.)
_UNIT_START = re.compile(r"\n(?=(@)|(?:async[ \t]+)?def[ \t]|class[ \t])")
# `NAME = "...%s(..."` at module level: a padding template that definitions use by name.
_TEMPLATE_LINE = re.compile(r"([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*[rRbBuU]{0,2}[\"']")


def _unit_bounds(text: str) -> list[int]:
    """Start offsets of the top-level chunks of a module: the prelude, then each definition (decorators
    included) with the module-level statements that follow it."""
    bounds = [0]
    after_decorator = False
    for m in _UNIT_START.finditer("\n" + text):  # m.start() is the line's offset in `text`
        if not after_decorator and m.start() != 0:
            bounds.append(m.start())
        after_decorator = m.group(1) is not None
    return bounds


def _params_near_padding(text: str, params: list[int], pads: list[int]) -> list[int]:
    """The callback-taking definitions (`params`) whose top-level definition also holds padding-shaped text.

    In a module that reads no request value, only such a one can pad its parameter (the cheap stage pairs a
    callback parameter with padding within a function, or within a response or handler class; padding through
    a module-level template constant counts where the constant is named): the others need no parsing."""
    if not pads:
        return []
    bounds = _unit_bounds(text)
    padded = {bisect.bisect_right(bounds, pos) - 1 for pos in pads}
    padded |= _template_chunks(text, bounds, pads, padded)
    return [p for p in params if bisect.bisect_right(bounds, p) - 1 in padded]


def _template_chunks(text: str, bounds: list[int], pads: list[int], known: set[int]) -> set[int]:
    """The chunks (by index into `bounds`, leaving out `known`) that name a module-level padding template, a
    `NAME = "...%s(..."` line among the `pads`."""
    out: set[int] = set()
    for pos in pads:
        line_start = text.rfind("\n", 0, pos) + 1
        m = _TEMPLATE_LINE.match(text, line_start)
        if m is not None:
            name = m.group(1)
            for i, start in enumerate(bounds):
                end = bounds[i + 1] if i + 1 < len(bounds) else len(text)
                if i not in known and i not in out and name in text[start:end]:
                    out.add(i)
    return out


def _parse_units(text: str, hints: list[int], pads: list[int]) -> ast.Module | None:
    """Parse only the top-level chunks holding a hint (and those naming a module-level padding template).

    None when the chunks do not parse on their own (odd layouts, Python 2): the caller parses the whole file.
    """
    bounds = _unit_bounds(text)
    if len(bounds) < 3:
        return None  # nothing to save
    chosen: set[int] = {bisect.bisect_right(bounds, pos) - 1 for pos in hints}
    chosen |= _template_chunks(text, bounds, pads, chosen)  # a template constant: the chunks naming it too
    if len(chosen) == len(bounds):
        return None
    pieces: list[str] = []
    for i in sorted(chosen):
        start, end = bounds[i], bounds[i + 1] if i + 1 < len(bounds) else len(text)
        is_class = _CLASS_AT.match(text, start) is not None
        pieces.append(_class_members(text, start, end, hints, pads) if is_class else text[start:end])
    try:
        return ast.parse("\n".join(pieces))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


# A chunk that is a class (after its decorators); its methods start at one indentation.
_CLASS_AT = re.compile(r"(?:@[^\n]*\n(?:[ \t]+[^\n]*\n)*)*class[ \t]")
# (Matched from the newline before the line: a literal first, which the regex engine skips ahead to; `^` with
# re.M made it test every position.)
_MEMBER_START = re.compile(r"\n([ \t]+)(?:(@)|(?:async[ \t]+)?def[ \t]+(\w+))")


def _class_members(text: str, start: int, end: int, hints: list[int], pads: list[int]) -> str:
    """A class chunk with only the methods that hold a hint; the others become `def name(self): pass` stubs
    (their names still tell a request handler class from another)."""
    members = list(_MEMBER_START.finditer(text, start, end))
    if not members:
        return text[start:end]
    indent = members[0].group(1)
    regions: list[tuple[int, str | None]] = []  # (start, method name) of each method with its decorators
    after_decorator = False
    for m in members:
        if m.group(1) != indent:
            continue
        if not after_decorator:
            regions.append((m.start() + 1, m.group(3)))  # the line after the newline
        elif m.group(3) is not None:
            regions[-1] = (regions[-1][0], m.group(3))
        after_decorator = m.group(2) is not None
    if not regions:
        return text[start:end]
    marks = sorted(p for p in (*hints, *pads) if start <= p < end)
    out = [text[start : regions[0][0]]]  # the header: decorators, bases, docstring, class attributes
    for k, (begin, name) in enumerate(regions):
        stop = regions[k + 1][0] if k + 1 < len(regions) else end
        i = bisect.bisect_left(marks, begin)
        if (i < len(marks) and marks[i] < stop) or name is None:
            out.append(text[begin:stop])
        else:
            out.append(f"{indent}def {name}(self): pass\n")
    return "".join(out)


_LIBRARY_JSONP_NAMES = frozenset(tables.LIBRARY_JSONP_NAMES)


def _names_jsonp_library(text: str) -> bool:
    """A JSONP API of a library whose name does not say "jsonp" (Flask-JSON's `as_json_p`) appears in the text."""
    return any(name in text for name in tables.LIBRARY_JSONP_NAMES)


def _mentions_helper(text: str, config: ScanConfig) -> bool:
    """A configured project helper name (`[tool.jsonp2cors] helpers`) appears in the text."""
    if not config.helper_names:
        return False
    low = text.lower()
    return any(h.lower() in low for h in config.helper_names)


_PARAM_HINTS: dict[tuple[str, ...], tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _param_names(config: ScanConfig) -> tuple[str, ...]:
    """The parameter names the callback-parameter hints look for (the config's and the usual ones), sorted."""
    return tuple(sorted({*config.callback_params, "callback", "cb", "jsonp", "jsoncallback"}))


def _param_patterns(config: ScanConfig) -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = _param_names(config)
    patterns = _PARAM_HINTS.get(names)
    if patterns is None:
        alternatives = "|".join(re.escape(n) for n in names)
        patterns = (
            re.compile(
                rf"def[ \t]+\w+[ \t]*\((?:[^()]|\([^()]*\))*?\b(?:{alternatives})\b(?!{_FUNCTION_ANNOTATION.pattern})"
            ),
            re.compile(rf"\b(?:{alternatives})\b"),
        )
        _PARAM_HINTS[names] = patterns
    return patterns


# After a parameter's name: an annotation naming a function type (`callback: Callable[..., None]`), up to the
# next `,` `=` or parenthesis. Such a parameter holds a Python function, not a request's callback name.
# (At most 200 characters: an annotation is short, and an unbounded look on odd text went quadratic.)
_FUNCTION_ANNOTATION = re.compile(rf"[ \t]*:[^,=()]{{0,200}}?{tables.FUNCTION_TYPE.pattern}")


def _callback_param_hint(config: ScanConfig) -> re.Pattern[str]:
    """`def view(..., callback=None)`: a handler taking the callback as a parameter (CherryPy, FastAPI; Django,
    Tornado, Falcon pass URL path segments so), unless annotated as a function type. The definition of what
    `callback_param_defs` finds; one regex over the text, but 4x slower."""
    return _param_patterns(config)[0]


# `def name(` and its parameters as far as they nest at most one level (`Query(None)`), up to the closing `)`.
_DEF_PARAMS = re.compile(r"def[ \t]+\w+[ \t]*\(((?:[^()]+|\([^()]*\))*)")
_NESTED = re.compile(r"\([^()]*\)")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group())


_HANDLER_PARAM_HINTS: dict[tuple[str, ...], re.Pattern[bytes]] = {}


def _handler_param_hint(config: ScanConfig) -> re.Pattern[bytes]:
    """On lower-cased bytes: a handler-shaped `def` taking a callback-named parameter, the prefilter's view of
    `_param_source` — named for an HTTP method (`get`, `on_get`, `GET`, `do_GET`) or taking the request first
    (`def data(request, callback)`), within the first 200 characters of its parameters (unbounded, a file of
    unclosed `def get(` took seconds). Decorated handlers need no such hint: their parameter shows as `callback=`,
    `callback:`, or in the route (`<callback>`, `{callback}`)."""
    names = _param_names(config)
    pattern = _HANDLER_PARAM_HINTS.get(names)
    if pattern is None:
        alternatives = "|".join(re.escape(n.lower()) for n in names)
        verbs = "|".join(sorted({re.escape(m.lower()) for m in tables.HANDLER_METHODS}))
        pattern = re.compile(
            (
                rf"def[ \t]+(?:(?:{verbs})[ \t]*\(|\w+[ \t]*\([ \t]*(?:self[ \t]*,[ \t]*)?(?:request|req)\b)"
                rf"[^)]{{0,200}}?\b(?:{alternatives})\b(?!{_FUNCTION_ANNOTATION.pattern.lower()})"
            ).encode()
        )
        _HANDLER_PARAM_HINTS[names] = pattern
    return pattern


def callback_param_defs(text: str, config: ScanConfig) -> list[int]:
    """Where the `def`s start whose parameters name a callback, as `_callback_param_hint(config).finditer` gives
    them: each definition's parameter text is taken once, with nested parentheses blanked out (the pattern never
    looks inside them), and searched for a name; after a hit the search goes on from the name, as the pattern's."""
    word = _param_patterns(config)[1]
    out: list[int] = []
    pos = 0
    while (m := _DEF_PARAMS.search(text, pos)) is not None:
        raw = params = m.group(1)
        if "(" in params:
            params = _NESTED.sub(_blank, params)
        hit = word.search(params)
        while hit is not None and _FUNCTION_ANNOTATION.match(raw, hit.end()) is not None:
            hit = word.search(params, hit.end())  # `callback: Callable`: a function, not a request value
        if hit is None:
            pos = m.start() + 1
            continue
        out.append(m.start())
        pos = m.start(1) + hit.end()
    return out


def analyze_python(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """Endpoints in one Python file (plus facts for the whole-repo pass). Never raises on bad input.

    Stages, cheapest first: text hints decide whether anything here can pad a request value; if so, only the
    top-level definitions holding a hint are parsed with stdlib `ast` for the signals; only a module that pads a
    request value (or mentions JSONP) is parsed whole and read with libcst.
    """
    found = FileFindings()
    decoded = decode_python(data)
    if decoded.error:
        found.errors.append(ScanError(rel, decoded.error))
    text = decoded.text
    whole = mentions_jsonp(text) or _mentions_helper(text, config) or _names_jsonp_library(text)
    keyed = _EXPOSES in text
    hints: list[int] = []
    if not whole:
        reads = _READ_HINT.positions(text)
        if keyed:
            reads = sorted({*reads, *_keyed_read_positions(text, config)})
        params = callback_param_defs(text, config)
        if not reads and not params:
            # Nothing here reads a request value: facts for the whole-repo pass, without parsing at all.
            _cheap_facts(rel, text, found, pad_hint=_has_pad(text))
            return found
        pads = _pad_positions(text)
        if not reads and params:
            params = _params_near_padding(text, params, pads)
        if not reads and not params:
            _cheap_facts(rel, text, found, pad_hint=bool(pads))
            return found
        hints = sorted((*reads, *params, *pads))
    tree: ast.AST | None = None
    if hints:
        tree = _parse_units(text, hints, pads)
    if tree is None:
        try:
            tree = ast.parse(text)
            whole = True
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            tree = None
            ast_error: BaseException = exc
    if tree is not None:
        found.parsed = True
        sig = signals(tree, config, keyed_reads=keyed)
        if not sig.full:
            _cheap_facts(rel, text, found, tree=tree if whole else None, sig=sig)
            return found
        if not whole:  # only some definitions were parsed: the whole module must parse before libcst reads it
            try:
                tree = ast.parse(text)
                whole = True
            except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
                ast_error = exc
        if whole:
            depth = _depth_over(tree, MAX_DEPTH)
            if depth is not None:  # libcst and the detectors recurse: such a file would stall or crash them
                message = f"nesting too deep to analyse ({depth} levels){_TOKEN_LEVEL}"
                _token_pass(rel, text, config, found, message, _depth_line(tree))
                return found
            if not use_heavy("libcst"):
                return FileFindings(deferred="libcst")  # read again by the worker that loads libcst
            _full(rel, text, config, found)
            return found
    if _too_deep(ast_error):  # libcst's native parser overflows its stack or spins on these: never hand them over
        msg = getattr(ast_error, "msg", None) or "too deeply nested for the parser"
        message = f"nesting too deep to parse ({msg}){_TOKEN_LEVEL}"
        _token_pass(rel, text, config, found, message, getattr(ast_error, "lineno", None))
        return found
    if not use_heavy("libcst"):
        return FileFindings(deferred="libcst")
    import libcst as cst

    try:
        cst.parse_module(text)
    except Exception:
        _fallback(rel, text, config, found, ast_error)
        return found
    found.parsed = True
    _full(rel, text, config, found)
    return found


# Deeper syntax trees than this are not read with libcst (a 500-term string concatenation already makes the
# detectors' recursion fail, after libcst spent seconds on it; real modules stay far below).
MAX_DEPTH = 200


def _depth_over(tree: ast.AST, limit: int) -> int | None:
    """The depth of the syntax tree when it is over `limit` (walked without recursion), else None."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest if deepest > limit else None


def _depth_line(tree: ast.AST) -> int | None:
    """The line of the first statement of the module holding the deepest node (for the error's location)."""
    best: tuple[int, int | None] = (0, None)
    for stmt in getattr(tree, "body", ()):
        d = _depth_over(stmt, 0) or 0
        if d > best[0]:
            best = (d, getattr(stmt, "lineno", None))
    return best[1]


def _too_deep(error: BaseException) -> bool:
    """Did the stdlib parser give up on nesting (`too many nested parentheses`, recursion, memory)?"""
    if isinstance(error, RecursionError | MemoryError):
        return True
    return isinstance(error, SyntaxError) and "too many" in str(getattr(error, "msg", "") or "")


_TOKEN_LEVEL = "; scanned at token level (low confidence)"


def _token_pass(rel: str, text: str, config: ScanConfig, found: FileFindings, message: str, line: int | None) -> None:
    """Report why the file was not parsed (`message`) and take what the token-level pass finds."""
    from jsonp2cors.scan.pydetect.fallback import Decorated, token_endpoints

    found.errors.append(ScanError(rel, message, line))
    decorated: list[Decorated] = []
    found.endpoints.extend(token_endpoints(rel, text, config, decorated))
    unrouted = [e for e in found.endpoints if e.role == "handler" and e.route is None]
    if unrouted or decorated:
        # a route table in a module Python 3 can read (a urls.py) may name these handlers; a decorator defined in
        # such a module may pad the decorated functions
        found.facts.update(
            {"stage": "token", "module": module_name(rel), "unrouted": unrouted, "decorated": decorated}
        )
        frameworks = {e.framework for e in unrouted} | {d.endpoint.framework for d in decorated}
        # (views importing only the project's decorator say no framework: the common route tables then)
        wanted = sorted({n for fw in frameworks for n in ROUTE_NEEDLES.get(fw, _ANY_ROUTE_NEEDLES)})
        wanted = sorted({*wanted, *_definition_needles(d for dec in decorated for d in dec.decorators)})
        if wanted:
            found.facts["followup_needles"] = wanted


def _fallback(rel: str, text: str, config: ScanConfig, found: FileFindings, error: BaseException) -> None:
    from jsonp2cors.scan.pydetect.fallback import python2_marker, tokens_of

    marker = python2_marker(tokens_of(text))
    if marker is not None:
        what, line = marker
        message = f"Python 2 syntax ({what}); scanned at token level, findings have low confidence"
        _token_pass(rel, text, config, found, message, line)
    else:
        msg = getattr(error, "msg", None) or type(error).__name__
        _token_pass(rel, text, config, found, f"syntax error: {msg}{_TOKEN_LEVEL}", getattr(error, "lineno", None))


# ---------------------------------------------------------------------------------------- whole repo
def _imports_django(imports: Iterable[str]) -> bool:
    return any(i == "django" or i.startswith("django.") for i in imports)


def _says_json(text: str) -> bool:
    """JsonResponse, json.dumps, simplejson, "application/json": a Django module that may answer JSON (which a
    project-wide JSONP middleware pads; see `_django_middleware_pads`)."""
    return "json" in text or "Json" in text or "JSON" in text


def _text(facts: dict[str, Any]) -> str:
    """The decoded source of a module the cheap stage kept at hand (read again from its path on first use; a file
    gone since reads as empty)."""
    text = facts.get("text")
    if text is None:
        try:
            data = Path(facts["source_path"]).read_bytes()
        except OSError:
            data = b""
        text = facts["text"] = decode_python(data).text
    return str(text)


def finish(items: list[tuple[str, dict[str, Any]]], config: ScanConfig) -> FileFindings:
    """Link handlers to JSONP helpers, decorators, base classes, renderers and routes in other modules.

    Modules the cheap stage left out are read fully here only when they matter: they import a helper that pads
    a request value, their request-reading code calls a padding function of another module, or they hold the
    route table of a handler found without a route.
    """
    full: list[ModuleFacts] = [f["module_facts"] for _, f in items if f.get("stage") == "full"]
    out = FileFindings()
    token = [(f["module"], e) for _, f in items if f.get("stage") == "token" for e in f.get("unrouted", ())]
    decorated = [(f["module"], d) for _, f in items if f.get("stage") == "token" for d in f.get("decorated", ())]
    cheap = [(rel, f) for rel, f in items if f.get("stage") == "cheap" and ("source_path" in f or "text" in f)]
    if token:  # handlers read at token level (Python 2) get routes from the tables of readable modules
        out.endpoints.extend(_token_routes(token, cheap, full, config))
    if not full and not any(f.get("padding_defs") or f.get("source_calls") for _, f in cheap):
        return out  # no module pads anything: nothing to link (and no parser to load)
    from jsonp2cors.scan.pydetect.resolve import Repo, Resolver

    if not full and not cheap:
        return out
    resolver = Resolver(Repo(full, config))
    resolver.run()
    strong_padders = resolver.padders(strong_only=True)
    if decorated:  # Python 2 views decorated with a padding decorator of a readable module
        wrapped = _decorated_handlers(decorated, strong_padders, resolver)
        routed = {(e.file, e.line, e.function): e for e in _token_routes(
            [(module, e) for module, e in wrapped], cheap, full, config)}
        out.endpoints.extend(routed.get((e.file, e.line, e.function), e) for _, e in wrapped)
        # the decorators they go through are helpers (read alone, one passing views on looked like a handler)
        used = {e.recognised_by.partition(":")[2] for _, e in wrapped}
        out.endpoints.extend(
            replace(e, role="helper")
            for e in resolver.endpoints()
            if e.role == "handler" and e.route is None and e.function in used
        )
    strong = _Names(set(strong_padders))
    strong_names = {n for names in strong_padders.values() for n in names}
    weak = _Names({k for k in resolver.padders(strong_only=False) if "." not in resolver.repo.funcs[k][1].qualname})
    cheap_pads = _Names({f"{f['module']}.{d}" for _, f in cheap for d in f.get("padding_defs", ())})
    owner = {f"{f['module']}.{d}": rel for rel, f in cheap for d in f.get("padding_defs", ())}
    rel_module = {m.rel: m.module for m in full}
    routeless = _Names(
        {
            rel_module[e.file] + ".x"
            for e in resolver.endpoints()
            if e.role == "handler" and e.route is None and e.confidence == "high"
        }
    )
    chosen: dict[str, dict[str, Any]] = {}
    by_rel = dict(cheap)

    def choose_owners(call: str) -> None:
        """Read the left-out modules defining the padding function `call` names."""
        chosen.update((other, by_rel[other]) for key, other in owner.items() if call in _Names({key}))

    for rel, f in cheap:
        imports = f.get("imports", ())
        calls = f.get("source_calls", ())
        if (
            (any(i in strong for i in imports) and any(name in _text(f) for name in strong_names))
            or any(c in weak for c in calls)
            or (f.get("routes") and any(i in routeless for i in imports))
        ):
            chosen[rel] = f
        for call in calls:
            if call in cheap_pads:
                chosen[rel] = f
                choose_owners(call)
    # a fully read module handing a request value to a padding function of a module the cheap stage left out
    for m in full:
        for fn in m.functions.values():
            for c in fn.calls:
                if c.target in cheap_pads and _hands_request(c):
                    choose_owners(c.target)
    # Pyramid renderers with the project's own factory: the modules registering one that a chosen or full
    # module's code pads through, and the views naming it
    registered = {n for m in full for n in m.renderer_factories}
    registered |= {n for rel, f in chosen.items() for n in f.get("renderers_registered", ())}
    if registered:
        for rel, f in cheap:
            if registered & set(f.get("renderers_used", ())):
                chosen[rel] = f
    # a settings module the cheap stage saw naming one of the project's padding renderers as a DRF default
    for rel, f in cheap:
        defaults = f.get("drf_default_renderers", ())
        if any(r.rsplit(".", 1)[-1] in strong_names for r in defaults if not r.startswith("rest_framework.")):
            chosen[rel] = f
    drf_on = any(_jsonp_capable(m.drf_default_renderers) for m in full) or any(
        _jsonp_capable(f.get("drf_default_renderers", ())) for f in chosen.values()
    )
    if drf_on:  # DRF views answer through the project's default renderers
        drf_views = ("rest_framework.views.", "rest_framework.generics.", "rest_framework.viewsets.",
                     "rest_framework.decorators.api_view")
        views = set()
        for rel, f in cheap:
            if any(i.startswith(drf_views) for i in f.get("imports", ())):
                chosen[rel] = f
                views.add(f["module"])
        for rel, f in cheap:  # and the url modules routing to them
            if f.get("routes") and any(i == v or i.startswith(v + ".") for i in f.get("imports", ()) for v in views):
                chosen[rel] = f
    # a settings module the cheap stage saw listing a padding class of the project as Django middleware
    for rel, f in cheap:
        if any(_names_padder(name, strong_padders) for name in f.get("django_middleware", ())):
            chosen[rel] = f
    if any(g in m.imports for m in full for g in ("flask.g", "flask.globals.g")):
        for rel, f in cheap:  # the hooks setting `g` from the request: the keys of a padded `g.callback`
            if f.get("sets_g"):
                chosen[rel] = f
    chosen.update(_includers(chosen, cheap, set()))  # the site's root urls.py that include()s the app's
    read: list[str] = []
    endpoints: list[Endpoint] = resolver.endpoints()
    linked = False  # endpoints come from a resolver over more than one module (else each module reported its own)
    pending = chosen
    wraps_views = False  # a Django middleware of the project pads every view (see `_django_middleware_pads`)
    for _ in range(3):  # the modules chosen, then the route tables of handlers found in them, then their includers
        for rel, facts in _collect_kept(pending, config):
            if isinstance(facts, str):
                out.errors.append(ScanError(rel, facts))
            else:
                full.append(facts)
                read.append(rel)
        if len(full) > 1 or pending:
            resolver = Resolver(Repo(full, config))
            resolver.run()
            endpoints = resolver.endpoints()
            linked = True
        done = {m.rel for m in full} | set(chosen)
        pending = _route_modules(_unrouted(endpoints, set(read)), full, cheap, done)
        pending.update(_mounting_modules(_mountable(endpoints), full, cheap, done))
        wraps_views = _django_middleware_pads(full, resolver)
        if wraps_views:  # the url tables and the JSON views
            pending.update(_django_views(cheap, done))
        if not pending:
            break
        chosen.update(pending)
    out.facts[PARSED_KEY] = read  # modules read fully here count as parsed in the scan's stats
    if linked:
        out.endpoints.extend(endpoints)
    # handlers still without a route: their tables may be in files the prefilter dropped (a urls.py names no
    # callback); the scan reads those holding the framework's route calls and runs this pass again
    wanted = sorted({n for e in _unrouted(endpoints, set(read)) for n in ROUTE_NEEDLES.get(e.framework, ())})
    if any(e.file in read for e in _mountable(endpoints)):  # and the modules mounting their blueprints/routers
        wanted = sorted({*wanted, *_MOUNT_NEEDLES})
    if wraps_views:  # and those the prefilter dropped (urls.py, JSON views)
        wanted = sorted({*wanted, *_DJANGO_VIEW_NEEDLES})
    elif any(_django_middleware_shaped(key, resolver) for key in strong_padders):  # the settings that list it
        wanted = sorted({*wanted, b"middleware"})
    if wanted:
        out.facts["followup_needles"] = wanted
    return out


# Files that may hold the Django views a project-wide JSONP middleware wraps: url tables and JSON views.
_DJANGO_VIEW_NEEDLES = (b"urlpatterns", b"json")
# The methods through which a Django middleware sees each response.
_MIDDLEWARE_METHODS = (".__call__", ".process_response")


def _django_views(cheap: list[tuple[str, dict[str, Any]]], done: set[str]) -> dict[str, dict[str, Any]]:
    """The Django modules left out so far that hold url tables or views answering JSON."""
    return {
        rel: f
        for rel, f in cheap
        if rel not in done
        and _imports_django(f.get("imports", ()))
        and (f.get("routes") or _says_json(_text(f)))
    }


def _django_middleware_shaped(key: str, resolver: Resolver) -> bool:
    """A padding method a Django middleware has: `process_response`, or `__call__` of a class built with
    `get_response` (not any callable class: Pyramid's JSONP renderer pads in `__call__` too)."""
    if key.endswith(".process_response"):
        return True
    if not key.endswith(".__call__"):
        return False
    init = resolver.repo.funcs.get(key[: -len("__call__")] + "__init__")
    return init is not None and "get_response" in init[1].params


def _names_padder(dotted: str, padders: dict[str, set[str]]) -> bool:
    """Does a dotted name from the settings (`proj.middleware.Padding`) name the class of a padding method?"""
    return any(key.endswith(_MIDDLEWARE_METHODS) and key.rsplit(".", 1)[0].endswith(dotted) for key in padders)


def _django_middleware_pads(full: list[ModuleFacts], resolver: Resolver) -> bool:
    """Does a Django settings module list a middleware class of the project whose `__call__`/`process_response`
    pads (see collect's `_django_middleware`)?"""
    listed = {h.function for m in full for h in m.hooks if h.registrar == tables.DJANGO_SETTINGS_HOOK}
    if not listed:
        return False
    padders = resolver.padders(strong_only=True)
    return any(
        name == key or name.endswith("." + key) or key.endswith("." + name) for key in padders for name in listed
    )


# A Flask blueprint or a FastAPI router is mounted, with a prefix of its own, by whatever module registers it.
_MOUNT_CALLS = ("register_blueprint(", "include_router(")
_MOUNT_NEEDLES = tuple(c.rstrip("(").encode() for c in _MOUNT_CALLS)
_MOUNTABLE = re.compile(r"\b(?:Blueprint|APIRouter)\(")


def _routed_flask_or_fastapi(e: Endpoint) -> bool:
    """A routed Flask/FastAPI handler: a blueprint or router of its may be registered under a prefix."""
    return e.role == "handler" and e.route is not None and e.framework in ("flask", "fastapi")


def _mounted_elsewhere(e: Endpoint, text: str) -> bool:
    """Is this routed handler's route on a blueprint/router its module creates (`text`), which another module
    may register under a prefix?"""
    return _routed_flask_or_fastapi(e) and _MOUNTABLE.search(text) is not None


def _mountable(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """Routed Flask/FastAPI handlers found with high confidence (see `_routed_flask_or_fastapi`)."""
    return [e for e in endpoints if _routed_flask_or_fastapi(e) and e.confidence == "high"]


def _modules_of(endpoints: Iterable[Endpoint], full: list[ModuleFacts]) -> set[str]:
    """The dotted module names of these endpoints' files (those read fully)."""
    module_of = {m.rel: m.module for m in full}
    return {module_of[e.file] for e in endpoints if e.file in module_of}


def _mounting_modules(
    mountable: list[Endpoint], full: list[ModuleFacts], cheap: list[tuple[str, dict[str, Any]]], done: set[str]
) -> dict[str, Any]:
    """Modules the cheap stage saw that import one of these handlers' modules and register a blueprint or router
    (`app.register_blueprint(api, url_prefix="/v1")` in an app factory)."""
    if not mountable:
        return {}
    return {
        rel: f
        for rel, f in _tables_naming(_modules_of(mountable, full), cheap, done).items()
        if any(call in _text(f) for call in _MOUNT_CALLS)
    }


def _decorated_handlers(
    decorated: list[tuple[str, Any]], padders: dict[str, set[str]], resolver: Any
) -> list[tuple[str, Endpoint]]:
    """Functions the token pass saw decorated with a decorator that pads a request value (defined in a module
    read fully): handlers at low confidence, with the decorator's callback parameters."""

    by_ref: dict[str, str] = {}  # the decorator's absolute name -> a padding function of it (its wrapper)
    for fkey, names in padders.items():
        m, f = resolver.repo.funcs[fkey]
        for name in names:
            by_ref.setdefault(f"{m.module}.{name}" if m.module else name, fkey)
    out: list[tuple[str, Endpoint]] = []
    for module, d in decorated:
        padder = next((by_ref[ref] for ref in d.decorators if ref in by_ref), None)
        if padder is None:
            continue
        m, f = resolver.repo.funcs[padder]
        keys = resolver._keys(resolver.events[padder], m)
        name = f.qualname.split(".", 1)[0]
        framework = d.endpoint.framework if d.endpoint.framework != "generic" else m.framework
        out.append((module, replace(
            d.endpoint, callback_params=keys, recognised_by=f"decorator:{name}", framework=framework
        )))
    return out


def _token_routes(
    token: list[tuple[str, Endpoint]],
    cheap: list[tuple[str, dict[str, Any]]],
    full: list[ModuleFacts],
    config: ScanConfig,
) -> list[Endpoint]:
    """Routes for handlers of modules only the token pass could read (Python 2 views): the route tables of the
    readable modules that import those modules or name them (urls.py, an app's add_url_rule), read fully, with
    Django's include() prefixes; each routed handler is returned with its route."""
    from jsonp2cors.scan.pydetect.resolve import Repo, Resolver

    modules = {module for module, _ in token if "." in module}
    if not modules:
        return []
    read = [facts for _, facts in _collect_kept(_tables_naming(modules, cheap, set()), config)]
    readable = [m for m in (*full, *read) if not isinstance(m, str)]
    resolver = Resolver(Repo(readable, config))
    django = resolver.django_prefixes()
    paths: dict[str, list[str]] = {}
    for m in readable:
        for tr in m.table_routes:
            for path in resolver.table_paths(tr, m, django):
                if path is not None:
                    paths.setdefault(tr.target, []).append(path)
    out: list[Endpoint] = []
    for module, e in token:
        owner, _, method = e.function.rpartition(".")
        named = paths.get(f"{module}.{e.function}", [])
        if owner and method in tables.HANDLER_METHODS:  # a handler class routed by name: its verb methods
            named = named + paths.get(f"{module}.{owner}", [])
        found = list(dict.fromkeys(named))
        if found:
            out.append(replace(e, route=found[0], routes=tuple(found) if len(found) > 1 else ()))
    return out


def _unrouted(endpoints: Iterable[Endpoint], linked_here: set[str]) -> list[Endpoint]:
    """Handlers without a route: high ones, and medium ones in modules this pass read (a function padded through
    another module's decorator is only medium until a route table names it as a view). A medium handler of a
    module the first stage read fully is a library's own entry point (flask_jsonpify's `jsonpify`): no table."""
    return [
        e
        for e in endpoints
        if e.role == "handler"
        and e.route is None
        and (e.confidence == "high" or (e.confidence == "medium" and e.file in linked_here))
    ]


def _route_modules(
    unrouted: list[Endpoint], full: list[ModuleFacts], cheap: list[tuple[str, dict[str, Any]]], done: set[str]
) -> dict[str, Any]:
    """The modules whose route tables may name these handlers found without a route (see `_tables_naming`)."""
    if not unrouted:
        return {}
    by_name = any(e.framework == "pyramid" for e in unrouted)
    return _tables_naming(_modules_of(unrouted, full), cheap, done, by_name=by_name)


def _tables_naming(
    modules: set[str], cheap: list[tuple[str, dict[str, Any]]], done: set[str], *, by_name: bool = False
) -> dict[str, Any]:
    """Modules the cheap stage saw registering routes that import one of `modules` or name it in a string
    (Django 1.x `'news.views.feed'`, `patterns('news.views', ...)`); with `by_name` (Pyramid: routes join views
    by name, not by import) those calling add_route; and, when one is a Django urls module, the modules that
    include() others (the site's root urls.py)."""
    names = _Names({m + ".x" for m in modules})
    found = {
        rel: f
        for rel, f in cheap
        if rel not in done
        and f.get("routes")
        and (
            any(i in names for i in f.get("imports", ()))
            or (by_name and "add_route(" in _text(f))
            or any(f"'{m}" in _text(f) or f'"{m}' in _text(f) for m in modules if "." in m)
        )
    }
    found.update(_includers(found, cheap, done))
    return found


def _includers(found: dict[str, Any], cheap: list[tuple[str, dict[str, Any]]], done: set[str]) -> dict[str, Any]:
    """When one of `found` is a Django urls module: the modules that include() others (the site's root urls.py)."""
    if not any("urlpatterns" in _text(f) for f in found.values()):
        return {}
    return {rel: f for rel, f in cheap if rel not in done and f.get("routes") and "include(" in _text(f)}


def _collect_kept(modules: dict[str, dict[str, Any]], config: ScanConfig) -> list[tuple[str, ModuleFacts | str]]:
    """`_collect_many` over the cheap modules given (rel -> facts), each read once per scan: the result is kept in
    its facts, so a later run of the whole-repo pass (the scan runs it again after a follow-up) reuses it."""
    fresh = [(rel, _text(f)) for rel, f in modules.items() if "collected" not in f]
    if _DEBUG:
        for rel, _ in fresh:
            print("finish: reading fully", rel, file=sys.stderr)
    for rel, facts in _collect_many(fresh, config):
        modules[rel]["collected"] = facts
    return [(rel, f["collected"]) for rel, f in modules.items()]


# Reading this many modules fully in the whole-repo pass is worth a process pool (libcst is the cost).
COLLECT_POOL_MIN = 8


def _collect_one(item: tuple[str, str, ScanConfig]) -> tuple[str, ModuleFacts | str]:
    """One module read fully with libcst: its facts, or a one-line error."""
    from jsonp2cors.scan.pydetect.collect import Collector

    rel, text, config = item
    try:
        return rel, Collector(rel, text, config).collect()
    except Exception as exc:  # one bad module must never stop the scan
        return rel, f"python: internal error: {type(exc).__name__}: {exc}"[:240]


def _collect_many(texts: list[tuple[str, str]], config: ScanConfig) -> list[tuple[str, ModuleFacts | str]]:
    """Modules the whole-repo pass reads fully (a DRF project's views can be hundreds): over every core when
    there are enough of them, in this process otherwise. Results in the order given."""
    items = [(rel, text, config) for rel, text in texts]
    workers = min(config.jobs or os.cpu_count() or 1, len(items))
    if workers <= 1 or len(items) < COLLECT_POOL_MIN:
        return [_collect_one(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(_collect_one, items, chunksize=max(1, len(items) // (workers * 4))))


class _Names:
    """Answers "does this import name one of these functions/classes/modules?" by dotted suffixes."""

    def __init__(self, keys: set[str]) -> None:
        self.full: set[str] = set()
        self.suffixes: set[str] = set()
        for key in keys:
            for name in (key, key.rsplit(".", 1)[0]):
                self.full.add(name)
                parts = name.split(".")
                for i in range(len(parts)):
                    self.suffixes.add(".".join(parts[i:]))

    def __contains__(self, imported: str) -> bool:
        """`imported` (or the module it comes from) is one of the names, or a dotted suffix of one."""
        for name in (imported, imported.rsplit(".", 1)[0]):
            if name in self.suffixes:
                return True
            parts = name.split(".")
            if any(".".join(parts[i:]) in self.full for i in range(1, len(parts) - 1)):
                return True
        return False


ANALYZERS: list[Analyzer] = [
    Analyzer("python", SUFFIXES, needles_for(ScanConfig()), analyze_python, finish=finish),
]
