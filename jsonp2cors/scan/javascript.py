"""JSONP consumers in JavaScript, found on a tree-sitter syntax tree by a table of small call detectors.

Used for `.js`/`.mjs`/`.cjs`/`.jsx` files and, through `analyze_js_text`, for inline `<script>` bodies.
Strings are resolved where statically visible (literals, `+`, template literals, scoped variables,
constant objects); what cannot be resolved stays in the URL as a `{expr}` hole.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import tree_sitter
import tree_sitter_javascript

from jsonp2cors.findings import Consumer, ScanError
from jsonp2cors.scan.base import FileFindings, ScanConfig
from jsonp2cors.scan.files import looks_minified
from jsonp2cors.scan.link import callback_in_query, jquery_placeholder, parse_url
from jsonp2cors.scan.loaders import find_loader, loader_for_global
from jsonp2cors.scan.web import JS_NEEDLES, JS_SUFFIXES

__all__ = ["JS_NEEDLES", "JS_SUFFIXES", "analyze_js_file", "analyze_js_text", "finish_wrappers", "looks_minified"]

_DIALECTS = {".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx"}  # everything else: "js"
FOLLOWUP_KEY = "followup_needles"  # the key jsonp2cors.scan reads for a second prefilter round

_FUNCTIONS = frozenset({
    "function_declaration", "function_expression", "arrow_function", "method_definition",
    "generator_function_declaration", "generator_function", "function",
})
_JQUERY = frozenset({"$", "jQuery", "jq", "$j", "Zepto", "window.$", "window.jQuery"})
_HTTP_SERVICE = re.compile(r"\$?_?http(?:client)?", re.IGNORECASE)
_JQUERY_METHODS = frozenset({"ajax", "getJSON", "get", "post", "getScript", "jsonp", "ajaxJSONP"})
_GLOBALS = frozenset({"window", "$window", "self", "globalThis", "top", "parent", "win", "w"})
_GENERIC_METHODS = frozenset({
    "get", "post", "put", "load", "request", "fetch", "call", "send", "ajax", "query", "find", "run",
    "open", "then", "apply", "bind", "push", "init", "create", "update", "render",
})
_MAX_DEPTH = 12
_URL_PARAM = re.compile(r"url|uri|path|endpoint|src|href|resource|route|api", re.IGNORECASE)
# Expressions that only wrap another one: `(x)`, TypeScript `x as T`, `x!`, `x satisfies T`, `<T>x`.
_WRAPPING = frozenset({
    "parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression",
    "type_assertion",
})
_VALUE_NODES = frozenset({"string", "template_string", "binary_expression", "object"})
_URLISH_NODES = frozenset(
    {"string", "template_string", "binary_expression", "identifier", "member_expression"}
)
_HOLE_TEXT = re.compile(r"[\w$.\[\]'\"]{1,48}")

_COLLECTED = (
    "call_expression", "new_expression", "variable_declarator", "assignment_expression", "import_statement",
    "augmented_assignment_expression",
    "string", "template_string", "object", *sorted(_FUNCTIONS),
)
_tools: dict[str, tuple[tree_sitter.Parser, tree_sitter.Query]] = {}


def _get_tools(dialect: str = "js") -> tuple[tree_sitter.Parser, tree_sitter.Query]:
    """The parser and the one query that collects every node type the detectors look at (built once).

    TypeScript uses the same node and field names for everything the detectors read; its grammar adds type
    annotations, `as` expressions and typed parameters, which are unwrapped where they matter.
    """
    if dialect not in _tools:
        if dialect == "js":
            language = tree_sitter.Language(tree_sitter_javascript.language())
        else:
            import tree_sitter_typescript

            grammar = tree_sitter_typescript.language_tsx if dialect == "tsx" else \
                tree_sitter_typescript.language_typescript
            language = tree_sitter.Language(grammar())
        kinds = [k for k in _COLLECTED if language.id_for_node_kind(k, True)]
        query = tree_sitter.Query(language, " ".join(f"({k}) @{k}" for k in kinds))
        _tools[dialect] = (tree_sitter.Parser(language), query)
    return _tools[dialect]


def dialect_of(rel: str) -> str:
    """"js", "ts" or "tsx" by file suffix."""
    lowered = rel.lower()
    return next((d for suffix, d in _DIALECTS.items() if lowered.endswith(suffix)), "js")


Node = tree_sitter.Node
_Key = tuple[int, int]


def _key(node: Node) -> _Key:
    return (node.start_byte, node.end_byte)


@dataclass(frozen=True)
class _Val:
    """A statically evaluated string: text parts and holes (`{expr}`), plus the parameters it depends on."""

    parts: tuple[tuple[str, bool], ...] = ()  # (text, is_hole)
    params: frozenset[tuple[_Key, int]] = frozenset()  # (function, parameter index) of unresolved params
    # The function parameter the URL is built from (a wrapper's URL argument): the string starts with it,
    # or only literal text (a base such as "https://api.example.com") precedes a parameter named like a URL.
    lead: tuple[_Key, int] | None = None
    lead_name: str = ""

    @property
    def text(self) -> str:
        return "".join(f"{{{t}}}" if hole else t for t, hole in self.parts)

    @property
    def exact(self) -> str | None:
        return None if any(h for _, h in self.parts) else "".join(t for t, _ in self.parts)

    @property
    def has_literal(self) -> bool:
        return any(t and not h for t, h in self.parts)

    def __add__(self, other: _Val) -> _Val:
        lead, name = self.lead, self.lead_name
        literal_prefix = not any(h for _, h in self.parts)
        if lead is None and other.lead is not None and literal_prefix and (
            not self.parts or _URL_PARAM.search(other.lead_name)
        ):
            lead, name = other.lead, other.lead_name
        return _Val(self.parts + other.parts, self.params | other.params, lead, name)


@dataclass
class _Found:
    consumer: Consumer
    url_lead: tuple[_Key, int] | None  # the enclosing function's parameter the URL starts with
    cb_params: frozenset[tuple[_Key, int]] = frozenset()


@dataclass(frozen=True)
class Wrapper:
    """A project-local function that performs a JSONP request for a URL given as one of its arguments."""

    name: str  # "loadJSONP", "Api.jsonp", "this.fetchJsonp"
    member: str | None  # the bare method name for object/class methods
    url_index: int
    callback_index: int | None
    kind: str
    callback_param: str | None
    file: str
    line: int
    fixed_callback: str | None = None  # the callback name when the wrapper always uses the same one


@dataclass
class _JsFile:
    rel: str
    src: bytes
    config: ScanConfig
    line_base: int = 0  # 0-based line of the first byte in the host file
    col_base: int = 0  # 0-based column of the first byte (first line only)
    found: list[_Found] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    nodes: dict[str, list[Node]] = field(default_factory=dict)
    scopes: dict[_Key, dict[str, Node | int]] = field(default_factory=dict)
    # (declaring scope, name) -> later assignments in source order: `url = url + "?" + qs`, `qs += ...`
    reassigned: dict[tuple[_Key, str], list[Node]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> library module
    consumed: set[_Key] = field(default_factory=set)  # option objects a call detector already read
    line_starts: list[int] = field(default_factory=list)

    # ---------------------------------------------------------------------------------------- basics
    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def compact(self, node: Node | None) -> str:
        return re.sub(r"\s+", "", self.text(node))

    def position(self, node: Node) -> tuple[int, int]:
        row, col_bytes = node.start_point
        start = self.line_starts[row] if row < len(self.line_starts) else 0
        col = len(self.src[start : start + col_bytes].decode("utf-8", "replace"))
        line = self.line_base + row + 1
        if row == 0:
            col += self.col_base
        return line, col + 1

    def scope_of(self, node: Node) -> Node:
        cur = node.parent
        while cur is not None:
            if cur.type in _FUNCTIONS or cur.type == "program":
                return cur
            cur = cur.parent
        return node

    # ---------------------------------------------------------------------------------- collection
    def collect(self, root: Node, query: tree_sitter.Query) -> None:
        # One tree-sitter query (in C) instead of a Python walk over every node.
        for kind, nodes in tree_sitter.QueryCursor(query).captures(root).items():
            self.nodes[kind] = sorted(nodes, key=lambda n: n.start_byte)
        for fn in self._nodes(*_FUNCTIONS):
            self._declare_params(fn)
        for decl in self._nodes("variable_declarator"):
            name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
            if name is not None and name.type == "identifier":
                self._declare(self.scope_of(decl), self.text(name), value)
                if value is not None:
                    self._note_import(self.text(name), value)
        for fn in self._nodes("function_declaration"):
            fn_name = fn.child_by_field_name("name")
            if fn_name is not None:
                self._declare(self.scope_of(fn), self.text(fn_name), fn)
        for asg in self._nodes("assignment_expression"):
            left, right = asg.child_by_field_name("left"), asg.child_by_field_name("right")
            if left is not None and right is not None and left.type == "identifier":
                ident = self.text(left)
                scope = self._declaring_scope(asg, ident)
                if scope is None:
                    self._declare(self._program(asg), ident, right)
                elif self.scopes[scope].get(ident) is None:
                    self.scopes[scope][ident] = right
                else:
                    self.reassigned.setdefault((scope, ident), []).append(asg)
        for asg in self._nodes("augmented_assignment_expression"):
            left = asg.child_by_field_name("left")
            operator = self.text(asg.child_by_field_name("operator"))
            if left is not None and left.type == "identifier" and operator == "+=":
                ident = self.text(left)
                scope = self._declaring_scope(asg, ident)
                if scope is not None:
                    self.reassigned.setdefault((scope, ident), []).append(asg)
        for later in self.reassigned.values():
            later.sort(key=lambda n: n.start_byte)
        for imp in self._nodes("import_statement"):
            source = imp.child_by_field_name("source")
            module = _string_literal(self, source)
            if module is None:
                continue
            for local in _walk(imp):
                if local.type != "identifier":
                    continue
                spec = local.parent
                if spec is None or spec.type != "import_specifier" or spec.child_by_field_name("alias") in (
                    None, local
                ):
                    self.aliases[self.text(local)] = module
        for call in self._nodes("call_expression"):
            self._note_amd(call)

    def _nodes(self, *types: str) -> Iterator[Node]:
        for t in types:
            yield from self.nodes.get(t, ())

    def _program(self, node: Node) -> Node:
        cur = node
        while cur.parent is not None:
            cur = cur.parent
        return cur

    def _declare(self, scope: Node, name: str, value: Node | int | None) -> None:
        table = self.scopes.setdefault(_key(scope), {})
        if name in table and table[name] is not None and value is not None and table[name] != value:
            existing = table[name]
            if isinstance(existing, int) or isinstance(value, int) or self.text(existing) != self.text(value):
                table[name] = -1  # declared twice with different values: unknown
            return
        if value is not None or name not in table:
            table[name] = value  # type: ignore[assignment]

    def _declare_params(self, fn: Node) -> None:
        params = fn.child_by_field_name("parameters")
        single = fn.child_by_field_name("parameter")
        names: list[Node] = []
        if single is not None:
            names = [single]
        elif params is not None:
            names = [c for c in params.named_children if c.type != "comment"]
        for index, p in enumerate(names):
            ident = p
            if p.type in ("required_parameter", "optional_parameter"):  # TypeScript `url: string`
                p = p.child_by_field_name("pattern") or p
                ident = p
            if p.type in ("assignment_pattern", "rest_pattern"):
                ident = p.child_by_field_name("left") or (p.named_children[0] if p.named_children else p)
            if ident.type == "identifier":
                self.scopes.setdefault(_key(fn), {})[self.text(ident)] = index

    def _declaring_scope(self, node: Node, name: str) -> _Key | None:
        cur: Node | None = node
        while cur is not None:
            if cur.type in _FUNCTIONS or cur.type == "program":
                table = self.scopes.get(_key(cur))
                if table is not None and name in table:
                    return _key(cur)
            cur = cur.parent
        return None

    def lookup(self, node: Node, name: str) -> tuple[_Key, Node | int | None] | None:
        scope = self._declaring_scope(node, name)
        if scope is None:
            return None
        return scope, self.scopes[scope][name]

    def _note_import(self, name: str, value: Node) -> None:
        if value.type == "call_expression" and self.text(value.child_by_field_name("function")) == "require":
            args = value.child_by_field_name("arguments")
            if args is not None and args.named_children:
                module = _string_literal(self, args.named_children[0])
                if module:
                    self.aliases[name] = module

    def _note_amd(self, call: Node) -> None:
        if self.text(call.child_by_field_name("function")) not in ("define", "require", "requirejs"):
            return
        args = call.child_by_field_name("arguments")
        if args is None:
            return
        named = args.named_children
        deps = next((a for a in named if a.type == "array"), None)
        fn = next((a for a in named if a.type in ("function_expression", "arrow_function")), None)
        if deps is None or fn is None:
            return
        params = fn.child_by_field_name("parameters")
        if params is None:
            return
        for dep, param in zip(deps.named_children, params.named_children, strict=False):
            module = _string_literal(self, dep)
            if module and param.type == "identifier":
                self.aliases[self.text(param)] = module

    # ---------------------------------------------------------------------------------- evaluation
    def eval(self, node: Node | None, depth: int = 0) -> _Val:
        """Evaluate a string expression; unknown parts become holes."""
        if node is None:
            return _Val()
        if depth > _MAX_DEPTH:
            return self._hole(node)
        t = node.type
        if t == "string":
            value = _string_literal(self, node)
            return _Val(((value or "", False),))
        if t == "template_string":
            out = _Val()
            for child in node.children:
                if child.type == "string_fragment":
                    out = out + _Val(((self.text(child), False),))
                elif child.type == "escape_sequence":
                    out = out + _Val(((_unescape(self.text(child)), False),))
                elif child.type == "template_substitution":
                    inner = child.named_children[0] if child.named_children else None
                    out = out + self.eval(inner, depth + 1)
            return out
        if t == "binary_expression" and self.text(node.child_by_field_name("operator")) == "+":
            return self.eval(node.child_by_field_name("left"), depth + 1) + self.eval(
                node.child_by_field_name("right"), depth + 1
            )
        if t in _WRAPPING and node.named_children:
            return self.eval(_unwrap(node), depth + 1)
        if t == "ternary_expression":
            # `url + (url.indexOf("?") < 0 ? "?" : "&") + "callback=" + name`: assume the query starts here
            branches = [self.eval(node.child_by_field_name(f), depth + 1)
                        for f in ("consequence", "alternative")]
            exact = [b.exact for b in branches]
            if "?" in exact:
                return _Val((("?", False),))
            if exact[0] is not None and exact[0] == exact[1]:
                return branches[0]
            # `url.endsWith("?") ? url + name : url + "&callback=" + name`: the branch that spells out a
            # query parameter says more about the request than the other one
            literal = ["".join(t for t, hole in b.parts if not hole) for b in branches]
            if "=" in literal[0] or "=" in literal[1]:
                return branches[0] if len(literal[0]) > len(literal[1]) else branches[1]
        if t in ("number",):
            return _Val(((self.text(node), False),))
        if t == "identifier":
            return self._eval_identifier(node, depth)
        if t == "member_expression":
            member = self.resolve_member(node, depth)
            if member is not None:
                return self.eval(member, depth + 1)
        if t == "call_expression":
            callee = self.compact(node.child_by_field_name("function"))
            args = node.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_children else None
            unwrap = ("trustAsResourceUrl", "trustAs", "String", "encodeURI")
            if callee.endswith(unwrap) and first is not None:
                if callee.endswith("trustAs") and args is not None and len(args.named_children) > 1:
                    return self.eval(args.named_children[1], depth + 1)
                return self.eval(first, depth + 1)
        return self._hole(node)

    def _hole(self, node: Node, param: tuple[_Key, int] | None = None) -> _Val:
        text = self.compact(node)
        shown = text if _HOLE_TEXT.fullmatch(text) else "…"
        if param is None:
            return _Val(((shown, True),))
        return _Val(((shown, True),), frozenset({param}), param, text)

    def _eval_identifier(self, node: Node, depth: int) -> _Val:
        name = self.text(node)
        found = self.lookup(node, name)
        if found is None:
            return self._hole(node)
        scope, value = found
        before = [a for a in self.reassigned.get((scope, name), ()) if a.end_byte <= node.start_byte]
        if before:
            # The last assignment before this use, in source order (branches and loops are not followed).
            last = before[-1]
            right = self.eval(last.child_by_field_name("right"), depth + 1)
            if last.type == "augmented_assignment_expression":
                left = last.child_by_field_name("left")
                return (self._eval_identifier(left, depth + 1) if left is not None else _Val()) + right
            return right
        if isinstance(value, int):
            return self._hole(node, (scope, value) if value >= 0 else None)
        if value is None or value.type in _FUNCTIONS or value.type == "object":
            return self._hole(node)
        return self.eval(value, depth + 1)

    def resolve(self, node: Node | None, depth: int = 0) -> Node | None:
        """Follow identifiers (and constant object members) to the expression they stand for."""
        while node is not None and depth < _MAX_DEPTH:
            depth += 1
            if node.type == "identifier":
                found = self.lookup(node, self.text(node))
                if found is None or not isinstance(found[1], Node):
                    return node
                node = found[1]
            elif node.type == "member_expression":
                value = self.resolve_member(node, depth)
                if value is None:
                    return node
                node = value
            elif node.type in _WRAPPING and node.named_children:
                node = _unwrap(node)
            else:
                return node
        return node

    def resolve_member(self, node: Node, depth: int = 0) -> Node | None:
        obj = self.resolve(node.child_by_field_name("object"), depth + 1)
        prop = node.child_by_field_name("property")
        if obj is None or obj.type != "object" or prop is None:
            return None
        return self.props(obj).get(self.text(prop))

    def props(self, node: Node | None) -> dict[str, Node]:
        """The properties of an object literal (after resolving a variable), by key."""
        node = self.resolve(node)
        out: dict[str, Node] = {}
        if node is None or node.type != "object":
            return out
        for child in node.named_children:
            if child.type == "pair":
                key = child.child_by_field_name("key")
                value = child.child_by_field_name("value")
                if key is None or value is None:
                    continue
                name = _string_literal(self, key) if key.type == "string" else self.text(key)
                if name is not None:
                    out[name] = value
            elif child.type == "shorthand_property_identifier":
                out[self.text(child)] = child
        return out

    def str_of(self, node: Node | None) -> str | None:
        """The exact string value of an expression, or None."""
        if node is None:
            return None
        return self.eval(node).exact

    # ------------------------------------------------------------------------------------ findings
    def add(
        self,
        node: Node,
        kind: str,
        url: _Val | None,
        *,
        callback: str | None = None,
        callback_param: str | None = None,
        detail: str | None = None,
        cb_val: _Val | None = None,
        migratable: bool = True,
    ) -> Consumer:
        line, col = self.position(node)
        url_text = url.text if url is not None and url.parts else None
        target: str | None = None
        if url_text:
            parts = parse_url(url_text)
            target = parts.origin
            loader = find_loader(parts.host, parts.path)
            if loader is not None:
                migratable = False
                detail = f"{loader.name} loader" + (f"; {detail}" if detail else "")
                hit = next(((k, v) for k, v in parts.query if k in loader.params), None)
                if hit is not None and callback is None:
                    callback_param, callback = hit
            if callback_param is None or callback is None:
                hit = callback_in_query(parts, self.config.callback_params)
                if hit is not None:
                    callback_param = callback_param or hit[0]
                    callback = callback if callback is not None else (hit[1] or None)
        consumer = Consumer(
            file=self.rel, line=line, column=col, kind=kind, url=url_text, callback=callback, target=target,
            migratable=migratable, callback_param=callback_param, detail=detail,
        )
        self.found.append(_Found(consumer, url.lead if url is not None else None,
                                 cb_val.params if cb_val is not None else frozenset()))
        return consumer

    def callback_name(self, node: Node | None) -> tuple[str | None, _Val | None]:
        """A callback option: a string value, a function's name, or the expression text."""
        if node is None:
            return None, None
        val = self.eval(node)
        if val.exact is not None:
            return val.exact, val
        if node.type in ("function_expression", "arrow_function"):
            return None, None
        return self.compact(node) or None, val


# ------------------------------------------------------------------------------------------- helpers


def _walk(root: Node) -> Iterator[Node]:
    """Pre-order walk without recursion (deeply nested code must not hit the recursion limit)."""
    cursor = root.walk()
    while True:
        yield cursor.node  # type: ignore[misc]
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _unwrap(node: Node) -> Node:
    while node.type in _WRAPPING and node.named_children:
        inner = [c for c in node.named_children if c.type != "comment"]
        node = inner[-1] if node.type == "type_assertion" else inner[0]
    return node


def _unescape(text: str) -> str:
    try:
        return codecs.decode(text, "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return text


def _string_literal(js: _JsFile, node: Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    out = []
    for child in node.children:
        if child.type == "string_fragment":
            out.append(js.text(child))
        elif child.type == "escape_sequence":
            out.append(_unescape(js.text(child)))
    return "".join(out)


def _args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "arguments":
        return []
    return [a for a in args.named_children if a.type != "comment"]


def _is_function(node: Node | None) -> bool:
    return node is not None and node.type in _FUNCTIONS


# ----------------------------------------------------------------------------------- call detectors
# Each detector looks at one call (or `new`) and records consumers on the file; it returns quickly when
# the call is not its business. The table at the bottom is the only place that lists them.

CallDetector = Callable[[_JsFile, Node, str], None]


def _jquery(js: _JsFile, call: Node, callee: str) -> None:
    obj, _, method = callee.rpartition(".")
    if obj not in _JQUERY or method not in _JQUERY_METHODS:
        return
    args = _args(call)
    if not args:
        return
    settings: dict[str, Node] = {}
    url_node: Node | None = None
    data_type: str | None = None
    first = js.resolve(args[0])
    if method == "ajaxJSONP":
        data_type = "json"
    if first is not None and first.type == "object":
        settings = js.props(first)
        js.consumed.add(_key(first))
        url_node = settings.get("url")
    else:
        url_node = args[0]
        rest = args[1:]
        if method == "ajax" and rest:
            settings = js.props(rest[0])
            resolved = js.resolve(rest[0])
            if resolved is not None:
                js.consumed.add(_key(resolved))
        elif method in ("get", "post") and rest:
            last = js.str_of(rest[-1])
            if last is not None and last.lower() in ("jsonp", "json", "script", "text", "html", "xml"):
                data_type = last.lower()
    if method == "jsonp":
        url = js.eval(url_node)
        cb_name, cb_val = js.callback_name(settings.get("callback"))
        js.add(call, "other", url, callback=cb_name, cb_val=cb_val,
               callback_param=js.str_of(settings.get("callbackParameter")), detail="jquery-jsonp plugin")
        return
    if data_type is None and "dataType" in settings:
        data_type = (js.str_of(settings["dataType"]) or "").lower() or None
    if method == "getJSON":
        data_type = "json"
    url = js.eval(url_node)
    data = js.str_of(settings.get("data"))
    if method == "getScript":
        if callback_in_query(parse_url(url.text), js.config.callback_params) is not None:
            js.add(call, "jquery-ajax", url, detail="$.getScript with a callback parameter")
        return
    jsonp_opt = settings.get("jsonp")
    if data_type is not None and "jsonp" in data_type.split():
        param: str | None = "callback"
        detail = None
        if jsonp_opt is not None:
            if js.text(jsonp_opt) == "false":
                param, detail = None, "jsonp: false (callback name fixed in the URL)"
            else:
                param = js.str_of(jsonp_opt) or js.compact(jsonp_opt)
        cb_name, cb_val = js.callback_name(settings.get("jsonpCallback"))
        js.add(call, "jquery-ajax", url, callback=cb_name, cb_val=cb_val, callback_param=param, detail=detail)
        return
    if data_type in ("json", None) and (jsonp_opt is None or js.text(jsonp_opt) != "false"):
        key = jquery_placeholder(parse_url(url.text))
        if key is None and data is not None:
            key = jquery_placeholder(parse_url("?" + data))
        if key is None or (data_type is None and method not in ("ajax", "ajaxJSONP")):
            return
        detail = None
        if method == "ajaxJSONP":
            detail = "Zepto $.ajaxJSONP"
        elif data_type is None:
            # jQuery sends `=?` literally without a json dataType; Zepto turns it into JSONP. Either way the
            # page was written for JSONP.
            detail = "`=?` placeholder without dataType (JSONP under Zepto; jQuery needs dataType json)"
        elif method != "getJSON":
            detail = "dataType json with `=?` in the URL: jQuery switches to JSONP"
        cb_name, cb_val = js.callback_name(settings.get("jsonpCallback"))
        js.add(call, "jquery-getjson", url, callback=cb_name, cb_val=cb_val,
               callback_param=js.str_of(jsonp_opt) or key, detail=detail)


def _angular(js: _JsFile, call: Node, callee: str) -> None:
    obj, _, method = callee.rpartition(".")
    args = _args(call)
    if method == "jsonp" and obj and args:
        last = obj.rpartition(".")[2]
        if not _HTTP_SERVICE.fullmatch(last):  # `$http`, `this.http`, `this._http`, `this.httpClient`
            return
        url = js.eval(args[0])
        parts = parse_url(url.text)
        if "Vue" in obj:
            opts = js.props(args[1]) if len(args) > 1 else {}
            js.add(call, "other", url, callback_param=js.str_of(opts.get("jsonp")) or "callback",
                   callback=js.str_of(opts.get("jsonpCallback")), detail="vue-resource")
            return
        param: str | None = None
        callback: str | None = None
        second = args[1] if len(args) > 1 else None
        second_str = js.str_of(second)
        if second_str is not None:  # Angular HttpClient.jsonp(url, callbackParam)
            param = second_str
        else:
            param = js.str_of(js.props(second).get("jsonpCallbackParam")) if second is not None else None
        placeholder = next((k for k, v in parts.query if v == "JSON_CALLBACK"), None)
        if placeholder is not None:
            param, callback = param or placeholder, "JSON_CALLBACK"
        js.add(call, "angular-jsonp", url, callback=callback, callback_param=param or "callback")
        return
    if callee in ("$http", "this.$http") and args:
        opts = js.props(args[0])
        if (js.str_of(opts.get("method")) or "").upper() == "JSONP":
            url = js.eval(opts.get("url"))
            param = js.str_of(opts.get("jsonpCallbackParam"))
            placeholder = next((k for k, v in parse_url(url.text).query if v == "JSON_CALLBACK"), None)
            js.add(call, "angular-jsonp", url, callback="JSON_CALLBACK" if placeholder else None,
                   callback_param=param or placeholder or "callback", detail='$http({method: "JSONP"})')
        return
    if callee.rpartition(".")[2] == "$resource" and args:
        _angular_resource(js, call, args)


def _angular_resource(js: _JsFile, call: Node, args: list[Node]) -> None:
    base_url = args[0]
    defaults = js.props(args[1]) if len(args) > 1 else {}
    actions = js.resolve(args[2]) if len(args) > 2 else None
    if actions is None or actions.type != "object":
        return
    for pair in actions.named_children:
        if pair.type != "pair":
            continue
        opts = js.props(pair.child_by_field_name("value"))
        if (js.str_of(opts.get("method")) or "").upper() != "JSONP":
            continue
        url = js.eval(opts.get("url") or base_url)
        params = {**defaults, **js.props(opts.get("params"))}
        placeholder = next((k for k, v in params.items() if js.str_of(v) == "JSON_CALLBACK"), None)
        if placeholder is None:
            placeholder = next((k for k, v in parse_url(url.text).query if v == "JSON_CALLBACK"), None)
        param = js.str_of(opts.get("jsonpCallbackParam")) or placeholder or "callback"
        name = js.text(pair.child_by_field_name("key"))
        js.add(pair, "angular-jsonp", url, callback="JSON_CALLBACK" if placeholder else None,
               callback_param=param, detail=f"$resource action {name!r} with method JSONP")


def _libraries(js: _JsFile, call: Node, callee: str) -> None:
    args = _args(call)
    head = callee.split(".", 1)[0]
    module = js.aliases.get(head)
    if callee == "fetchJsonp" or (module == "fetch-jsonp" and callee == head):
        if args:
            opts = js.props(args[1]) if len(args) > 1 else {}
            cb, cb_val = js.callback_name(opts.get("jsonpCallbackFunction"))
            js.add(call, "other", js.eval(args[0]), callback=cb, cb_val=cb_val,
                   callback_param=js.str_of(opts.get("jsonpCallback")) or "callback", detail="fetch-jsonp")
        return
    if module == "jsonp" and callee == head and args:
        opts = js.props(args[1]) if len(args) > 1 else {}
        cb, cb_val = js.callback_name(opts.get("name"))
        js.add(call, "other", js.eval(args[0]), callback=cb, cb_val=cb_val,
               callback_param=js.str_of(opts.get("param")) or "callback", detail="npm jsonp package")
        return
    if callee in ("dojo.io.script.get", "dojo.io.script.jsonp") or (
        module in ("dojo/io/script",) and callee == f"{head}.get"
    ):
        opts = js.props(args[0]) if args else {}
        param = js.str_of(opts.get("callbackParamName"))
        if param is not None:
            js.add(call, "other", js.eval(opts.get("url")), callback_param=param, detail="dojo.io.script")
        return
    if module == "dojo/request/script" and callee in (head, f"{head}.get") and args:
        opts = js.props(args[1]) if len(args) > 1 else {}
        param = js.str_of(opts.get("jsonp"))
        if param is not None:
            js.add(call, "other", js.eval(args[0]), callback_param=param, detail="dojo/request/script")
        return
    if callee == "m.jsonp" and args:  # Mithril
        opts = js.props(args[0])
        cb, cb_val = js.callback_name(opts.get("callbackName"))
        js.add(call, "other", js.eval(opts.get("url")), callback=cb, cb_val=cb_val,
               callback_param=js.str_of(opts.get("callbackKey")) or "callback", detail="Mithril m.jsonp")
        return
    if callee in ("Y.jsonp", "YUI.jsonp") and args:
        url = js.eval(args[0])
        param = next((k for k, v in parse_url(url.text).query if v == "{callback}"), None)
        js.add(call, "other", url, callback_param=param or "callback", detail="YUI jsonp")
        return
    if callee in ("Ext.data.JsonP.request", "Ext.util.JSONP.request", "Ext.data.JsonP.get") and args:
        opts = js.props(args[0])
        cb, cb_val = js.callback_name(opts.get("callbackName"))
        js.add(call, "other", js.eval(opts.get("url")), callback=cb, cb_val=cb_val,
               callback_param=js.str_of(opts.get("callbackKey")) or "callback", detail="Ext.data.JsonP")
        return
    if callee == "Ext.create" and len(args) > 1:
        cls = js.str_of(args[0]) or ""
        if cls in ("Ext.data.proxy.JsonP", "Ext.data.JsonP", "Ext.data.ScriptTagProxy"):
            opts = js.props(args[1])
            js.add(call, "other", js.eval(opts.get("url")),
                   callback_param=js.str_of(opts.get("callbackKey")) or "callback", detail=cls)


def _new_libraries(js: _JsFile, new: Node, ctor: str) -> None:
    args = _args(new)
    opts = js.props(args[0]) if args else {}
    if ctor == "Request.JSONP":
        param = js.str_of(opts.get("callbackKey")) or "callback"
        js.add(new, "other", js.eval(opts.get("url")), callback_param=param, detail="MooTools Request.JSONP")
    elif ctor in ("Ext.data.ScriptTagProxy", "Ext.data.proxy.JsonP", "Ext.data.JsonP"):
        js.add(new, "other", js.eval(opts.get("url")),
               callback_param=js.str_of(opts.get("callbackKey")) or "callback", detail=ctor)
    elif ctor in ("Y.JSONPRequest", "YAHOO.util.JSONPRequest") and args:
        js.add(new, "other", js.eval(args[0]), callback_param="callback", detail="YUI JSONPRequest")


def _ext_proxy_objects(js: _JsFile) -> None:
    """`proxy: {type: "jsonp", url: ...}` in an Ext JS / Sencha store configuration."""
    for obj in js._nodes("object"):
        parent = obj.parent
        if parent is None or parent.type != "pair" or js.text(parent.child_by_field_name("key")) != "proxy":
            continue
        props = js.props(obj)
        if (js.str_of(props.get("type")) or "").lower() == "jsonp" and "url" in props:
            param = js.str_of(props.get("callbackKey")) or "callback"
            js.add(obj, "other", js.eval(props["url"]), callback_param=param, detail="Ext JS jsonp proxy")


def _jsonp_option_objects(js: _JsFile) -> None:
    """`{dataType: "jsonp"}` handed to something other than `$.ajax`: `$.ajaxSetup`, Backbone's
    `collection.fetch({dataType: "jsonp"})`, `$.ajax($.extend({}, base, {dataType: "jsonp"}))`, ..."""
    for obj in js._nodes("object"):
        if _key(obj) in js.consumed:
            continue
        props = js.props(obj)
        if "jsonp" not in (js.str_of(props.get("dataType")) or "").lower().split():
            continue
        call = obj.parent.parent if obj.parent is not None and obj.parent.type == "arguments" else None
        callee = js.compact(call.child_by_field_name("function")) if call is not None else ""
        if callee.rpartition(".")[2] == "ajaxSetup":
            detail = "$.ajaxSetup: every jQuery request on the page defaults to JSONP"
        elif callee:
            detail = f"dataType jsonp in options passed to {callee}"
        else:
            detail = "dataType jsonp in an options object"
        param = js.str_of(props.get("jsonp")) or "callback"
        cb, cb_val = js.callback_name(props.get("jsonpCallback"))
        url = js.eval(props.get("url")) if "url" in props else None
        js.add(obj if call is None else call, "jquery-ajax", url,
               callback=cb, cb_val=cb_val, callback_param=param, detail=detail)


def _dynamic_script(js: _JsFile, call: Node, callee: str) -> None:
    if not callee.endswith("createElement"):
        return
    args = _args(call)
    if not args or (js.str_of(args[0]) or "").lower() != "script":
        return
    target = _bound_name(js, call)
    if target is None:
        return
    scope = js.scope_of(call)
    src_node: Node | None = None
    for node in _walk(scope):
        if node.type == "assignment_expression":
            if js.compact(node.child_by_field_name("left")) == f"{target}.src":
                src_node = node.child_by_field_name("right")
                break
        elif node.type == "call_expression" and (
            js.compact(node.child_by_field_name("function")) == f"{target}.setAttribute"
        ):
            a = _args(node)
            if len(a) > 1 and (js.str_of(a[0]) or "").lower() == "src":
                src_node = a[1]
                break
    if src_node is None:
        return
    url = js.eval(src_node)
    parts = parse_url(url.text)
    hit = callback_in_query(parts, js.config.callback_params)
    loader = find_loader(parts.host, parts.path)
    if hit is not None or (loader is not None and any(k in loader.params for k, _ in parts.query)):
        js.add(call, "dynamic-script", url)
        return
    glob = _global_callback(js, scope)
    if glob is not None:
        name, val = glob
        sdk = loader_for_global(name)
        js.add(call, "dynamic-script", url, callback=name, cb_val=val,
               detail="paired with a global callback" + (f" ({sdk.name})" if sdk else ""),
               migratable=sdk is None)


def _bound_name(js: _JsFile, call: Node) -> str | None:
    node = call
    parent = node.parent
    while parent is not None and parent.type in _WRAPPING:
        node, parent = parent, parent.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        return js.text(parent.child_by_field_name("name"))
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        return js.compact(parent.child_by_field_name("left"))
    return None


_NOT_CALLBACKS = frozenset({
    "string", "template_string", "number", "object", "array", "true", "false", "null", "undefined", "regex",
})


def _scope_chain(js: _JsFile, scope: Node) -> tuple[Node, set[_Key]]:
    """The function scopes around `scope` (itself included; the program only when it is `scope`)."""
    keys = {_key(scope)}
    outer = scope
    cur = scope
    while cur.type != "program":
        parent = js.scope_of(cur)
        if parent == cur or parent.type == "program":
            break
        keys.add(_key(parent))
        outer = cur = parent
    return outer, keys


def _global_callback(js: _JsFile, scope: Node) -> tuple[str, _Val | None] | None:
    """`window[name] = fn`, `window.name = fn`, `$window[name] = ...` in the function loading the script
    or in a function enclosing it (a Promise executor inside the function that set the global)."""
    outer, chain_keys = _scope_chain(js, scope)
    for node in js._nodes("assignment_expression"):
        inside = outer.start_byte <= node.start_byte < outer.end_byte
        if not inside or _key(js.scope_of(node)) not in chain_keys:
            continue
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or left.type not in ("subscript_expression", "member_expression"):
            continue
        if right.type in _NOT_CALLBACKS:
            continue
        root = left
        chain: list[Node] = []
        while root.type in ("subscript_expression", "member_expression"):
            chain.append(root)
            inner = root.child_by_field_name("object")
            if inner is None:
                break
            root = _unwrap(inner)
        if js.text(root) not in _GLOBALS and not js.text(root).endswith("$window"):
            continue
        first = chain[-1]  # the access right on the global object
        if first.type == "member_expression":
            prop = js.text(first.child_by_field_name("property"))
            if prop.startswith("on") or prop in ("location", "document", "name", "status"):
                continue
        name_text = js.compact(left)
        name_text = name_text[len(js.text(root)) :].lstrip(".")
        val: _Val | None = None
        if first.type == "subscript_expression" and len(chain) == 1:
            index = first.child_by_field_name("index")
            val = js.eval(index)
            name_text = val.text if val.has_literal else js.compact(index)
        if not name_text:
            continue
        return name_text, val
    return None


_CALL_DETECTORS: tuple[CallDetector, ...] = (_jquery, _angular, _libraries, _dynamic_script)


# -------------------------------------------------------------------------------------- wrappers


def _function_name(js: _JsFile, fn: Node) -> tuple[str, str | None] | None:
    """(qualified name, bare method name or None) under which a function can be called."""
    if fn.type in ("function_declaration", "generator_function_declaration"):
        name = fn.child_by_field_name("name")
        return (js.text(name), None) if name is not None else None
    parent = fn.parent
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    if fn.type == "method_definition":
        method = js.text(fn.child_by_field_name("name"))
        return f"this.{method}", method
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        return js.text(parent.child_by_field_name("name")), None
    if parent.type == "assignment_expression":
        left = js.compact(parent.child_by_field_name("left"))
        head, dot, rest = left.partition(".")
        if dot and head in _GLOBALS:
            left = rest
        return left, (left.rpartition(".")[2] if "." in left else None)
    if parent.type == "pair":
        key = js.text(parent.child_by_field_name("key"))
        owner = parent.parent.parent if parent.parent is not None else None
        if owner is not None and owner.type == "variable_declarator":
            return f"{js.text(owner.child_by_field_name('name'))}.{key}", key
        return f"this.{key}", key
    return None


def _find_wrappers(js: _JsFile) -> list[Wrapper]:
    """Functions whose JSONP request takes its URL from one of their own parameters."""
    wrappers: list[Wrapper] = []
    by_fn: dict[_Key, Node] = {_key(fn): fn for fn in js._nodes(*_FUNCTIONS)}
    seen: set[_Key] = set()
    for found in js.found:
        if found.url_lead is None:
            continue
        for fn_key, index in (found.url_lead,):
            if fn_key in seen or fn_key not in by_fn:
                continue
            fn = by_fn[fn_key]
            named = _function_name(js, fn)
            if named is None:
                continue
            seen.add(fn_key)
            cb_index = next((i for k, i in sorted(found.cb_params) if k == fn_key), None)
            if cb_index is None and found.consumer.callback:
                # `?callback=${cb}`: the callback name is a parameter of the wrapper too
                param = js.scopes.get(fn_key, {}).get(found.consumer.callback.strip("{}"))
                cb_index = param if isinstance(param, int) and param >= 0 else None
            line, _ = js.position(fn)
            fixed = found.consumer.callback
            if fixed is not None and (cb_index is not None or "{" in fixed or "…" in fixed):
                fixed = None
            wrappers.append(Wrapper(named[0], named[1], index, cb_index, found.consumer.kind,
                                    found.consumer.callback_param, js.rel, line, fixed))
            found.consumer = _with_detail(found.consumer, f"inside JSONP wrapper {named[0]}")
            break
    return wrappers


def _wrapper_matches(wrapper: Wrapper, callee: str) -> bool:
    if callee == wrapper.name or callee.removeprefix("window.") == wrapper.name:
        return True
    if wrapper.member is None:
        return False
    if callee == f"this.{wrapper.member}":
        return True
    return (
        callee.endswith(f".{wrapper.member}")
        and wrapper.member not in _GENERIC_METHODS
        and len(wrapper.member) >= 5
    )


def _wrapper_call_sites(js: _JsFile, wrappers: list[Wrapper]) -> list[Wrapper]:
    """Record consumers for calls of `wrappers` in this file; returns wrappers newly found by nesting."""
    if not wrappers:
        return []
    before = len(js.found)
    for call in js._nodes("call_expression"):
        callee = js.compact(call.child_by_field_name("function"))
        wrapper = next((w for w in wrappers if _wrapper_matches(w, callee)), None)
        if wrapper is None:
            continue
        if wrapper.file == js.rel and _inside_named(js, call, wrapper):
            continue  # recursion inside the wrapper itself
        args = _args(call)
        if wrapper.url_index >= len(args):
            continue
        url = js.eval(args[wrapper.url_index])
        if not url.has_literal and url.lead is None:
            continue  # the URL is not visible at this call site
        cb: str | None = wrapper.fixed_callback
        cb_val: _Val | None = None
        if wrapper.callback_index is not None and wrapper.callback_index < len(args):
            cb, cb_val = js.callback_name(args[wrapper.callback_index])
        js.add(call, wrapper.kind, url, callback=cb, cb_val=cb_val, callback_param=wrapper.callback_param,
               detail=_call_detail(wrapper))
    added = js.found[before:]
    sub = _JsFile(js.rel, js.src, js.config, found=added, nodes=js.nodes, scopes=js.scopes,
                  line_starts=js.line_starts, line_base=js.line_base, col_base=js.col_base)
    return _find_wrappers(sub)


def _call_detail(wrapper: Wrapper) -> str:
    if wrapper.line == 0:
        return f"call of configured JSONP helper {wrapper.name}"
    return f"call of JSONP wrapper {wrapper.name} ({wrapper.file}:{wrapper.line})"


def _inside_named(js: _JsFile, call: Node, wrapper: Wrapper) -> bool:
    cur = call.parent
    while cur is not None:
        if cur.type in _FUNCTIONS:
            named = _function_name(js, cur)
            if named is not None and named[0] == wrapper.name:
                return True
        cur = cur.parent
    return False


def _call_facts(js: _JsFile) -> list[dict[str, Any]]:
    """Calls with at least one URL-ish literal argument: candidates for wrappers defined in other files."""
    out: list[dict[str, Any]] = []
    # Names that can stand for a string or a constant object: only those are worth evaluating.
    valued = {
        name for table in js.scopes.values() for name, value in table.items()
        if isinstance(value, Node) and value.type in _VALUE_NODES
    }
    for call in js._nodes("call_expression"):
        fn = call.child_by_field_name("function")
        if fn is None or fn.type not in ("identifier", "member_expression"):
            continue
        args = _args(call)
        rendered: list[str | None] = []
        urlish = False
        for arg in args[:4]:
            raw = js.src[arg.start_byte : arg.end_byte]
            if arg.type in ("string", "template_string", "binary_expression"):
                worth = b"/" in raw or b"=" in raw
            else:
                worth = raw.split(b".", 1)[0].decode("utf-8", "replace") in valued
            if arg.type in _URLISH_NODES and worth:
                val = js.eval(arg)
                text = val.text if val.has_literal else None
                if text and ("/" in text or "=" in text):
                    urlish = True
                rendered.append(text)
            else:
                rendered.append(None)
        if urlish:
            line, col = js.position(call)
            out.append({"callee": js.compact(fn), "line": line, "column": col, "args": rendered})
    return out


# ------------------------------------------------------------------------------------------ entry


def analyze_js_text(
    text: str, rel: str, config: ScanConfig, *, line_base: int = 0, col_base: int = 0, dialect: str = "js"
) -> FileFindings:
    """Consumers in one piece of JavaScript (or TypeScript: `dialect` "ts"/"tsx"); positions are shifted by
    `line_base`/`col_base` (0-based)."""
    src = text.encode("utf-8", "surrogatepass")
    parser, query = _get_tools(dialect)
    tree = parser.parse(src)
    js = _JsFile(rel, src, config, line_base=line_base, col_base=col_base)
    js.line_starts = [0] + [m.end() for m in re.finditer(rb"\n", src)]
    js.collect(tree.root_node, query)
    for call in js._nodes("call_expression"):
        fn = call.child_by_field_name("function")
        if fn is None or fn.type not in ("identifier", "member_expression"):
            continue
        callee = js.compact(fn)
        for detector in _CALL_DETECTORS:
            detector(js, call, callee)
    for new_expr in js._nodes("new_expression"):
        _new_libraries(js, new_expr, js.compact(new_expr.child_by_field_name("constructor")))
    _ext_proxy_objects(js)
    _jsonp_option_objects(js)
    _markup_in_strings(js)
    wrappers = _find_wrappers(js)
    wrappers += [Wrapper(name, None, 0, None, "other", None, "[tool.jsonp2cors] helpers", 0)
                 for name in config.helper_names]
    all_wrappers = list(wrappers)
    new = list(wrappers)
    for _ in range(4):
        new = _wrapper_call_sites(js, new)
        if not new:
            break
        all_wrappers += new
    consumers = [f.consumer for f in js.found]
    findings = FileFindings(consumers=_dedupe(consumers), errors=js.errors, parsed=True)
    local = [w for w in all_wrappers if w.file == rel]
    findings.facts = {
        "wrappers": [w.__dict__ for w in local],
        "calls": _call_facts(js),
        FOLLOWUP_KEY: sorted({(w.member or w.name.rpartition(".")[2]).lower().encode() for w in local}
                             | {n.rpartition(".")[2].lower().encode() for n in config.helper_names}),
    }
    return findings


def _with_detail(c: Consumer, extra: str) -> Consumer:
    return replace(c, detail=f"{c.detail}; {extra}" if c.detail else extra)


def _dedupe(consumers: list[Consumer]) -> list[Consumer]:
    seen: set[tuple[int, int, str]] = set()
    out = []
    for c in consumers:
        key = (c.line, c.column, c.kind)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _markup_in_strings(js: _JsFile) -> None:
    """`<script src=...?callback=...>` written inside JavaScript strings and template literals."""
    from jsonp2cors.scan.markup import script_tags_in_text

    for node in js._nodes("string", "template_string"):
        raw = js.text(node)
        if "<script" not in raw.lower() or len(raw) < 3:
            continue
        line, col = js.position(node)
        for consumer in script_tags_in_text(raw[1:-1], js.rel, js.config, line_base=line - 1, col_base=col):
            js.found.append(_Found(consumer, None))


def analyze_js_file(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """The analyzer function for JavaScript and TypeScript files."""
    if rel.lower().endswith((".d.ts", ".d.mts", ".d.cts")):
        return FileFindings()  # declarations only
    if not config.include_vendored:
        longest = looks_minified(data)
        if longest is not None:
            message = f"looks minified (a {longest}-character line); skipped (--include-vendored scans it)"
            return FileFindings(errors=[ScanError(rel, message)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    return analyze_js_text(text, rel, config, dialect=dialect_of(rel))


def finish_wrappers(items: list[tuple[str, dict[str, Any]]], config: ScanConfig) -> FileFindings:
    """Whole-repo pass: call sites of JSONP wrappers defined in another file."""
    wrappers = [Wrapper(**w) for _, facts in items for w in facts.get("wrappers", ())]
    out = FileFindings()
    if not wrappers:
        return out
    local_names = {rel: {w["name"] for w in facts.get("wrappers", ())} for rel, facts in items}
    for rel, facts in items:
        for call in facts.get("calls", ()):
            if any(_wrapper_matches(Wrapper(n, None, 0, None, "", None, rel, 0), call["callee"])
                   for n in local_names.get(rel, ())):
                continue  # a wrapper of the same name in this file shadows the others (handled per file)
            for w in wrappers:
                if w.file == rel or not _wrapper_matches(w, call["callee"]):
                    continue
                args = call["args"]
                if w.url_index >= len(args) or not args[w.url_index]:
                    continue
                url = args[w.url_index]
                parts = parse_url(url)
                cb_hit = callback_in_query(parts, config.callback_params)
                cb = w.fixed_callback
                if w.callback_index is not None and w.callback_index < len(args):
                    cb = args[w.callback_index]
                out.consumers.append(Consumer(
                    file=rel, line=call["line"], column=call["column"], kind=w.kind, url=url,
                    callback=cb or (cb_hit[1] if cb_hit else None), target=parts.origin,
                    callback_param=w.callback_param or (cb_hit[0] if cb_hit else None),
                    detail=_call_detail(w),
                ))
                break
    return out
