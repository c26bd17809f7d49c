"""JavaScript JSONP consumers -> JSON requests (jQuery, AngularJS, injected scripts, fetch-jsonp).

Edits are byte spans of the tree-sitter parse tree; every result is parsed again and an edit that would
add a parse error is dropped (the consumer is declined instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser, Tree

from jsonp2cors.findings import Consumer
from jsonp2cors.scan.base import DEFAULT_CALLBACK_PARAMS

IDENT_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_PARAM_IN_URL = r"(?P<sep>[?&])(?P<name>{names})=(?P<value>\$\{{[^}}]*\}}|[^&#`$]*)"
_TAIL_PARAM = re.compile(r"(?P<sep>[?&]?)(?P<name>[\w.\[\]-]+)=$")
_SCRIPT_ELEMENT_PROPS = frozenset({"async", "defer", "type", "charset", "id", "crossOrigin", "referrerPolicy"})


@lru_cache(maxsize=1)
def parser() -> Parser:
    return Parser(Language(tree_sitter_javascript.language()))


class Decline(Exception):
    """This consumer is left alone; the message says why."""


@dataclass(frozen=True)
class JsOutcome:
    line: int
    kind: str
    note: str


@dataclass(frozen=True)
class JsResult:
    text: str
    changed: tuple[JsOutcome, ...] = ()
    declined: tuple[JsOutcome, ...] = ()
    covered: tuple[JsOutcome, ...] = ()


Edit = tuple[int, int, bytes]


def credentials_mode(consumer: Consumer) -> tuple[str, str | None]:
    """fetch() credentials mode for a consumer, and a note when it had to be guessed."""
    if consumer.credentials is True:
        return "include", None
    if consumer.credentials is False:
        return "same-origin", None
    return "same-origin", ("credentials unknown (no linked endpoint): same-origin used; "
                           "use 'include' if the endpoint reads cookies")


def callback_call(callback: str, data: str = "data") -> str:
    """How the old script called its callback, as an arrow function over the parsed JSON."""
    return f"({data}) => {callback}({data})"


# A script element fires `error` and runs nothing on a non-2xx answer; the fetch() that replaces it does the same.
PARSE_OK = '(r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))'


def fetch_chain(url_js: str, mode: str, then: str, on_error: str | None = None) -> str:
    """`fetch(url, {credentials}).then(parse).then(then[, on_error])` as one expression."""
    handlers = then if on_error is None else f"{then}, {on_error}"
    return f'fetch({url_js}, {{credentials: "{mode}"}}).then({PARSE_OK}).then({handlers})'


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def error_count(tree: Tree) -> int:
    return sum(1 for n in _walk(tree.root_node) if n.type == "ERROR" or n.is_missing)


def apply_edits(src: bytes, edits: Sequence[Edit]) -> bytes:
    out = src
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _overlap(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    return any((x[0] < y[1] and y[0] < x[1]) or (x[0] == y[0] and x[1] == y[1]) for x in a for y in b)


class _Doc:
    def __init__(self, src: bytes) -> None:
        self.src = src
        self.tree = parser().parse(src)

    def text(self, node: Node | None) -> str:
        return "" if node is None else self.src[node.start_byte:node.end_byte].decode("utf-8")

    def line_start(self, pos: int) -> int:
        return self.src.rfind(b"\n", 0, pos) + 1

    def line_end(self, pos: int) -> int:
        end = self.src.find(b"\n", pos)
        return len(self.src) if end == -1 else end + 1

    def indent_of(self, node: Node) -> str:
        start = self.line_start(node.start_byte)
        line = self.src[start:node.start_byte].decode("utf-8")
        return line[: len(line) - len(line.lstrip())]

    def at_row(self, row: int, types: tuple[str, ...]) -> list[Node]:
        return [n for n in _walk(self.tree.root_node) if n.type in types and n.start_point.row == row]


# ------------------------------------------------------------------------------------ small helpers
def _args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [] if arguments is None else [a for a in arguments.named_children if a.type != "comment"]


def _pairs(doc: _Doc, obj: Node) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for pair in obj.named_children:
        if pair.type != "pair":
            continue
        key = pair.child_by_field_name("key")
        name = doc.text(key)
        if key is not None and key.type == "string":
            name = name[1:-1]
        out[name] = pair
    return out


def _string_raw(doc: _Doc, node: Node | None) -> str | None:
    if node is None or node.type not in ("string", "template_string"):
        return None
    if node.type == "template_string" and any(c.type == "template_substitution" for c in node.named_children):
        return None
    return doc.text(node)[1:-1]


def _quote(doc: _Doc, like: Node | None, raw: str) -> str:
    quote = doc.text(like)[0] if like is not None and like.type == "string" else '"'
    return f"{quote}{raw}{quote}"


def _remove_pair(doc: _Doc, pair: Node) -> Edit:
    src = doc.src
    nxt = pair.next_sibling
    comma_after = nxt is not None and nxt.type == ","
    end = nxt.end_byte if comma_after and nxt is not None else pair.end_byte
    line_start = doc.line_start(pair.start_byte)
    line_end = doc.line_end(end)
    before = src[line_start:pair.start_byte]
    after = src[end:line_end]
    if not before.strip() and not after.strip():
        if not comma_after:  # last pair on its own line: also drop the comma ending the previous line
            prev = pair.prev_sibling
            if prev is not None and prev.type == ",":
                return (prev.start_byte, line_end - 1 if src[line_end - 1:line_end] == b"\n" else line_end, b"")
        return (line_start, line_end, b"")
    if comma_after:
        following = nxt.next_named_sibling if nxt is not None else None
        if following is not None and following.type != "comment":
            return (pair.start_byte, following.start_byte, b"")
        start = pair.start_byte
        while start > 0 and src[start - 1:start] in (b" ", b"\t"):
            start -= 1
        return (start if src[start - 1:start] == b"," else pair.start_byte, end, b"")
    prev = pair.prev_sibling
    if prev is not None and prev.type == ",":
        return (prev.start_byte, pair.end_byte, b"")
    return (pair.start_byte, pair.end_byte, b"")


def _add_pair(doc: _Doc, obj: Node, text: str) -> Edit:
    pairs = [c for c in obj.named_children if c.type in ("pair", "shorthand_property_identifier",
                                                          "method_definition", "spread_element")]
    if not pairs:
        return (obj.start_byte, obj.end_byte, ("{" + text + "}").encode())
    last = pairs[-1]
    nxt = last.next_sibling
    trailing_comma = nxt is not None and nxt.type == ","
    multiline = last.start_point.row != obj.start_point.row and last.start_point.row != (
        pairs[-2].start_point.row if len(pairs) > 1 else obj.start_point.row)
    if multiline or (len(pairs) == 1 and last.start_point.row != obj.start_point.row):
        indent = doc.indent_of(last)
        if trailing_comma and nxt is not None:
            return (nxt.end_byte, nxt.end_byte, f"\n{indent}{text},".encode())
        return (last.end_byte, last.end_byte, f",\n{indent}{text}".encode())
    if trailing_comma and nxt is not None:
        return (nxt.end_byte, nxt.end_byte, f" {text},".encode())
    return (last.end_byte, last.end_byte, f", {text}".encode())


def callback_params_for(consumer: Consumer, extra: Sequence[str] = ()) -> list[str]:
    names = [consumer.callback_param] if consumer.callback_param else []
    names += list(extra) + list(DEFAULT_CALLBACK_PARAMS)
    return list(dict.fromkeys(n for n in names if n))


def strip_param_raw(raw: str, params: Sequence[str]) -> tuple[str, str] | None:
    """Remove the first `?name=value` / `&name=value` of a callback parameter from raw URL text."""
    pattern = re.compile(_PARAM_IN_URL.format(names="|".join(re.escape(p) for p in params)), re.IGNORECASE)
    for found in pattern.finditer(raw):
        end = found.end()
        if end < len(raw) and raw[end] not in "&#":
            continue
        value = found.group("value")
        if found.group("sep") == "?" and raw[end:end + 1] == "&":
            return raw[:found.start()] + "?" + raw[end + 1:], value
        return raw[:found.start()] + raw[end:], value
    return None


def _statement_removal(doc: _Doc, stmt: Node) -> Edit:
    """Remove a statement with its line when it has one to itself; a trailing comment stays, re-indented."""
    start, end = doc.line_start(stmt.start_byte), doc.line_end(stmt.end_byte)
    if doc.src[start:stmt.start_byte].strip():
        return (stmt.start_byte, stmt.end_byte, b"")
    rest = doc.src[stmt.end_byte:end]
    if not rest.strip():
        return (start, end, b"")
    after = stmt.next_sibling
    if after is not None and after.type == "comment" and after.start_point.row == stmt.end_point.row:
        return (stmt.start_byte, after.start_byte, b"")
    return (stmt.start_byte, stmt.end_byte, b"")


def _plus_parts(node: Node) -> list[Node]:
    if node.type == "binary_expression" and node.child_by_field_name("operator") is not None and (
        node.child_by_field_name("operator").type == "+"  # type: ignore[union-attr]
    ):
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        assert left is not None and right is not None
        return [*_plus_parts(left), right]
    return [node]


def _sep_only(doc: _Doc, node: Node) -> bool:
    """`(cond ? "?" : "&")`: a part that only supplies the query separator."""
    inner = node.named_children[0] if node.type == "parenthesized_expression" and node.named_children else node
    if inner.type != "ternary_expression":
        return False
    branches = [inner.child_by_field_name("consequence"), inner.child_by_field_name("alternative")]
    return all(_string_raw(doc, b) in ("?", "&", "") for b in branches)


@dataclass
class UrlStrip:
    text: str  # the URL expression without the callback parameter
    callback: str | None  # the callback's value: literal text, "?" for jQuery, or a JS expression
    callback_is_expr: bool = False


def strip_url(doc: _Doc, node: Node, params: Sequence[str]) -> UrlStrip | None:
    """The URL expression `node` without its callback parameter, or None when it has none."""
    raw = _string_raw(doc, node)
    if raw is not None:
        found = strip_param_raw(raw, params)
        if found is None:
            return None
        return UrlStrip(_quote(doc, node, found[0]), found[1])
    if node.type == "template_string":
        body = doc.text(node)[1:-1]
        found = strip_param_raw(body, params)
        if found is None:
            return None
        value = found[1]
        is_expr = value.startswith("${")
        return UrlStrip("`" + found[0] + "`", value[2:-1] if is_expr else value, is_expr)
    parts = _plus_parts(node)
    if len(parts) < 2:
        return None
    texts = [doc.text(p) for p in parts]
    lower = [p.lower() for p in params]
    for i, part in enumerate(parts):
        raw = _string_raw(doc, part)
        if raw is None:
            continue
        found = strip_param_raw(raw, params)
        if found is not None:
            texts[i] = _quote(doc, part, found[0])
            if not found[0] and len(parts) > 1:
                texts[i] = ""
            return UrlStrip(" + ".join(t for t in texts if t), found[1])
        tail = _TAIL_PARAM.search(raw)
        if tail is None or tail.group("name").lower() not in lower or i + 1 >= len(parts):
            continue
        callback = texts[i + 1]
        kept = raw[:tail.start()]
        sep = tail.group("sep")
        texts[i + 1] = ""
        nxt = _string_raw(doc, parts[i + 2]) if i + 2 < len(parts) else None
        if nxt is not None and nxt.startswith("&"):
            texts[i + 2] = _quote(doc, parts[i + 2], nxt[1:])
            if sep == "&":
                kept += "&"
            elif sep == "?":
                kept += "?"
        texts[i] = _quote(doc, part, kept) if kept else ""
        if not kept and i + 1 == len(parts) - 1 and i > 0:
            # what is left ends with a separator-only part or a literal ending in ? or &: drop it
            prev = parts[i - 1]
            prev_raw = _string_raw(doc, prev)
            if _sep_only(doc, prev):
                texts[i - 1] = ""
            elif prev_raw is not None and prev_raw.endswith(("?", "&")) and not sep:
                texts[i - 1] = _quote(doc, prev, prev_raw[:-1]) if prev_raw[:-1] else ""
        joined = " + ".join(t for t in texts if t)
        return UrlStrip(joined or '""', callback, True)
    return None


# ------------------------------------------------------------------------------------------ the kinds
class _Rewriter:
    def __init__(self, doc: _Doc, consumer: Consumer, row: int, notes: list[str]) -> None:
        self.doc = doc
        self.consumer = consumer
        self.row = row
        self.notes = notes
        mode, note = credentials_mode(consumer)
        self.mode = mode
        if note:
            notes.append(note)

    def calls(self, predicate: Callable[[str], bool]) -> list[Node]:
        found = [n for n in self.doc.at_row(self.row, ("call_expression",))
                 if predicate(self.doc.text(n.child_by_field_name("function")))]
        if not found:
            found = [n for n in _walk(self.doc.tree.root_node) if n.type == "call_expression"
                     and n.start_point.row <= self.row <= n.end_point.row
                     and predicate(self.doc.text(n.child_by_field_name("function")))]
            found.sort(key=lambda n: n.end_byte - n.start_byte)
        return found

    def pick(self, nodes: list[Node]) -> Node:
        if not nodes:
            raise Decline("could not locate the call at this line")
        col = self.consumer.column - 1
        if len(nodes) > 1 and self.consumer.column > 1:
            nodes = sorted(nodes, key=lambda n: abs(n.start_point.column - col))
        return nodes[0]

    # jQuery ---------------------------------------------------------------------------------------
    def jquery(self) -> list[Edit]:
        call = self.pick(self.calls(lambda f: f.split(".")[-1] in ("ajax", "getJSON", "get", "post")
                                    and f.split(".")[0] in ("$", "jQuery", "jquery", "$j")))
        doc = self.doc
        method = doc.text(call.child_by_field_name("function")).split(".")[-1]
        args = _args(call)
        edits: list[Edit] = []
        settings: Node | None = None
        url: Node | None = None
        extra: list[str] = []
        if method == "ajax":
            if args and args[0].type == "object":
                settings = args[0]
            elif len(args) >= 2 and args[1].type == "object":
                url, settings = args[0], args[1]
            elif args:
                url = args[0]
        elif args:
            url = args[0]
        changed_type = False
        specific = False  # dataType, jsonp options or a callback parameter actually changed
        if settings is not None:
            pairs = _pairs(doc, settings)
            data_type = pairs.get("dataType")
            value = data_type.child_by_field_name("value") if data_type is not None else None
            raw = _string_raw(doc, value)
            if data_type is not None and raw is not None and raw.lower() == "jsonp":
                assert value is not None
                edits.append((value.start_byte, value.end_byte, _quote(doc, value, "json").encode()))
                changed_type = True
            elif data_type is not None and raw is None:
                raise Decline("dataType is not a literal")
            for key in ("type", "method"):
                verb = pairs.get(key)
                raw_verb = _string_raw(doc, verb.child_by_field_name("value")) if verb is not None else None
                if changed_type and verb is not None and (raw_verb or "").upper() != "GET":
                    # JSONP could only GET (jQuery ignored `type`); a JSON request would really POST
                    edits.append(_remove_pair(doc, verb))
                    self.notes.append(f"`{key}: {raw_verb}` dropped: JSONP always sent a GET")
            jsonp_opt = pairs.get("jsonp")
            if jsonp_opt is not None:
                opt_raw = _string_raw(doc, jsonp_opt.child_by_field_name("value"))
                if opt_raw:
                    extra.append(opt_raw)
                edits.append(_remove_pair(doc, jsonp_opt))
                specific = True
            named = pairs.get("jsonpCallback")
            if named is not None:
                name = _string_raw(doc, named.child_by_field_name("value"))
                edits.append(_remove_pair(doc, named))
                specific = True
                if name and "success" not in pairs:
                    if not IDENT_PATH.fullmatch(name):
                        raise Decline(f"jsonpCallback {name!r} is not a plain function name")
                    # jQuery used to call a global function of that name too; keep calling it
                    edits.append(_add_pair(doc, settings, f"success: function (data) {{ {name}(data); }}"))
                    self.notes.append(f"jsonpCallback {name} is now the success handler")
            if "url" in pairs:
                url = pairs["url"].child_by_field_name("value")
            if self.mode == "include" and "xhrFields" not in pairs:
                edits.append(_add_pair(doc, settings, "xhrFields: {withCredentials: true}"))
        for arg in args[1:]:
            raw = _string_raw(doc, arg)
            if raw is not None and raw.lower() == "jsonp":
                edits.append((arg.start_byte, arg.end_byte, _quote(doc, arg, "json").encode()))
                changed_type = True
        if url is not None:
            stripped = strip_url(doc, url, callback_params_for(self.consumer, extra))
            if stripped is not None:
                edits.append((url.start_byte, url.end_byte, stripped.text.encode()))
                specific = True
        specific = specific or changed_type
        if not specific:
            raise Decline("nothing JSONP-specific found in this call")
        if settings is None and self.mode == "include":
            if method != "getJSON":
                raise Decline(f"$.{method} with positional arguments cannot send cookies; rewrite by hand")
            return self._getjson_to_ajax(call, args, edits)
        return edits

    def _getjson_to_ajax(self, call: Node, args: list[Node], edits: list[Edit]) -> list[Edit]:
        doc = self.doc
        url_text = doc.text(args[0])
        for start, end, new in edits:
            if start == args[0].start_byte and end == args[0].end_byte:
                url_text = new.decode()
        parts = [f"url: {url_text}", 'dataType: "json"']
        rest = args[1:]
        if len(rest) == 2:
            parts += [f"data: {doc.text(rest[0])}", f"success: {doc.text(rest[1])}"]
        elif len(rest) == 1:
            key = "data" if rest[0].type == "object" else "success"
            parts.append(f"{key}: {doc.text(rest[0])}")
        elif rest:
            raise Decline("unexpected $.getJSON arguments")
        parts.append("xhrFields: {withCredentials: true}")
        func = call.child_by_field_name("function")
        assert func is not None
        prefix = doc.text(func).rsplit(".", 1)[0]
        arguments = call.child_by_field_name("arguments")
        assert arguments is not None
        return [(call.start_byte, arguments.end_byte, f"{prefix}.ajax({{{', '.join(parts)}}})".encode())]

    # AngularJS ------------------------------------------------------------------------------------
    def angular(self) -> list[Edit]:
        doc = self.doc
        calls = self.calls(lambda f: f.endswith(".jsonp"))
        if calls:
            return self._http_jsonp(self.pick(calls))
        for pair in doc.at_row(self.row, ("pair",)):
            key = doc.text(pair.child_by_field_name("key")).strip("'\"")
            value = pair.child_by_field_name("value")
            if key == "method" and (_string_raw(doc, value) or "").upper() == "JSONP":
                assert value is not None and pair.parent is not None
                return self._jsonp_method_object(pair.parent, value)
        raise Decline("could not locate the AngularJS JSONP call at this line")

    def _http_jsonp(self, call: Node) -> list[Edit]:
        doc = self.doc
        func = call.child_by_field_name("function")
        assert func is not None
        prop = func.child_by_field_name("property")
        assert prop is not None
        edits: list[Edit] = [(prop.start_byte, prop.end_byte, b"get")]
        args = _args(call)
        if not args:
            raise Decline("$http.jsonp without a URL")
        url = args[0]
        url_text = doc.text(url)
        url_node = url
        if url.type == "call_expression" and doc.text(url.child_by_field_name("function")).endswith(
            "trustAsResourceUrl"
        ):
            inner = _args(url)
            if len(inner) != 1:
                raise Decline("unexpected $sce.trustAsResourceUrl arguments")
            url_node = inner[0]
            url_text = doc.text(url_node)
            self.notes.append("$sce.trustAsResourceUrl unwrapped (only JSONP needed it)")
        cfg = args[1] if len(args) > 1 else None
        extra: list[str] = []
        cfg_edits: list[Edit] = []
        if cfg is not None and cfg.type == "object":
            pairs = _pairs(doc, cfg)
            param = pairs.get("jsonpCallbackParam")
            if param is not None:
                raw = _string_raw(doc, param.child_by_field_name("value"))
                if raw:
                    extra.append(raw)
                cfg_edits.append(_remove_pair(doc, param))
            if self.mode == "include" and "withCredentials" not in pairs:
                if param is not None and len(pairs) == 1:
                    cfg_edits = [(cfg.start_byte, cfg.end_byte, b"{ withCredentials: true }")]
                else:
                    cfg_edits.append(_add_pair(doc, cfg, "withCredentials: true"))
            elif param is not None and len(pairs) == 1 and len(args) == 2:
                cfg_edits = [(args[0].end_byte, cfg.end_byte, b"")]
        elif cfg is not None and self.mode == "include":
            raise Decline("the $http config is not an object literal; add withCredentials by hand")
        elif cfg is None and self.mode == "include":
            cfg_edits.append((url.end_byte, url.end_byte, b", { withCredentials: true }"))
        stripped = strip_url(doc, url_node, callback_params_for(self.consumer, [*extra, "callback"]))
        if stripped is not None:
            url_text = stripped.text
        if url_text != doc.text(url):
            edits.append((url.start_byte, url.end_byte, url_text.encode()))
        return edits + cfg_edits

    def _jsonp_method_object(self, obj: Node, method_value: Node) -> list[Edit]:
        doc = self.doc
        edits: list[Edit] = [(method_value.start_byte, method_value.end_byte,
                              _quote(doc, method_value, "GET").encode())]
        pairs = _pairs(doc, obj)
        params = pairs.get("params")
        params_obj = params.child_by_field_name("value") if params is not None else None
        if params is not None and params_obj is not None and params_obj.type == "object":
            inner = _pairs(doc, params_obj)
            drop = [p for p in inner.values() if _string_raw(doc, p.child_by_field_name("value")) == "JSON_CALLBACK"]
            if drop and len(drop) == len(inner):
                edits.append(_remove_pair(doc, params))
            else:
                edits += [_remove_pair(doc, p) for p in drop]
        url = pairs.get("url")
        url_value = url.child_by_field_name("value") if url is not None else None
        if url_value is not None:
            stripped = strip_url(doc, url_value, callback_params_for(self.consumer, ["callback", "jsonp"]))
            if stripped is not None:
                edits.append((url_value.start_byte, url_value.end_byte, stripped.text.encode()))
        if self.mode == "include" and "withCredentials" not in pairs:
            edits.append(_add_pair(doc, obj, "withCredentials: true"))
        return edits

    # injected <script> ----------------------------------------------------------------------------
    def dynamic_script(self) -> list[Edit]:
        doc = self.doc
        creates = self.calls(lambda f: f.endswith("createElement"))
        creates = [c for c in creates if _args(c) and (_string_raw(doc, _args(c)[0]) or "").lower() == "script"]
        if not creates:
            raise Decline("could not locate document.createElement('script') at this line")
        create = self.pick(creates)
        holder = create.parent
        if holder is None:
            raise Decline("unexpected createElement context")
        if holder.type == "variable_declarator":
            var = holder.child_by_field_name("name")
            statement = holder.parent
            if statement is None or len([c for c in statement.named_children if c.type == "variable_declarator"]) != 1:
                raise Decline("the script element is declared together with other variables")
        elif holder.type == "assignment_expression" and holder.parent is not None and (
            holder.parent.type == "expression_statement"
        ):
            var = holder.child_by_field_name("left")
            statement = holder.parent
        else:
            raise Decline("the script element is not kept in a variable")
        if var is None or var.type != "identifier" or statement is None or statement.parent is None:
            raise Decline("the script element is not kept in a plain variable")
        name = doc.text(var)
        block = statement.parent
        siblings = [c for c in block.named_children if c.start_byte > statement.end_byte]
        url: Node | None = None
        append: Node | None = None
        removals: list[Node] = [statement]
        for stmt in siblings:
            uses = [n for n in _walk(stmt) if n.type == "identifier" and doc.text(n) == name]
            if not uses:
                continue
            role = self._script_use(stmt, name)
            if role is None:
                raise Decline(f"the script element `{name}` is also used for `{doc.text(stmt)[:50]}`")
            kind, node = role
            if kind == "src":
                url = node
                removals.append(stmt)
            elif kind == "prop":
                removals.append(stmt)
            elif kind == "append":
                append = stmt
                break
        scope = block
        outside = [n for n in _walk(scope) if n.type == "identifier" and doc.text(n) == name
                   and not any(r.start_byte <= n.start_byte < r.end_byte for r in [*removals, *(
                       [append] if append is not None else [])])]
        if outside:
            raise Decline(f"the script element `{name}` is used elsewhere (line {outside[0].start_point.row + 1})")
        if url is None or append is None:
            raise Decline("the script element's src or its insertion into the page was not found")
        stripped = strip_url(doc, url, callback_params_for(self.consumer))
        url_text = doc.text(url) if stripped is None else stripped.text
        callback = self._callback_expression(stripped, block, statement)
        fetch = fetch_chain(url_text, self.mode, callback) + ";"
        edits: list[Edit] = [(append.start_byte, append.end_byte, fetch.encode())]
        for stmt in removals:
            edits.append(_statement_removal(doc, stmt))
        self.notes.append("injected <script> replaced by fetch(); the callback now runs after a promise tick")
        return edits

    def _script_use(self, stmt: Node, name: str) -> tuple[str, Node] | None:
        doc = self.doc
        if stmt.type != "expression_statement" or not stmt.named_children:
            return None
        expr = stmt.named_children[0]
        if expr.type == "assignment_expression":
            left = expr.child_by_field_name("left")
            right = expr.child_by_field_name("right")
            if left is not None and left.type == "member_expression" and doc.text(
                left.child_by_field_name("object")
            ) == name and right is not None:
                prop = doc.text(left.child_by_field_name("property"))
                if prop == "src":
                    return "src", right
                if prop in _SCRIPT_ELEMENT_PROPS and not any(
                    n.type == "identifier" and doc.text(n) == name for n in _walk(right)
                ):
                    return "prop", right
            return None
        if expr.type == "call_expression":
            func = doc.text(expr.child_by_field_name("function"))
            args = _args(expr)
            if func == f"{name}.setAttribute" and len(args) == 2:
                key = _string_raw(doc, args[0])
                if key == "src":
                    return "src", args[1]
                if key in ("async", "defer", "type", "charset", "id"):
                    return "prop", args[1]
                return None
            method = func.rsplit(".", 1)[-1]
            if method in ("appendChild", "insertBefore", "append", "prepend") and args and doc.text(args[0]) == name:
                others = [n for a in args[1:] for n in _walk(a) if n.type == "identifier" and doc.text(n) == name]
                if not others and name not in func:
                    return "append", expr
        return None

    def _callback_expression(self, stripped: UrlStrip | None, block: Node, statement: Node) -> str:
        if stripped is not None and stripped.callback:
            if not stripped.callback_is_expr:
                if not IDENT_PATH.fullmatch(stripped.callback):
                    raise Decline(f"callback {stripped.callback!r} is not a plain function name")
                return callback_call(stripped.callback)
            return f"((name) => (data) => window[name](data))({stripped.callback})"
        # No callback in the URL: the page pairs the script with a global it defines itself.
        doc = self.doc
        for stmt in block.named_children:
            if stmt.start_byte >= statement.start_byte:
                break
            expr = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_children else None
            if expr is None or expr.type != "assignment_expression":
                continue
            left = expr.child_by_field_name("left")
            if left is None:
                continue
            if left.type == "subscript_expression" and doc.text(left.child_by_field_name("object")) in (
                "window", "$window", "self", "globalThis"
            ):
                holder = doc.text(left.child_by_field_name("object"))
                index = doc.text(left.child_by_field_name("index"))
                return f"((name) => (data) => {holder}[name](data))({index})"
            if left.type == "member_expression" and doc.text(left.child_by_field_name("object")) in (
                "window", "$window", "self", "globalThis"
            ):
                return callback_call(doc.text(left))
        raise Decline("no callback name in the URL and no global callback next to the script")

    # wrappers and libraries -----------------------------------------------------------------------
    def wrapper_call(self) -> list[Edit]:
        detail = self.consumer.detail or ""
        wrapper = detail.split("wrapper", 1)[1].split()[0] if "wrapper" in detail else ""
        calls = self.calls(lambda f: bool(wrapper) and f.split(".")[-1] == wrapper)
        call = self.pick(calls)
        args = _args(call)
        if not args:
            return []
        stripped = strip_url(self.doc, args[0], callback_params_for(self.consumer))
        if stripped is None:
            return []
        return [(args[0].start_byte, args[0].end_byte, stripped.text.encode())]

    def npm_jsonp(self) -> list[Edit]:
        """The npm `jsonp` package: `jsonp(url, [opts], fn(err, data))` -> fetch() calling fn the same way."""
        doc = self.doc
        call = self.pick(self.calls(lambda f: "." not in f and "jsonp" in f.lower()))
        statement = call.parent
        if statement is None or statement.type != "expression_statement":
            raise Decline("the jsonp() call's return value (its cancel function) is used")
        args = _args(call)
        if len(args) == 3 and args[1].type == "object":
            options: Node | None = args[1]
        elif len(args) == 2:
            options = None
        else:
            raise Decline("jsonp() without a callback, or with options that are not an object literal")
        extra: list[str] = []
        if options is not None:
            pairs = _pairs(doc, options)
            unknown = set(pairs) - {"param", "name", "prefix", "timeout"}
            if unknown:
                raise Decline(f"jsonp() options {sorted(unknown)} have no fetch() equivalent")
            param = _string_raw(doc, pairs["param"].child_by_field_name("value")) if "param" in pairs else None
            if param:
                extra.append(param.split("=")[0])
            if "timeout" in pairs:
                self.notes.append("fetch() has no timeout option; the jsonp timeout was dropped")
        stripped = strip_url(doc, args[0], callback_params_for(self.consumer, extra))
        url = doc.text(args[0]) if stripped is None else stripped.text
        done = doc.text(args[-1])
        chain = (f'fetch({url}, {{credentials: "{self.mode}"}}).then((r) => r.json())'
                 ".then((data) => done(null, data), (err) => done(err))")
        return [(call.start_byte, call.end_byte, f"((done) => {chain})({done})".encode())]

    def yui_jsonp(self) -> list[Edit]:
        """YUI `Y.jsonp(url_with_{callback}, fn)` -> fetch() then fn(data)."""
        doc = self.doc
        call = self.pick(self.calls(lambda f: f.endswith(".jsonp")))
        statement = call.parent
        if statement is None or statement.type != "expression_statement":
            raise Decline("the Y.jsonp() return value is used")
        args = _args(call)
        if len(args) != 2 or args[1].type not in ("function_expression", "arrow_function", "identifier",
                                                  "member_expression"):
            raise Decline("Y.jsonp() with a configuration object; rewrite by hand")
        stripped = strip_url(doc, args[0], callback_params_for(self.consumer))
        url = doc.text(args[0]) if stripped is None else stripped.text
        chain = fetch_chain(url, self.mode, doc.text(args[1]))
        return [(call.start_byte, call.end_byte, chain.encode())]

    def fetch_jsonp(self) -> list[Edit]:
        doc = self.doc
        call = self.pick(self.calls(lambda f: f in ("fetchJsonp", "fetchJSONP")))
        func = call.child_by_field_name("function")
        assert func is not None
        edits: list[Edit] = [(func.start_byte, func.end_byte, b"fetch")]
        args = _args(call)
        if not args:
            raise Decline("fetchJsonp without a URL")
        extra: list[str] = []
        options = args[1] if len(args) > 1 else None
        creds = f'credentials: "{self.mode}"'
        if options is not None and options.type == "object":
            pairs = _pairs(doc, options)
            param = pairs.get("jsonpCallback")
            if param is not None:
                raw = _string_raw(doc, param.child_by_field_name("value"))
                if raw:
                    extra.append(raw)
            drop = [pairs[k] for k in ("jsonpCallback", "jsonpCallbackFunction", "timeout", "nonce",
                                       "referrerPolicy", "crossorigin", "charset") if k in pairs]
            if "timeout" in pairs:
                self.notes.append("fetch() has no timeout option; the fetch-jsonp timeout was dropped")
            if len(drop) == len(pairs):
                edits.append((options.start_byte, options.end_byte, ("{" + creds + "}").encode()))
            else:
                edits += [_remove_pair(doc, p) for p in drop]
                if "credentials" not in pairs:
                    edits.append(_add_pair(doc, options, creds))
        elif options is None:
            edits.append((args[0].end_byte, args[0].end_byte, (", {" + creds + "}").encode()))
        else:
            raise Decline("the fetchJsonp options are not an object literal")
        stripped = strip_url(doc, args[0], callback_params_for(self.consumer, extra))
        if stripped is not None:
            edits.append((args[0].start_byte, args[0].end_byte, stripped.text.encode()))
        return edits


def _handler(consumer: Consumer) -> Callable[[_Rewriter], list[Edit]] | None:
    detail = (consumer.detail or "").lower()
    if "call of jsonp wrapper" in detail:
        return _Rewriter.wrapper_call
    if consumer.kind in ("jquery-ajax", "jquery-getjson"):
        return _Rewriter.jquery
    if consumer.kind == "angular-jsonp":
        return _Rewriter.angular
    if consumer.kind == "dynamic-script":
        return _Rewriter.dynamic_script
    if consumer.kind == "other" and "fetch-jsonp" in detail:
        return _Rewriter.fetch_jsonp
    if consumer.kind == "other" and "npm jsonp" in detail:
        return _Rewriter.npm_jsonp
    if consumer.kind == "other" and "yui" in detail:
        return _Rewriter.yui_jsonp
    return None


def decline_reason(consumer: Consumer) -> str | None:
    """Why a consumer is never edited, before looking at the code."""
    if not consumer.migratable:
        return f"not data: {consumer.detail or 'a script loader'} (migratable: false)"
    if consumer.kind == "script-tag":
        return "a <script> tag written inside a string literal; rewrite by hand"
    if consumer.kind == "other" and _handler(consumer) is None:
        return f"JSONP library call ({consumer.detail or 'unknown library'}); rewrite by hand"
    return None


def rewrite_js(text: str, consumers: Sequence[Consumer], *, line_offset: int = 0,
               strict: bool = True) -> JsResult:
    """Rewrite the consumers in one piece of JavaScript; `line_offset` maps consumer lines to rows here.

    `strict`: the source must parse without errors (a .js file). Inline scripts in templates may hold
    template tags, so there only edits that add no new parse error are kept.
    """
    src = text.encode("utf-8")
    doc = _Doc(src)
    base_errors = error_count(doc.tree)
    changed: list[JsOutcome] = []
    declined: list[JsOutcome] = []
    covered: list[JsOutcome] = []
    accepted: list[tuple[Consumer, list[Edit], list[str]]] = []
    if strict and base_errors:
        return JsResult(text, declined=tuple(JsOutcome(c.line, c.kind, "the JavaScript does not parse")
                                             for c in consumers))
    for consumer in consumers:
        reason = decline_reason(consumer)
        handler = _handler(consumer)
        if reason is not None or handler is None:
            declined.append(JsOutcome(consumer.line, consumer.kind, reason or "no rewrite for this kind"))
            continue
        notes: list[str] = []
        try:
            edits = handler(_Rewriter(doc, consumer, consumer.line - 1 - line_offset, notes))
        except Decline as exc:
            declined.append(JsOutcome(consumer.line, consumer.kind, str(exc)))
            continue
        if not edits:
            covered.append(JsOutcome(consumer.line, consumer.kind, "through the rewritten JSONP wrapper"))
            continue
        if any(_overlap(edits, other) for _, other, _ in accepted):
            declined.append(JsOutcome(consumer.line, consumer.kind, "overlaps another rewrite on this line"))
            continue
        trial = parser().parse(apply_edits(src, edits))
        if error_count(trial) > base_errors:
            declined.append(JsOutcome(consumer.line, consumer.kind, "the rewritten code would not parse"))
            continue
        accepted.append((consumer, edits, notes))
    if not accepted:
        return JsResult(text, (), tuple(declined), tuple(covered))
    new_src = apply_edits(src, [e for _, edits, _ in accepted for e in edits])
    if error_count(parser().parse(new_src)) > base_errors:
        declined += [JsOutcome(c.line, c.kind, "the combined rewrite would not parse") for c, _, _ in accepted]
        return JsResult(text, (), tuple(declined), tuple(covered))
    for consumer, _, notes in accepted:
        changed.append(JsOutcome(consumer.line, consumer.kind, "; ".join(dict.fromkeys(notes)) or "JSON request"))
    return JsResult(new_src.decode("utf-8"), tuple(changed), tuple(declined), tuple(covered))
