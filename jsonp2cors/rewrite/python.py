"""Python JSONP endpoints -> plain JSON endpoints, each framework's own way (libcst).

Every endpoint of the scan is located by its `def` line and rewritten as if the request carried no
callback parameter: callback tests are decided statically, padding expressions give way to the JSON
they wrapped, callback reads go away. Framework idioms (small classes in `IDIOMS`) then turn the result
into the framework's native JSON response. Anything the analysis cannot decide declines the endpoint.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from jsonp2cors.findings import Endpoint
from jsonp2cors.scan.base import DEFAULT_CALLBACK_PARAMS

JS_MIMES = (
    "application/javascript", "text/javascript", "application/x-javascript", "text/x-javascript",
    "application/ecmascript", "text/ecmascript",
)
JSON_MIME = "application/json"
_JSON_DUMPS = frozenset({
    "json.dumps", "simplejson.dumps", "ujson.dumps", "rapidjson.dumps", "flask.json.dumps",
    "bson.json_util.dumps", "tornado.escape.json_encode", "anyjson.serialize",
})
_READ_METHODS = frozenset({
    "get", "get_argument", "get_query_argument", "get_body_argument", "getfirst", "getvalue", "getone",
    "getunicode", "get_param", "get_query_param", "getlist_first",
})
_REQUIRED_READS = frozenset({"get_argument", "get_query_argument", "get_body_argument"})
_REQUEST_ATTRS = ("query", "params", "args", "get", "values", "form", "arguments", "query_params", "rel_url")
_WRAPPER_HINTS = ("escape", "sanit", "clean", "valid", "safe", "str", "quote", "unicode", "check")
_ERROR_CALLS = frozenset({
    "abort", "send_error", "HTTPBadRequest", "HttpResponseBadRequest", "HTTPError", "HTTPException",
    "BadRequest", "HTTPNotFound", "HttpResponseForbidden", "HTTPForbidden", "HTTPUnprocessableEntity",
})
_BUILTINS = frozenset(dir(__import__("builtins")))
_PAD_PREFIX = re.compile(r"\s*(?:/\*\*/)?\s*;?\s*")
_PAD_OPEN = re.compile(r"\s*\(")
_PAD_CLOSE = re.compile(r"\)\s*;?\s*")
_PERCENT = re.compile(r"%(?:\((?P<name>\w+)\))?[-#0 +]*\d*(?:\.\d+)?(?P<conv>[sdrifaxXeEgGoc%])")

Absent = None | str | bool | Literal["REQUIRED", "TRUTHY", "UNKNOWN"]
Truth = bool | None
Conv = Literal["s", "r", "plain"]
FuncOrModule = cst.FunctionDef | cst.Module


class Decline(Exception):
    """The endpoint is too dynamic to rewrite safely; the message says why."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class NothingToDo(Exception):
    """The function itself holds no callback handling or padding."""


@dataclass(frozen=True)
class PyChange:
    line: int
    function: str
    note: str


@dataclass(frozen=True)
class PyDeclined:
    line: int
    function: str
    reason: str


@dataclass(frozen=True)
class PyResult:
    text: str
    changed: tuple[PyChange, ...] = ()
    declined: tuple[PyDeclined, ...] = ()
    covered: tuple[PyChange, ...] = ()  # handlers whose JSONP came from a helper rewritten elsewhere


@dataclass(frozen=True)
class ProjectFacts:
    """What one file's rewrite needs to know about the rest of the scan."""

    helper_names: frozenset[str] = frozenset()  # last components of helper functions/classes
    jsonp_renderers: frozenset[str] = frozenset()  # Pyramid renderer names bound to pyramid.renderers.JSONP


@dataclass
class _Padding:
    data: cst.BaseExpression  # what replaces the padded text
    obj: cst.BaseExpression | None  # the object json.dumps serialised, when known
    note: str | None = None


# ------------------------------------------------------------------------------------------ helpers
_REQUEST_WORDS = frozenset({
    "request", "req", "args", "values", "get", "post", "params", "query", "queries", "qs", "form", "forms",
    "arguments", "kwargs", "data", "fields", "querydict", "fieldstorage", "parse", "environ", "rel", "url",
    "parsed", "webargs", "payload", "multidict", "querystring", "string", "body", "r", "rq",
})


def _request_like(node: cst.CSTNode) -> bool:
    """Does `node` look like where request parameters live (request.args, req.params, a parse_qs result...)?"""
    dotted = _dotted(node).lower()
    if isinstance(node, cst.Subscript):  # parse_qs(...)["callback"][0]: look at what is subscripted
        return _request_like(node.value)
    if isinstance(node, cst.Call):
        dotted = _dotted(node.func).lower()
    words = [w for w in re.split(r"[._]+", dotted) if w]
    return any(w in _REQUEST_WORDS for w in words)


_STR_METHODS = frozenset(dir(str))


def _is_web_input(node: cst.CSTNode) -> bool:
    """web.py's `web.input(...)` (the request parameters as attributes)."""
    return isinstance(node, cst.Call) and _dotted(node.func) in ("web.input", "webapi.input")


def _short(node: cst.CSTNode) -> str:
    text = cst.Module(body=[]).code_for_node(node).strip()
    return text if len(text) < 70 else text[:67] + "..."


def _dotted(node: cst.CSTNode | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""


def _string_value(node: cst.CSTNode | None) -> str | bytes | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, (str, bytes)) else None
    return None


def _literal(node: cst.CSTNode | None) -> tuple[bool, object]:
    """(known, value) for literals that matter to a truth test."""
    if node is None:
        return True, None
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return True, {"None": None, "True": True, "False": False}[node.value]
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return True, _string_value(node)
    if isinstance(node, cst.Integer):
        return True, int(node.value, 0) if node.value.isdigit() else 1
    return False, None


def _absent_of(value: object) -> Absent:
    """A parameter read's value when the parameter is absent, from its literal default."""
    if not value:
        return "" if value == "" else None  # False, 0 and None all test false like None
    return "TRUTHY"


def _is_terminator(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and bool(stmt.body) and isinstance(
        stmt.body[-1], (cst.Return, cst.Raise)
    )


def _statements(suite: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    assert isinstance(suite, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=suite.body)]


def _sub_suites(stmt: cst.BaseStatement) -> Iterator[cst.BaseSuite]:
    for attr in ("body", "orelse", "finalbody"):
        part = getattr(stmt, attr, None)
        if isinstance(part, cst.BaseSuite):
            yield part
        elif isinstance(part, (cst.Else, cst.Finally)):
            yield part.body
    for handler in getattr(stmt, "handlers", ()) or ():
        yield handler.body


def _is_mime_js(value: object) -> bool:
    return isinstance(value, str) and value.split(";")[0].strip().lower() in JS_MIMES


def _requote(original: cst.SimpleString, value: str) -> cst.SimpleString:
    prefix = original.prefix
    quote = original.quote
    return cst.SimpleString(f"{prefix}{quote}{value}{quote}")


class ModuleContext:
    """Metadata of one parsed module, shared by the function rewrites in it."""

    def __init__(self, wrapper: MetadataWrapper, params: Iterable[str], framework: str) -> None:
        self.wrapper = wrapper
        self.module = wrapper.module
        self._qn = wrapper.resolve(QualifiedNameProvider)
        self.positions = wrapper.resolve(PositionProvider)
        self.params = frozenset(p.lower() for p in params) | frozenset(DEFAULT_CALLBACK_PARAMS)
        self.framework = framework
        self.imports: list[tuple[str, str | None]] = []
        self.getters: set[str] = set()
        self.module_names: set[str] = set(_import_bindings(self.module))
        for stmt in self.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.module_names.add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        self.module_names.update(t.target.value for t in small.targets
                                                 if isinstance(t.target, cst.Name))
        self.consts: dict[str, str] = {}
        for node in m.findall(self.module, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            assert isinstance(node, cst.Assign)
            value = _string_value(node.value)
            target = node.targets[0].target
            if isinstance(value, str) and isinstance(target, cst.Name):
                self.consts.setdefault(target.value, value)
        self.find_getters()

    def find_getters(self) -> None:
        """Module functions that only fetch the callback name (`def _callback(request): for name in NAMES: ...`).

        A call of one counts as a read of the callback parameter that gives None when it is absent.
        """
        lists: dict[str, set[str]] = {}
        for node in m.findall(self.module, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            assert isinstance(node, cst.Assign)
            if isinstance(node.value, (cst.Tuple, cst.List)):
                values = {_string_value(e.value) for e in node.value.elements}
                target = node.targets[0].target
                if all(isinstance(v, str) for v in values) and isinstance(target, cst.Name):
                    lists[target.value] = {str(v).lower() for v in values}
        for func in self.module.body:
            if not isinstance(func, cst.FunctionDef) or not m.findall(func, m.For()):
                continue
            loops = [f for f in m.findall(func, m.For(target=m.Name()))
                     if isinstance(f, cst.For) and (
                         (isinstance(f.iter, cst.Name) and lists.get(f.iter.value, set()) & self.params)
                         or (isinstance(f.iter, (cst.Tuple, cst.List)) and {
                             str(_string_value(e.value)).lower() for e in f.iter.elements} & self.params)
                         or any(hint in _dotted(f.iter).lower() for hint in ("callback", "jsonp")))]
            if not loops:
                continue
            names = {loop.target.value for loop in loops if isinstance(loop.target, cst.Name)}

            def keyed(node: cst.CSTNode, names: set[str] = names) -> bool:
                if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.args:
                    return node.func.attr.value == "get" and m.matches(node.args[0].value, m.Name()) and \
                        _dotted(node.args[0].value) in names
                if isinstance(node, cst.Subscript) and len(node.slice) == 1:
                    index = node.slice[0].slice
                    return isinstance(index, cst.Index) and _dotted(index.value) in names
                return False

            reads = [c for c in m.findall(func, m.Call() | m.Subscript()) if keyed(c)]
            returns = [r for r in m.findall(func, m.Return()) if isinstance(r, cst.Return)]
            if reads and returns and all(r.value is None or isinstance(r.value, cst.Name) or keyed(r.value)
                                         or m.matches(r.value, m.Name("None")) for r in returns):
                self.getters.add(func.name.value)

    def qnames(self, node: cst.CSTNode) -> set[str]:
        value = self._qn.get(node)
        if value is None:
            return set()
        names = value() if callable(value) else value
        return {q.name for q in names}

    def qname_or_dotted(self, node: cst.CSTNode) -> set[str]:
        names = self.qnames(node)
        return names or ({_dotted(node)} if _dotted(node) else set())

    def line(self, node: cst.CSTNode) -> int:
        try:
            return int(self.positions[node].start.line)
        except KeyError:
            return 0

    def code(self, node: cst.CSTNode) -> str:
        text = self.module.code_for_node(node).strip()
        return text if len(text) < 70 else text[:67] + "..."

    def str_const(self, node: cst.CSTNode | None) -> str | None:
        value = _string_value(node)
        if isinstance(value, str):
            return value
        if isinstance(node, cst.Name):
            return self.consts.get(node.value)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            return self.consts.get(node.attr.value)  # self.callback_param = "callback" on a class
        return None

    def need_import(self, module: str, obj: str | None = None) -> None:
        self.imports.append((module, obj))


# ------------------------------------------------------------------------------ the function rewrite
class FunctionRewrite:
    """Specialises one function to 'no callback' and swaps padding for JSON; raises Decline or NothingToDo."""

    def __init__(self, ctx: ModuleContext, func: FuncOrModule, endpoint: Endpoint,
                 class_bases: Sequence[str] = (), cls: cst.ClassDef | None = None) -> None:
        self.ctx = ctx
        self.func = func
        self.endpoint = endpoint
        self.params = ctx.params | frozenset(p.lower() for p in endpoint.callback_params)
        self.class_bases = class_bases
        self.cls = cls
        self.cb: dict[str, Absent] = {}
        self.cb_attrs: dict[str, Absent] = {}  # self.<attr> holding the callback name
        self.inputs: dict[str, cst.Call] = {}  # web.py: names bound to web.input(...)
        self._assigned: dict[str, list[cst.BaseExpression]] | None = None
        self.cb_assigns: set[cst.CSTNode] = set()
        self.padding: dict[cst.CSTNode, _Padding] = {}
        self.replace: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] = {}
        self.if_plan: dict[cst.If, tuple[list[int], int | None]] = {}
        self.inline_terminal: set[cst.If] = set()
        self.notes: list[str] = []
        self.decorators_to_add: list[cst.Decorator] = []
        self.mode: Literal["absent", "present"] = "absent"
        self._error_branch = False

    # -- callback sources --------------------------------------------------------------------------
    def _read_absent(self, node: cst.CSTNode) -> Absent | Literal[False]:
        """How a request-parameter read behaves when the parameter is absent, or False if not a read."""
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in _READ_METHODS and node.args:
                key = self.ctx.str_const(node.args[0].value)
                if key is None or key.lower() not in self.params:
                    return False
                if method in ("get", "getone", "getunicode", "getlist_first") and not _request_like(node.func.value):
                    return False  # `options.get("jsonp")` is not a request parameter
                default = next((a.value for a in node.args[1:] if a.keyword is None), None)
                default = next((a.value for a in node.args if a.keyword and a.keyword.value == "default"),
                               default)
                if default is None:
                    return "REQUIRED" if method in _REQUIRED_READS else None
                known, value = _literal(default)
                if not known:
                    constant = self.ctx.str_const(default)  # get("callback", DEFAULT_CALLBACK)
                    return _absent_of(constant) if constant is not None else "UNKNOWN"
                return _absent_of(value)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in self.ctx.getters:
            return None
        if isinstance(node, cst.Call) and _dotted(node.func) == "getattr" and len(node.args) >= 2:
            key = self.ctx.str_const(node.args[1].value)
            if key is not None and key.lower() in self.params:
                known, value = _literal(node.args[2].value if len(node.args) > 2 else None)
                return _absent_of(value) if known else "UNKNOWN"
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and _request_like(node.value):
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, (cst.Integer, cst.UnaryOperation)):
                # parse_qs style: query.get("callback", [None])[0] or query["callback"][0]
                inner = node.value
                if isinstance(inner, cst.Call) and len(inner.args) == 2 and isinstance(
                    inner.args[1].value, cst.List
                ) and self._read_absent(inner.with_changes(args=inner.args[:1])) is not False:
                    elements = inner.args[1].value.elements
                    known, value = _literal(elements[0].value) if len(elements) == 1 else (False, None)
                    return _absent_of(value) if known else "UNKNOWN"
                return self._read_absent(inner)
            if isinstance(index, cst.Index):
                key = self.ctx.str_const(index.value)
                if key is not None and key.lower() in self.params:
                    return "REQUIRED"
        if isinstance(node, cst.Attribute) and node.attr.value.lower() in self.params:
            source = node.value
            if isinstance(source, cst.Name) and source.value in self.inputs:
                source = self.inputs[source.value]
            if _is_web_input(source):
                # web.py: web.input(callback=None).callback answers the keyword's default for a missing
                # parameter; without one a missing parameter fails (AttributeError)
                assert isinstance(source, cst.Call)
                default = next((a.value for a in source.args
                                if a.keyword is not None and a.keyword.value == node.attr.value), None)
                if default is None:
                    return "REQUIRED"
                known, value = _literal(default)
                return _absent_of(value) if known else "UNKNOWN"
            base = _dotted(node.value).lower()
            if base and base.split(".")[0] not in ("self", "cls") and any(
                base.endswith(attr.lower()) for attr in _REQUEST_ATTRS
            ):
                return ""  # Bottle's FormsDict answers "" for a missing key
        return False

    def cb_absent(self, node: cst.CSTNode) -> Absent | Literal[False]:
        """If `node` evaluates to the callback name, how it looks when the parameter is absent."""
        if isinstance(node, cst.Name) and node.value in self.cb:
            return self.cb[node.value]
        if isinstance(node, cst.Attribute) and node.attr.value in self.cb_attrs and _dotted(node.value) == "self":
            return self.cb_attrs[node.attr.value]
        read = self._read_absent(node)
        if read is not False:
            return read
        if isinstance(node, cst.Call):
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                "encode", "decode", "strip", "lower", "upper", "replace", "rstrip", "lstrip"
            ):
                inner = self.cb_absent(node.func.value)
                return inner if inner is False else ("TRUTHY" if inner == "TRUTHY" else inner)
            if len(node.args) == 1 and any(h in _dotted(node.func).lower() for h in _WRAPPER_HINTS):
                return self.cb_absent(node.args[0].value)
        if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or):
            left = self.cb_absent(node.left)
            if left is False:
                return False
            if left in ("REQUIRED", "TRUTHY"):
                return left
            known, value = _literal(node.right)
            if known:
                return _absent_of(value)
            right = self.cb_absent(node.right)
            return right if right is not False else "UNKNOWN"
        return False

    def is_cb(self, node: cst.CSTNode) -> bool:
        return self.cb_absent(node) is not False

    def mentions_cb(self, node: cst.CSTNode) -> bool:
        if self.is_cb(node):
            return True
        for comp in m.findall(node, m.Comparison()):
            assert isinstance(comp, cst.Comparison)
            key = self.ctx.str_const(comp.left)
            if key is not None and key.lower() in self.params and any(
                isinstance(c.operator, (cst.In, cst.NotIn)) for c in comp.comparisons
            ):
                return True
        for sub in m.findall(node, m.Name() | m.Call() | m.Subscript() | m.Attribute()):
            if isinstance(sub, cst.Name) and sub.value in self.cb:
                return True
            if not isinstance(sub, cst.Name) and self._read_absent(sub) is not False:
                return True
        return False

    def _collect_sources(self) -> None:
        for node in m.findall(self.func, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            assert isinstance(node, cst.Assign)
            target = node.targets[0].target
            if isinstance(target, cst.Name) and _is_web_input(node.value):
                self.inputs[target.value] = cast(cst.Call, node.value)
        params = self.func.params if isinstance(self.func, cst.FunctionDef) else cst.Parameters()
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            name = param.name.value
            if name.lower() not in self.params or name in ("self", "cls"):
                continue
            if param.default is None:
                self.cb[name] = "REQUIRED"
                continue
            default = param.default
            if isinstance(default, cst.Call) and default.args:  # FastAPI Query(None)
                default = next((a.value for a in default.args if a.keyword is None
                                or a.keyword.value == "default"), default)
            known, value = _literal(default)
            self.cb[name] = _absent_of(value) if known else "UNKNOWN"
        changed = True
        while changed:
            changed = False
            for node in m.findall(self.func, m.Assign() | m.AnnAssign()):
                assert isinstance(node, (cst.Assign, cst.AnnAssign))
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                if len(targets) != 1 or not isinstance(targets[0], cst.Name) or node.value is None:
                    continue
                absent = self.cb_absent(node.value)
                if absent is False:
                    continue
                name = targets[0].value
                if node not in self.cb_assigns:
                    self.cb_assigns.add(node)
                    changed = True
                if name not in self.cb:
                    self.cb[name] = absent
                    changed = True
        for name in list(self.cb):  # a callback name is a string: `opt.child_by_field_name(...)`, `cb()` say no
            non_string: list[cst.CSTNode] = [n for n in m.findall(self.func, m.Attribute(value=m.Name(name)))
                                             if isinstance(n, cst.Attribute) and n.attr.value not in _STR_METHODS]
            non_string += m.findall(self.func, m.Call(func=m.Name(name)))
            if non_string:
                del self.cb[name]
                self.cb_assigns = {a for a in self.cb_assigns if not (
                    isinstance(a, cst.Assign) and isinstance(a.targets[0].target, cst.Name)
                    and a.targets[0].target.value == name)}
        if self.cls is not None:  # `self.callback = self.get_argument("callback", None)` in any method
            for node in m.findall(self.cls, m.Assign(targets=[m.AssignTarget(target=m.Attribute(
                    value=m.Name("self")))])):
                assert isinstance(node, cst.Assign)
                target = node.targets[0].target
                assert isinstance(target, cst.Attribute)
                absent = self._read_absent(node.value)
                if absent is not False:
                    self.cb_attrs[target.attr.value] = absent
        if self.endpoint.role == "helper" and not self.cb:
            # A helper that receives the callback name as an argument: the parameter padded first.
            for node in m.findall(self.func, m.BinaryOperation() | m.FormattedString() | m.Call()):
                tokens = self._tokens(node, assume_params=True)
                if tokens:
                    first = next((t for t in tokens if t[0] != "lit"), None)
                    if first and isinstance(first[1], cst.Name):
                        self.cb[first[1].value] = None
                        break
                    if first and isinstance(first[1], cst.Attribute) and _dotted(first[1].value) == "self":
                        self.cb_attrs[first[1].attr.value] = None
                        break

    # -- truth of tests ----------------------------------------------------------------------------
    def truth(self, node: cst.BaseExpression) -> Truth:
        absent = self.cb_absent(node)
        if absent is not False:
            if self.mode == "present" or absent in ("REQUIRED", "TRUTHY"):
                return True
            if absent == "UNKNOWN":
                return None
            return bool(absent)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            inner = self.truth(node.expression)
            return None if inner is None else not inner
        if isinstance(node, cst.BooleanOperation):
            left, right = self.truth(node.left), self.truth(node.right)
            if isinstance(node.operator, cst.And):
                if left is False or right is False:
                    return False if left is False or not self.mentions_cb(node.left) else None
                return True if left and right else None
            if left is True or right is True:
                return True if left is True or not self.mentions_cb(node.left) else None
            return False if left is False and right is False else None
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            comp = node.comparisons[0]
            op = comp.operator
            if isinstance(op, (cst.In, cst.NotIn)):
                key = self.ctx.str_const(node.left)
                if key is not None and key.lower() in self.params:
                    present = self.mode == "present"
                    return present if isinstance(op, cst.In) else not present
                return None
            left_cb = self.cb_absent(node.left)
            known, other = _literal(comp.comparator)
            if left_cb is False or not known:
                return None
            if self.mode == "present" or left_cb in ("REQUIRED", "TRUTHY"):
                equal = False if other in (None, "", False) else None
            elif left_cb == "UNKNOWN":
                return None
            else:
                equal = left_cb == other if isinstance(op, (cst.Equal, cst.NotEqual)) else left_cb is other
            if equal is None:
                return None
            return equal if isinstance(op, (cst.Equal, cst.Is)) else not equal
        if isinstance(node, cst.Call) and _dotted(node.func) in ("bool", "len") and len(node.args) == 1:
            return self.truth(node.args[0].value)
        return None

    # -- padding -----------------------------------------------------------------------------------
    Token = tuple  # ("lit", str|bytes) | ("cb", node) | ("expr", node, conv)

    def _tokens(self, node: cst.CSTNode, *, assume_params: bool = False, top: bool = True
                ) -> list[tuple[object, ...]] | None:
        """Flatten a string-building expression into literal / callback / expression tokens."""
        def is_cb(sub: cst.CSTNode) -> bool:
            if assume_params and isinstance(sub, cst.Name):
                return isinstance(self.func, cst.FunctionDef) and sub.value in {
                    p.name.value for p in self.func.params.params}
            if assume_params and isinstance(sub, cst.Attribute) and _dotted(sub.value) == "self":
                return True  # a padding class keeps the name: self.callback
            return self.is_cb(sub)

        def part(sub: cst.BaseExpression, conv: Conv) -> list[tuple[object, ...]]:
            if is_cb(sub):
                return [("cb", sub)]
            inner = self._tokens(sub, assume_params=assume_params, top=False)
            if inner is not None and conv == "plain":
                return inner
            return [("expr", sub, conv)]

        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return part(node.left, "plain") + part(node.right, "plain")
        value = _string_value(node)
        if value is not None:
            return [("lit", value)] if not top else None
        if isinstance(node, cst.FormattedString):
            out: list[tuple[object, ...]] = []
            for piece in node.parts:
                if isinstance(piece, cst.FormattedStringText):
                    out.append(("lit", piece.value.replace("{{", "{").replace("}}", "}")))
                elif isinstance(piece, cst.FormattedStringExpression):
                    if piece.format_spec:
                        return None
                    conv: Conv = "r" if piece.conversion == "r" else "s"
                    out += [("cb", piece.expression)] if is_cb(piece.expression) else [
                        ("expr", piece.expression, conv)]
            return out
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            fmt = _string_value(node.left) if _string_value(node.left) is not None else self.ctx.str_const(
                node.left)
            if fmt is None:
                return None
            args = [e.value for e in node.right.elements] if isinstance(node.right, cst.Tuple) else [node.right]
            text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
            out = []
            pos = 0
            index = 0
            for found in _PERCENT.finditer(text):
                lit = text[pos:found.start()]
                pos = found.end()
                if lit:
                    out.append(("lit", lit.encode("latin-1") if isinstance(fmt, bytes) else lit))
                if found.group("conv") == "%":
                    out.append(("lit", b"%" if isinstance(fmt, bytes) else "%"))
                    continue
                if found.group("name") or index >= len(args):
                    return None
                arg = args[index]
                index += 1
                out += part(arg, "r" if found.group("conv") == "r" else "s")
            if index != len(args):
                return None
            if text[pos:]:
                out.append(("lit", text[pos:].encode("latin-1") if isinstance(fmt, bytes) else text[pos:]))
            return out
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            base = node.func.value
            fmt = _string_value(base) if _string_value(base) is not None else self.ctx.str_const(base)
            if method == "format" and isinstance(fmt, str):
                positional = [a.value for a in node.args if a.keyword is None and not a.star]
                named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
                out = []
                auto = 0
                try:
                    parsed = list(string.Formatter().parse(fmt))
                except ValueError:
                    return None
                for lit, field_name, spec, conversion in parsed:
                    if lit:
                        out.append(("lit", lit))
                    if field_name is None:
                        continue
                    if spec:
                        return None
                    if field_name == "":
                        if auto >= len(positional):
                            return None
                        arg, auto = positional[auto], auto + 1
                    elif field_name.isdigit() and int(field_name) < len(positional):
                        arg = positional[int(field_name)]
                    elif field_name in named:
                        arg = named[field_name]
                    else:
                        return None
                    out += part(arg, "r" if conversion == "r" else "s")
                return out
            if method == "join" and fmt in ("", b"") and len(node.args) == 1 and isinstance(
                node.args[0].value, (cst.List, cst.Tuple)
            ):
                out = []
                for element in node.args[0].value.elements:
                    if isinstance(element, cst.StarredElement):
                        return None
                    lit_value = _string_value(element.value)
                    out += [("lit", lit_value)] if lit_value is not None else part(element.value, "plain")
                return out
        return None

    def _match_padding(self, node: cst.CSTNode) -> tuple[cst.BaseExpression, Conv, bool] | None:
        tokens = self._tokens(node)
        if not tokens:
            return None
        merged: list[tuple[object, ...]] = []
        for token in tokens:
            if token[0] == "lit" and merged and merged[-1][0] == "lit":
                merged[-1] = ("lit", merged[-1][1] + token[1])  # type: ignore[operator]
            else:
                merged.append(token)
        is_bytes = any(t[0] == "lit" and isinstance(t[1], bytes) for t in merged)

        def text(token: tuple[object, ...]) -> str:
            value = token[1]
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)

        cb_at = [i for i, t in enumerate(merged) if t[0] == "cb"]
        if len(cb_at) != 1:
            return None
        i = cb_at[0]
        if i > 1 or (i == 1 and (merged[0][0] != "lit" or not _PAD_PREFIX.fullmatch(text(merged[0])))):
            return None
        rest = merged[i + 1:]
        if len(rest) != 3 or rest[0][0] != "lit" or rest[1][0] != "expr" or rest[2][0] != "lit":
            return None
        if not _PAD_OPEN.fullmatch(text(rest[0])) or not _PAD_CLOSE.fullmatch(text(rest[2])):
            return None
        data = rest[1][1]
        assert isinstance(data, cst.BaseExpression)
        conv = rest[1][2]
        return data, conv, is_bytes  # type: ignore[return-value]

    def kind(self, node: cst.CSTNode, depth: int = 0) -> str:
        """'json' (serialised by a JSON library), 'str', 'dict', 'list' or 'unknown'."""
        if isinstance(node, cst.Call):
            names = self.ctx.qname_or_dotted(node.func)
            if names & _JSON_DUMPS or any(n.endswith((".dumps", "json_encode", "to_json")) for n in names):
                return "json"
            dotted = _dotted(node.func)
            if dotted.endswith("serialize") and node.args and _string_value(node.args[0].value) == "json":
                return "json"  # django.core.serializers.serialize("json", ...)
            if dotted in ("dict",):
                return "dict"
            if dotted in ("list", "sorted"):
                return "list"
            if dotted.endswith((".decode", ".get_data", ".format", ".getvalue")) or dotted == "str":
                return "str"
            if dotted.endswith(".encode"):
                return "json" if self.kind(node.func.value, depth + 1) == "json" else "str"  # type: ignore[attr-defined]
            return "unknown"
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return "str"
        if isinstance(node, (cst.Dict, cst.DictComp)):
            return "dict"
        if isinstance(node, (cst.List, cst.ListComp, cst.Tuple)):
            return "list"
        if isinstance(node, cst.Name) and depth < 4:
            kinds = set()
            for value in self.assigned_values().get(node.value, ()):
                if not self.mentions_cb(value):  # `data = "%s(%s)" % (cb, data)` pads, it is no source
                    kinds.add(self.kind(value, depth + 1))
            if len(kinds) == 1:
                return kinds.pop()
        if isinstance(node, cst.Attribute) and node.attr.value in ("text", "body", "data", "content"):
            return "str"
        return "unknown"

    def assigned_values(self) -> dict[str, list[cst.BaseExpression]]:
        """name -> the values plainly assigned to it in this function (one walk, then cached)."""
        if self._assigned is None:
            self._assigned = {}
            for node in m.findall(self.func, m.Assign() | m.AnnAssign()):
                if isinstance(node, cst.Assign):
                    for target in node.targets:
                        if isinstance(target.target, cst.Name):
                            self._assigned.setdefault(target.target.value, []).append(node.value)
                elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.value:
                    self._assigned.setdefault(node.target.value, []).append(node.value)
        return self._assigned

    def json_obj(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """The object `node` serialises when it is a plain `json.dumps(obj)` call."""
        if isinstance(node, cst.Call) and self.kind(node) == "json" and len(node.args) == 1:
            arg = node.args[0]
            if arg.keyword is None and not arg.star and not _dotted(node.func).endswith(".encode"):
                return arg.value
        return None

    def _dumps(self, obj: cst.BaseExpression) -> cst.Call:
        self.ctx.need_import("json")
        return cst.Call(func=cst.parse_expression("json.dumps"), args=[cst.Arg(obj)])

    def _padding_info(self, node: cst.CSTNode) -> _Padding | None:
        found = self._match_padding(node)
        if found is None:
            return None
        data, conv, is_bytes = found
        if is_bytes:
            return _Padding(data, None)
        kind = self.kind(data)
        if conv == "plain":
            if isinstance(data, cst.Call) and _dotted(data.func) in ("str", "repr", "unicode") and data.args:
                inner = data.args[0].value
                if self.kind(inner) in ("dict", "list"):
                    return _Padding(self._dumps(inner), inner, "Python repr replaced by json.dumps")
            return _Padding(data, self.json_obj(data))
        if kind in ("dict", "list"):
            return _Padding(self._dumps(data), data, "Python repr replaced by json.dumps")
        if conv == "r":
            if kind in ("json", "str"):
                raise Decline(f"padding formats JSON text with %r: {self.ctx.code(node)}", self.ctx.line(node))
            return _Padding(self._dumps(data), data, "Python repr replaced by json.dumps")
        if kind in ("json", "str"):
            return _Padding(data, self.json_obj(data))
        return _Padding(cst.Call(func=cst.Name("str"), args=[cst.Arg(data)]), None,
                        f"check that {self.ctx.code(data)} is JSON text")

    # -- branches ----------------------------------------------------------------------------------
    def _is_errorish(self, stmts: Sequence[cst.CSTNode]) -> bool:
        for stmt in stmts:
            if m.findall(stmt, m.Raise()):
                return True
            for call in m.findall(stmt, m.Call()):
                assert isinstance(call, cst.Call)
                if _dotted(call.func).split(".")[-1] in _ERROR_CALLS:
                    return True
            if any(isinstance(i, cst.Integer) and i.value == "400" for i in m.findall(stmt, m.Integer())):
                return True
        return False

    def _tests_only_the_callback(self, test: cst.BaseExpression) -> bool:
        """True when `test` looks at nothing but the callback (and module-level validators such as a regex)."""
        for name in m.findall(test, m.Name()):
            assert isinstance(name, cst.Name)
            if name.value in self.cb or name.value in self.ctx.module_names or name.value in _BUILTINS:
                continue
            if name.value in ("None", "True", "False", "self"):
                continue
            return False
        return True

    def _has_padding(self, node: cst.CSTNode) -> bool:
        return any(sub in self.padding for sub in m.findall(
            node, m.BinaryOperation() | m.FormattedString() | m.Call()))

    def _walk(self, stmts: Sequence[cst.BaseStatement]) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.If):
                self._decide_if(stmt)
            elif isinstance(stmt, cst.BaseCompoundStatement):
                for suite in _sub_suites(stmt):
                    self._walk(_statements(suite))

    def _decide_if(self, stmt: cst.If) -> None:
        clauses: list[cst.If] = [stmt]
        while isinstance(clauses[-1].orelse, cst.If):
            clauses.append(clauses[-1].orelse)
        else_clause = clauses[-1].orelse
        if not any(self.mentions_cb(c.test) for c in clauses):
            for clause in clauses:
                self._walk(_statements(clause.body))
            if isinstance(else_clause, cst.Else):
                self._walk(_statements(else_clause.body))
            return
        kept: list[int] = []
        final: int | None = None  # index of the clause that becomes unconditional; len(clauses) == else
        for index, clause in enumerate(clauses):
            if not self.mentions_cb(clause.test):
                kept.append(index)
                continue
            value = self.truth(clause.test)
            if value is None:
                body = _statements(clause.body)
                if len(clauses) == 1 and else_clause is None and not self._has_padding(clause) and (
                    self._is_errorish(body) or _is_terminator(body[-1])
                ) and self._tests_only_the_callback(clause.test):
                    self.if_plan[stmt] = ([], None)
                    self.notes.append("callback validation removed")
                    return
                raise Decline(f"callback test too dynamic: `{self.ctx.code(clause.test)}`",
                              self.ctx.line(clause))
            if value:
                final = index
                break
        if final is None and isinstance(else_clause, cst.Else):
            final = len(clauses)
        self.if_plan[stmt] = (kept, final)
        for index in kept:
            self._walk(_statements(clauses[index].body))
        if final is not None:
            body = _statements(clauses[final].body if final < len(clauses) else else_clause.body)  # type: ignore[union-attr]
            if self._is_errorish(body) and self.mode == "absent":
                self._error_branch = True
            self._walk(body)
            if not kept and _is_terminator(body[-1]):
                self.inline_terminal.add(stmt)

    # -- content types -----------------------------------------------------------------------------
    def _fix_mimes(self) -> None:
        for node in m.findall(self._own_code(), m.SimpleString()):
            assert isinstance(node, cst.SimpleString)
            value = node.evaluated_value
            if node not in self.replace and _is_mime_js(value):
                assert isinstance(value, str)
                rest = value.split(";", 1)[1] if ";" in value else None
                new = JSON_MIME + (f";{rest}" if rest is not None else "")
                self.replace[node] = _requote(node, new)

    def _fix_mime_constants(self) -> None:
        """`mimetype=JSONP_MIME` where the module constant is a JavaScript type: the literal JSON type instead."""
        def js_const(node: cst.CSTNode | None) -> bool:
            return isinstance(node, cst.Name) and _is_mime_js(self.ctx.consts.get(node.value))

        json_literal = cst.SimpleString(f'"{JSON_MIME}"')
        for arg in m.findall(self._own_code(), m.Arg(keyword=m.Name())):
            assert isinstance(arg, cst.Arg) and arg.keyword is not None
            if arg.keyword.value in ("mimetype", "content_type", "media_type") and js_const(arg.value):
                self.replace.setdefault(arg.value, json_literal)
        for assign in m.findall(self._own_code(), m.Assign(targets=[m.AssignTarget(target=m.Attribute())])):
            assert isinstance(assign, cst.Assign)
            target = assign.targets[0].target
            assert isinstance(target, cst.Attribute)
            if target.attr.value in ("content_type", "mimetype", "media_type") and js_const(assign.value):
                self.replace.setdefault(assign.value, json_literal)

    def remove_statement_if(self, predicate: Callable[[cst.BaseSmallStatement], bool]) -> None:
        """Remove single-statement lines of the function matching `predicate` (e.g. a JS content type)."""
        for line in m.findall(self.func, m.SimpleStatementLine()):
            assert isinstance(line, cst.SimpleStatementLine)
            if len(line.body) == 1 and predicate(line.body[0]):
                self.replace[line] = cst.RemoveFromParent()

    # -- run ---------------------------------------------------------------------------------------
    def run(self) -> FuncOrModule:
        self._collect_sources()
        for node in m.findall(self.func, m.BinaryOperation() | m.FormattedString() | m.Call()):
            info = self._padding_info(node)
            if info is not None:
                self.padding[node] = info
        if not self.cb and not self.cb_attrs and not self.padding:
            for loop in m.findall(self.func, m.For()):
                assert isinstance(loop, cst.For)
                if any(hint in _dotted(loop.iter).lower() for hint in ("callback", "jsonp")):
                    raise Decline(f"the callback is looked up in a loop over `{self.ctx.code(loop.iter)}`; "
                                  "rewrite by hand", self.ctx.line(loop))
            raise NothingToDo
        self.mode = "present" if any(v in ("REQUIRED", "TRUTHY") for v in self.cb.values()) else "absent"
        self._walk(self._body())
        if self._error_branch:  # the function refused requests without a callback: keep the JSONP path
            self.mode = "present"
            self.if_plan.clear()
            self.inline_terminal.clear()
            self.notes.clear()
            self._walk(self._body())
        for node in m.findall(self.func, m.IfExp()):
            assert isinstance(node, cst.IfExp)
            if self.mentions_cb(node.test):
                value = self.truth(node.test)
                if value is None:
                    raise Decline(f"callback test too dynamic: `{self.ctx.code(node.test)}`", self.ctx.line(node))
                self.replace[node] = node.body if value else node.orelse
        for node, info in self.padding.items():
            self.replace[node] = info.data
            if info.note:
                self.notes.append(info.note)
        for idiom in IDIOMS:
            if idiom.applies(self):
                idiom.apply(self)
        self._fix_mimes()
        self._fix_mime_constants()
        for assign in self.cb_assigns:
            self.replace.setdefault(assign, cst.RemoveFromParent())
        new = self._apply()
        leftover = self._leftover(new)
        if leftover:
            keepable = self.mode == "absent" and all(
                v not in ("REQUIRED",) for v in self.cb.values()) and not any(
                self.is_cb(n) and not isinstance(n, cst.Name) for n in leftover)
            if not keepable:
                raise Decline(f"callback value still used: `{self.ctx.code(leftover[0])}`",
                              self.ctx.line(leftover[0]))
            builder = self._string_built_from_callback(new)
            if builder is not None:  # padding the rewrite did not recognise: the output would stay JSONP
                raise Decline(f"the callback still goes into a string: `{_short(builder)}`",
                              self.ctx.line(leftover[0]))
            for assign in self.cb_assigns:
                if self.replace.get(assign) is not None and isinstance(self.replace[assign], cst.RemovalSentinel):
                    del self.replace[assign]
            new = self._apply()
            self.notes.append("callback still read and passed on")
        if self.decorators_to_add and isinstance(new, cst.FunctionDef):
            new = new.with_changes(decorators=[*new.decorators, *self.decorators_to_add])
        return new

    def _string_built_from_callback(self, new: FuncOrModule) -> cst.CSTNode | None:
        builders = m.findall(new, m.BinaryOperation() | m.FormattedString() | m.Call(
            func=m.Attribute(attr=m.Name("format") | m.Name("join"))))
        for node in builders:
            if any(isinstance(n, cst.Name) and n.value in self.cb for n in m.findall(node, m.Name())) or any(
                    self.cb_absent(n) is not False for n in m.findall(node, m.Attribute(value=m.Name("self")))):
                return node
        return None

    @staticmethod
    def _own_code_of(module: cst.Module) -> cst.Module:
        return module.with_changes(body=[s for s in module.body if not isinstance(s, (cst.FunctionDef,
                                                                                     cst.ClassDef))])

    def _body(self) -> list[cst.BaseStatement]:
        if isinstance(self.func, cst.Module):
            return list(self.func.body)
        return _statements(self.func.body)

    def _own_code(self) -> cst.CSTNode:
        """The code this rewrite may touch literals in: a module's top-level statements, not its defs."""
        if isinstance(self.func, cst.Module):
            return self.func.with_changes(body=[s for s in self.func.body if not isinstance(
                s, (cst.FunctionDef, cst.ClassDef))])
        return self.func

    def _apply(self) -> FuncOrModule:
        result = self.func.visit(_Apply(self))
        assert isinstance(result, (cst.FunctionDef, cst.Module))
        return result

    def _leftover(self, new: FuncOrModule) -> list[cst.CSTNode]:
        params = new.params if isinstance(new, cst.FunctionDef) else cst.Parameters()
        param_names = {id(p.name) for p in m.findall(params, m.Param())}  # type: ignore[attr-defined]
        code = new.body if isinstance(new, cst.FunctionDef) else self._own_code_of(new)
        self_assigns = [a for a in m.findall(code, m.Assign(targets=[m.AssignTarget(
            target=m.Attribute(value=m.Name("self")))])) if isinstance(a, cst.Assign)]
        kept_reads = {id(a.value) for a in self_assigns}  # `self.cb = read` stays for the other methods
        stored = {id(a.targets[0].target) for a in self_assigns}
        out: list[cst.CSTNode] = []
        for node in m.findall(code, m.Name() | m.Call() | m.Subscript() | m.Attribute()):
            if id(node) in param_names or id(node) in kept_reads:
                continue
            if isinstance(node, cst.Attribute) and self.cb_absent(node) is not False and _dotted(node.value) == "self":
                if id(node) not in stored:
                    out.append(node)
                continue
            if isinstance(node, cst.Name):
                if node.value in self.cb:
                    out.append(node)
            elif self._read_absent(node) is not False:
                out.append(node)
        return out


class _Apply(cst.CSTTransformer):
    def __init__(self, rewrite: FunctionRewrite) -> None:
        super().__init__()
        self.rw = rewrite
        self.terminals: set[int] = set()

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode  # type: ignore[override]
                 ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if isinstance(original_node, cst.If) and original_node in self.rw.if_plan:
            assert isinstance(updated_node, cst.If)
            return self._if(original_node, updated_node)
        if original_node in self.rw.replace:
            return self.rw.replace[original_node]
        if isinstance(updated_node, cst.IndentedBlock):
            return self._block(updated_node)
        return updated_node

    def _if(self, original: cst.If, updated: cst.If
            ) -> cst.BaseStatement | cst.RemovalSentinel | cst.FlattenSentinel[cst.BaseStatement]:
        kept, final = self.rw.if_plan[original]
        clauses = [updated]
        while isinstance(clauses[-1].orelse, cst.If):
            clauses.append(clauses[-1].orelse)
        else_clause = clauses[-1].orelse
        final_body: list[cst.BaseStatement] | None = None
        if final is not None:
            suite = clauses[final].body if final < len(clauses) else else_clause.body  # type: ignore[union-attr]
            final_body = _statements(suite)
        if not kept:
            if not final_body:
                return cst.RemoveFromParent()
            first = final_body[0]
            if isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                final_body[0] = first.with_changes(leading_lines=[*updated.leading_lines, *first.leading_lines])
            if original in self.rw.inline_terminal:
                self.terminals.add(id(final_body[-1]))
            return cst.FlattenSentinel(final_body)
        chain: cst.If | cst.Else | None = None
        if final_body is not None:
            chain = cst.Else(body=cst.IndentedBlock(body=final_body))
        for index in reversed(kept):
            clause = clauses[index]
            chain = clause.with_changes(orelse=chain)
        assert isinstance(chain, cst.If)
        return chain.with_changes(leading_lines=updated.leading_lines)

    def _block(self, block: cst.IndentedBlock) -> cst.IndentedBlock:
        body = list(block.body)
        for index, stmt in enumerate(body):
            if id(stmt) in self.terminals:
                body = body[:index + 1]
                break
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return block.with_changes(body=body)


# ---------------------------------------------------------------------------------------- idioms
class Idiom:
    """One framework's native JSON response; matched on the original nodes of the function."""

    DESCRIPTION: ClassVar[str] = ""
    FRAMEWORKS: ClassVar[frozenset[str]] = frozenset()

    def applies(self, rw: FunctionRewrite) -> bool:
        return rw.endpoint.framework in self.FRAMEWORKS

    def apply(self, rw: FunctionRewrite) -> None:
        raise NotImplementedError


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, spaced the PEP 8 way."""
    return cst.Arg(keyword=cst.Name(name), value=value,
                   equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))


def _padded_arg(rw: FunctionRewrite, call: cst.Call, keywords: Sequence[str]) -> tuple[cst.Arg, _Padding] | None:
    for index, arg in enumerate(call.args):
        if (index == 0 and arg.keyword is None) or (arg.keyword and arg.keyword.value in keywords):
            info = rw.padding.get(arg.value)
            if info is not None:
                return arg, info
    return None


def _other_args(call: cst.Call, skip: cst.Arg, drop: Sequence[str]) -> list[cst.Arg] | None:
    """The call's remaining arguments minus JS content-type keywords; None if a positional one remains."""
    out = []
    for arg in call.args:
        if arg is skip:
            continue
        if arg.keyword is None:
            return None
        if arg.keyword.value in drop:
            if not _is_mime_js(_string_value(arg.value)):
                return None
            continue
        out.append(arg)
    if out:
        out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return out


def _is_ct_setting(small: cst.BaseSmallStatement) -> bool:
    """`x.content_type = JS`, `x.headers["Content-Type"] = JS`, `x.set_header("Content-Type", JS)`."""
    if isinstance(small, cst.Assign):
        target = small.targets[0].target
        value = _string_value(small.value)
        if not _is_mime_js(value):
            return False
        if isinstance(target, cst.Attribute) and target.attr.value in ("content_type", "mimetype", "media_type"):
            return True
        if isinstance(target, cst.Subscript):
            key = _string_value(getattr(target.slice[0].slice, "value", None))
            return isinstance(key, str) and key.lower() == "content-type"
        return False
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        if _dotted(call.func).split(".")[-1] in ("set_header", "add_header", "set_header_value", "header") and (
            len(call.args) == 2
        ):
            key = _string_value(call.args[0].value)
            return isinstance(key, str) and key.lower() == "content-type" and _is_mime_js(
                _string_value(call.args[1].value))
    return False


class FlaskJsonify(Idiom):
    DESCRIPTION = "Flask: Response(padded, mimetype=JS) -> jsonify(obj)"
    FRAMEWORKS = frozenset({"flask"})
    RESPONSES = frozenset({"flask.Response", "flask.make_response", "flask.wrappers.Response",
                           "werkzeug.wrappers.Response", "werkzeug.Response", "werkzeug.wrappers.response.Response"})

    def apply(self, rw: FunctionRewrite) -> None:
        for call in m.findall(rw.func, m.Call()):
            assert isinstance(call, cst.Call)
            names = rw.ctx.qname_or_dotted(call.func)
            if not (names & self.RESPONSES or any(n.endswith("response_class") for n in names)):
                continue
            found = _padded_arg(rw, call, ("response",))
            if found is None or found[1].obj is None:
                continue
            rest = _other_args(call, found[0], ("mimetype", "content_type"))
            if rest != []:
                continue
            rw.ctx.need_import("flask", "jsonify")
            rw.replace[call] = cst.Call(func=cst.Name("jsonify"), args=[cst.Arg(found[1].obj)])
        if rw.endpoint.role == "handler":
            for ret in m.findall(rw.func, m.Return()):
                assert isinstance(ret, cst.Return)
                if ret.value is None or ret.value not in rw.padding:
                    continue
                info = rw.padding[ret.value]
                if info.obj is not None:
                    rw.ctx.need_import("flask", "jsonify")
                    rw.replace[ret.value] = cst.Call(func=cst.Name("jsonify"), args=[cst.Arg(info.obj)])
                elif rw.kind(info.data) in ("json", "str"):
                    # a bare string would go out as text/html; say what it is
                    rw.ctx.need_import("flask", "Response")
                    rw.replace[ret.value] = cst.Call(func=cst.Name("Response"), args=[
                        cst.Arg(info.data, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                        _kwarg("mimetype", cst.SimpleString(f'"{JSON_MIME}"'))])


class DjangoJsonResponse(Idiom):
    DESCRIPTION = "Django: HttpResponse(padded, content_type=JS) -> JsonResponse(obj[, safe=False])"
    FRAMEWORKS = frozenset({"django"})

    def apply(self, rw: FunctionRewrite) -> None:
        for call in m.findall(rw.func, m.Call()):
            assert isinstance(call, cst.Call)
            names = rw.ctx.qname_or_dotted(call.func)
            if not any(n.endswith("HttpResponse") for n in names):
                continue
            found = _padded_arg(rw, call, ("content",))
            if found is None or found[1].obj is None:
                continue
            rest = _other_args(call, found[0], ("content_type", "mimetype"))
            if rest is None or any(a.keyword and a.keyword.value not in ("status", "headers") for a in rest):
                continue
            obj = found[1].obj
            args = [cst.Arg(obj)]
            if rw.kind(obj) != "dict":
                args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                args.append(_kwarg("safe", cst.Name("False")))
            if rest:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            rw.ctx.need_import("django.http", "JsonResponse")
            rw.replace[call] = cst.Call(func=cst.Name("JsonResponse"), args=[*args, *rest])


class BottleReturnDict(Idiom):
    DESCRIPTION = "Bottle: return padded dict -> return dict (Bottle serialises it)"
    FRAMEWORKS = frozenset({"bottle"})

    def apply(self, rw: FunctionRewrite) -> None:
        done = False
        for ret in m.findall(rw.func, m.Return()):
            assert isinstance(ret, cst.Return)
            info = rw.padding.get(ret.value) if ret.value is not None else None
            if info is not None and info.obj is not None and rw.kind(info.obj) == "dict":
                rw.replace[ret.value] = info.obj  # type: ignore[index]
                done = True
        if done:
            rw.remove_statement_if(_is_ct_setting)


class TornadoWriteDict(Idiom):
    DESCRIPTION = "Tornado: self.write(padded dict) -> self.write(dict)"
    FRAMEWORKS = frozenset({"tornado"})

    def apply(self, rw: FunctionRewrite) -> None:
        done = False
        for call in m.findall(rw.func, m.Call(func=m.Attribute(attr=m.Name("write") | m.Name("finish")))):
            assert isinstance(call, cst.Call)
            if len(call.args) != 1:
                continue
            info = rw.padding.get(call.args[0].value)
            if info is not None and info.obj is not None and rw.kind(info.obj) == "dict":
                rw.replace[call.args[0].value] = info.obj
                done = True
        if done:
            rw.remove_statement_if(_is_ct_setting)


class AiohttpJsonResponse(Idiom):
    DESCRIPTION = "aiohttp: web.Response(text=padded, content_type=JS) -> web.json_response(obj)"
    FRAMEWORKS = frozenset({"aiohttp"})

    def apply(self, rw: FunctionRewrite) -> None:
        for call in m.findall(rw.func, m.Call()):
            assert isinstance(call, cst.Call)
            names = rw.ctx.qname_or_dotted(call.func)
            if not (names & {"aiohttp.web.Response", "aiohttp.web_response.Response"} or "web.Response" in names):
                continue
            found = _padded_arg(rw, call, ("text", "body"))
            if found is None or found[1].obj is None:
                continue
            rest = _other_args(call, found[0], ("content_type",))
            if rest is None or any(a.keyword and a.keyword.value not in ("status", "headers", "reason") for a in rest):
                continue
            func: cst.BaseExpression
            if isinstance(call.func, cst.Attribute):
                func = call.func.with_changes(attr=cst.Name("json_response"))
            else:
                rw.ctx.need_import("aiohttp.web", "json_response")
                func = cst.Name("json_response")
            args = [cst.Arg(found[1].obj)]
            if rest:
                args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            rw.replace[call] = cst.Call(func=func, args=[*args, *rest])


class StarletteJSONResponse(Idiom):
    DESCRIPTION = "Starlette/FastAPI: Response(padded, media_type=JS) -> JSONResponse(obj)"
    FRAMEWORKS = frozenset({"starlette", "fastapi"})

    def apply(self, rw: FunctionRewrite) -> None:
        for call in m.findall(rw.func, m.Call()):
            assert isinstance(call, cst.Call)
            names = rw.ctx.qname_or_dotted(call.func)
            family = next((n.rsplit(".", 1)[0] for n in names if n.endswith(("Response", "PlainTextResponse"))
                           and n.startswith(("starlette.", "fastapi"))), None)
            if family is None:
                continue
            found = _padded_arg(rw, call, ("content",))
            if found is None or found[1].obj is None:
                continue
            rest = _other_args(call, found[0], ("media_type",))
            if rest is None or any(a.keyword and a.keyword.value not in ("status_code", "headers") for a in rest):
                continue
            module = "fastapi.responses" if family.startswith("fastapi") else "starlette.responses"
            rw.ctx.need_import(module, "JSONResponse")
            args = [cst.Arg(found[1].obj)]
            if rest:
                args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            rw.replace[call] = cst.Call(func=cst.Name("JSONResponse"), args=[*args, *rest])


class FalconMedia(Idiom):
    DESCRIPTION = "Falcon: resp.text = padded -> resp.media = obj"
    FRAMEWORKS = frozenset({"falcon"})

    def apply(self, rw: FunctionRewrite) -> None:
        done = False
        for assign in m.findall(rw.func, m.Assign(targets=[m.AssignTarget(
                target=m.Attribute(attr=m.Name("text") | m.Name("body")))])):
            assert isinstance(assign, cst.Assign)
            info = rw.padding.get(assign.value)
            if info is None or info.obj is None:
                continue
            target = assign.targets[0].target
            assert isinstance(target, cst.Attribute)
            rw.replace[assign] = assign.with_changes(
                targets=[assign.targets[0].with_changes(target=target.with_changes(attr=cst.Name("media")))],
                value=info.obj,
            )
            done = True
        if done:
            rw.remove_statement_if(_is_ct_setting)


class CherryPyJsonOut(Idiom):
    DESCRIPTION = "CherryPy: return padded -> @cherrypy.tools.json_out() + return obj"
    FRAMEWORKS = frozenset({"cherrypy"})

    def apply(self, rw: FunctionRewrite) -> None:
        if rw.endpoint.role != "handler" or not isinstance(rw.func, cst.FunctionDef):
            return
        found = []
        for ret in m.findall(rw.func, m.Return()):
            assert isinstance(ret, cst.Return)
            info = rw.padding.get(ret.value) if ret.value is not None else None
            if info is not None and info.obj is not None:
                found.append((ret, info))
        returns = m.findall(rw.func, m.Return())
        if not found or len(found) != len(returns):
            return  # every return must become an object for json_out to be right
        for ret, info in found:
            assert ret.value is not None and info.obj is not None
            rw.replace[ret.value] = info.obj
        rw.remove_statement_if(_is_ct_setting)
        if not any("json_out" in _dotted(d.decorator) for d in rw.func.decorators):
            rw.decorators_to_add.append(cst.Decorator(decorator=cst.parse_expression("cherrypy.tools.json_out()")))


IDIOMS: list[Idiom] = [
    FlaskJsonify(), DjangoJsonResponse(), BottleReturnDict(), TornadoWriteDict(), AiohttpJsonResponse(),
    StarletteJSONResponse(), FalconMedia(), CherryPyJsonOut(),
]


# ------------------------------------------------------------------------ module-level rewrites
class _ModuleEdits(cst.CSTTransformer):
    """Puts rewritten functions in place and applies the module idioms (flask_jsonpify, Pyramid renderers)."""

    def __init__(self, ctx: ModuleContext, functions: dict[cst.FunctionDef, cst.FunctionDef],
                 renderers: frozenset[str], jsonpify: bool) -> None:
        super().__init__()
        self.ctx = ctx
        self.functions = functions
        self.renderers = renderers
        self.jsonpify = jsonpify
        self.renamed = 0
        self.renderer_edits = 0

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        return self.functions.get(original_node, updated_node)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        """A padding class whose method was rewritten: its class-level JS media type becomes JSON."""
        if not isinstance(original_node.body, cst.IndentedBlock) or not any(
            stmt in self.functions for stmt in original_node.body.body
        ):
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        body = []
        for stmt in updated_node.body.body:
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(
                    target=m.Name("media_type") | m.Name("mimetype") | m.Name("content_type")
                    | m.Name("default_mimetype"))], value=m.SimpleString())])):
                assert isinstance(stmt, cst.SimpleStatementLine)
                assign = stmt.body[0]
                assert isinstance(assign, cst.Assign) and isinstance(assign.value, cst.SimpleString)
                value = assign.value.evaluated_value
                if _is_mime_js(value):
                    assert isinstance(value, str)
                    rest = value.split(";", 1)[1] if ";" in value else None
                    new = JSON_MIME + (f";{rest}" if rest is not None else "")
                    stmt = stmt.with_changes(body=[assign.with_changes(value=_requote(assign.value, new))])
            body.append(stmt)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if self.jsonpify and self.ctx.qnames(original_node) & {
            "flask_jsonpify.jsonify", "flask_jsonpify.jsonpify", "flask.ext.jsonpify.jsonify",
            "flask.ext.jsonpify.jsonpify",
        } and updated_node.value != "jsonify":
            self.renamed += 1
            return updated_node.with_changes(value="jsonify")
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if self.jsonpify and self.ctx.qnames(original_node) & {"flask_jsonpify.jsonify", "flask_jsonpify.jsonpify"}:
            self.renamed += 1
            return cst.Name("jsonify")
        return updated_node

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if updated_node.keyword and updated_node.keyword.value == "renderer" and isinstance(
            updated_node.value, cst.SimpleString
        ) and updated_node.value.evaluated_value in self.renderers:
            self.renderer_edits += 1
            return updated_node.with_changes(value=_requote(updated_node.value, "json"))
        return updated_node


def _import_bindings(module: cst.Module) -> dict[str, tuple[str, str | None, str | None]]:
    """Top-level import bindings: bound name -> (module, obj, asname)."""
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    dotted = _dotted(alias.name)
                    asname = _dotted(alias.asname.name) if alias.asname else None
                    out[asname or dotted.split(".")[0]] = (dotted, None, asname)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                if small.relative or small.module is None:
                    continue
                for alias in small.names:
                    obj = _dotted(alias.name)
                    asname = _dotted(alias.asname.name) if alias.asname else None
                    out[asname or obj] = (_dotted(small.module), obj, asname)
    return out


class _NameUses(cst.CSTVisitor):
    """Every name the module reads or binds outside import statements (attribute and keyword names aside).

    Conservative on purpose: a name that is still spelled anywhere keeps its import. Identifier-like string
    literals count too, for `__all__` entries and string annotations.
    """

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            self.used.add(value)


def _used_names(module: cst.Module) -> set[str]:
    uses = _NameUses()
    module.visit(uses)
    return uses.used


def _drop_imports(module: cst.Module, names: set[str]) -> cst.Module:
    """Remove the top-level import aliases that bind `names` (whole statements when nothing is left)."""
    body: list[cst.BaseStatement] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            body.append(stmt)
            continue
        smalls: list[cst.BaseSmallStatement] = []
        for small in stmt.body:
            if isinstance(small, cst.Import) or (isinstance(small, cst.ImportFrom) and not isinstance(
                small.names, cst.ImportStar
            ) and not small.relative and small.module is not None):
                aliases = list(small.names)  # type: ignore[arg-type]
                kept = [a for a in aliases if _binding(a, isinstance(small, cst.Import)) not in names]
                if not kept:
                    continue
                if len(kept) != len(aliases):
                    parenthesized = isinstance(small, cst.ImportFrom) and small.lpar is not None
                    if not parenthesized or aliases[-1].comma == cst.MaybeSentinel.DEFAULT:
                        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    small = small.with_changes(names=kept)
            smalls.append(small)
        if not smalls:
            continue
        if len(smalls) != len(stmt.body) or any(a is not b for a, b in zip(smalls, stmt.body, strict=False)):
            smalls[-1] = smalls[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            stmt = stmt.with_changes(body=smalls)
        body.append(stmt)
    return module.with_changes(body=body)


def _binding(alias: cst.ImportAlias, plain_import: bool) -> str:
    if alias.asname is not None:
        return _dotted(alias.asname.name)
    dotted = _dotted(alias.name)
    return dotted.split(".")[0] if plain_import else dotted


def _merge_from_import(module: cst.Module, source: str, name: str) -> cst.Module | None:
    """Add `name` to an existing top-level `from source import ...`, in order when the list is sorted."""
    for index, stmt in enumerate(module.body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if not isinstance(small, cst.ImportFrom) or small.relative or small.module is None or isinstance(
            small.names, cst.ImportStar
        ) or _dotted(small.module) != source:
            continue
        names = list(small.names)
        spelled = [_dotted(a.name) for a in names]
        if name in spelled:
            return module
        position = len(names)
        if spelled == sorted(spelled):
            position = next((i for i, n in enumerate(spelled) if n > name), len(names))
        alias = cst.ImportAlias(name=cst.Name(name))
        if position == len(names):
            last = names[-1]
            names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                                          if last.comma == cst.MaybeSentinel.DEFAULT else last.comma)
            names.append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT if last.comma ==
                                            cst.MaybeSentinel.DEFAULT else last.comma))
        else:
            names.insert(position, alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
        new_stmt = stmt.with_changes(body=[small.with_changes(names=names)])
        return module.with_changes(body=[*module.body[:index], new_stmt, *module.body[index + 1:]])
    return None


def _finish_imports(before: cst.Module, after: cst.Module, needed: Sequence[tuple[str, str | None]]) -> cst.Module:
    context = CodemodContext()
    bindings = _import_bindings(before)
    used_before = _used_names(before)
    pending = False
    for module, obj in dict.fromkeys(needed):
        merged = _merge_from_import(after, module, obj) if obj else None
        if merged is not None:
            after = merged
            continue
        AddImportsVisitor.add_needed_import(context, module, obj)
        pending = True
    if pending:
        after = AddImportsVisitor(context).transform_module(after)
    used_after = _used_names(after)
    removable = {name for name in bindings if name in used_before and name not in used_after}
    if removable:
        after = _drop_imports(after, removable)
    return after


@dataclass(frozen=True)
class _Where:
    qualname: str
    bases: list[str]
    cls: cst.ClassDef | None  # the class a method belongs to


def _enclosing(module: cst.Module, ctx: ModuleContext) -> dict[cst.FunctionDef, _Where]:
    """Every function with its qualified name, its class and the class's bases."""
    out: dict[cst.FunctionDef, _Where] = {}

    def walk(body: Sequence[cst.CSTNode], prefix: str, bases: list[str], cls: cst.ClassDef | None) -> None:
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                out[stmt] = _Where(prefix + stmt.name.value, bases, cls)
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
                walk(inner, prefix + stmt.name.value + ".", [], None)
            elif isinstance(stmt, cst.ClassDef):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
                walk(inner, prefix + stmt.name.value + ".", [_dotted(a.value) for a in stmt.bases], stmt)
            elif isinstance(stmt, cst.BaseCompoundStatement):
                for suite in _sub_suites(stmt):
                    walk(_statements(suite), prefix, bases, cls)

    walk(module.body, "", [], None)
    return out


def _covered_by(func: cst.FunctionDef, bases: Sequence[str], facts: ProjectFacts, ctx: ModuleContext
                ) -> str | None:
    """Why a handler needs no edit of its own: the helper, import or renderer that padded it is rewritten."""
    for deco in func.decorators:
        value = deco.decorator
        for arg in value.args if isinstance(value, cst.Call) else ():
            if arg.keyword and arg.keyword.value == "renderer" and _string_value(arg.value) in facts.jsonp_renderers:
                return f"renderer {_string_value(arg.value)!r} -> 'json'"
    names: set[str] = set()
    for node in m.findall(func, m.Name() | m.Attribute()):
        if isinstance(node, cst.Name):
            names.add(node.value)
            if ctx.qnames(node) & {"flask_jsonpify.jsonify", "flask_jsonpify.jsonpify"}:
                return "flask_jsonpify replaced by flask.jsonify"
        else:
            assert isinstance(node, cst.Attribute)
            names.add(node.attr.value)
    names.update(b.split(".")[-1] for b in bases)
    hit = sorted(names & facts.helper_names)
    return f"through helper {hit[0]}() rewritten once" if hit else None


def _covered_by_helper(endpoint: Endpoint, same_file: Sequence[Endpoint], facts: ProjectFacts,
                       hook_names: set[str]) -> str | None:
    """The scan says a helper pads this handler (`recognised_by` "helper:NAME"), or a hook in its module does."""
    how, _, via = endpoint.recognised_by.partition(":")
    if via and how not in ("python2-tokens",):
        parts = via.split(".")
        if parts[-1] in facts.helper_names or parts[0] in facts.helper_names:
            return f"through {how} {via}, rewritten once"
    hooks = [e for e in same_file if e.role == "helper" and e is not endpoint and e.function in hook_names]
    if hooks:
        return f"through {hooks[0].function}() in this module, rewritten once"
    return None


# JSONP decorators of libraries: qualified name -> the same library's JSON decorator that a migrated view carries
# instead ((module, name)), or None where no such swap is known and the view is left for a person.
LIBRARY_DECORATORS: dict[str, tuple[str, str] | None] = {
    "flask_json.as_json_p": ("flask_json", "as_json"),  # Flask-JSON: same return values, plain JSON
    "djsonp.jsonp": None,
    "djsonp.decorators.jsonp": None,
    "bottle_jsonp.jsonp": None,
}


def _library_decorator(ctx: ModuleContext, func: cst.FunctionDef) -> tuple[cst.Decorator, str] | None:
    """The function's JSONP decorator from a library (`@as_json_p`, `@as_json_p(callbacks=[...])`), if any."""
    for decorator in func.decorators:
        expr = decorator.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        for name in sorted(ctx.qnames(target) & LIBRARY_DECORATORS.keys()):
            return decorator, name
    return None


def _swap_library_decorator(
    ctx: ModuleContext, func: cst.FunctionDef, found: tuple[cst.Decorator, str]
) -> tuple[cst.FunctionDef | None, str]:
    """The function with its library JSONP decorator swapped for that library's JSON one, and what was done; or
    None and why not."""
    decorator, name = found
    library = name.split(".", 1)[0]
    swap = LIBRARY_DECORATORS[name]
    if swap is None:
        return None, f"answers JSONP through {library}'s decorator @{name.rsplit('.', 1)[-1]}: replace it by hand"
    module, json_name = swap
    bound = _import_bindings(ctx.module).get(json_name)
    if json_name in ctx.module_names and (bound is None or bound[:2] != (module, json_name)):
        return None, f"@{json_name} already means something else in this module: swap @{name} by hand"
    ctx.need_import(module, json_name)
    decorators = [d.with_changes(decorator=cst.Name(json_name)) if d is decorator else d for d in func.decorators]
    return func.with_changes(decorators=decorators), f"@{json_name} instead of {library}'s JSONP decorator"


def rewrite_python(text: str, endpoints: Sequence[Endpoint], facts: ProjectFacts = ProjectFacts()) -> PyResult:
    """Rewrite the endpoints of one Python file; the file text is returned unchanged where nothing applies."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        reason = f"Python 2 syntax or a syntax error (line {exc.raw_line}); rewrite by hand"
        return PyResult(text, declined=tuple(PyDeclined(e.line, e.function, reason) for e in endpoints))
    except Exception as exc:  # libcst rejects some sources Python would not accept either
        reason = f"the file does not parse ({type(exc).__name__}); rewrite by hand"
        return PyResult(text, declined=tuple(PyDeclined(e.line, e.function, reason) for e in endpoints))
    frameworks = [e.framework for e in endpoints]
    params = {p for e in endpoints for p in e.callback_params}
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # freshly parsed: nobody else holds it
    ctx = ModuleContext(wrapper, params, frameworks[0] if frameworks else "generic")
    functions = _enclosing(ctx.module, ctx)
    by_line: dict[int, list[cst.FunctionDef]] = {}
    for func in functions:
        by_line.setdefault(ctx.line(func), []).append(func)
        if func.decorators:
            by_line.setdefault(ctx.line(func.decorators[0]), []).append(func)
    changed: list[PyChange] = []
    declined: list[PyDeclined] = []
    covered: list[PyChange] = []
    new_functions: dict[cst.FunctionDef, cst.FunctionDef] = {}
    jsonpify = "jsonpify" in text and any(ctx.qnames(n) & {"flask_jsonpify.jsonify", "flask_jsonpify.jsonpify"}
                                          for n in m.findall(ctx.module, m.Name()))
    targets: list[tuple[Endpoint, cst.FunctionDef]] = []
    hooks = {where.qualname for f, where in functions.items() if any(
        _dotted(d.decorator).endswith(("after_request", "before_request", "after_app_request", "after_this_request"))
        for d in f.decorators)}
    module_level: list[Endpoint] = []
    stores_only: list[tuple[Endpoint, _Where]] = []
    for endpoint in endpoints:
        if endpoint.function == "<module>":  # a CGI script or similar: the module body is the handler
            module_level.append(endpoint)
            continue
        candidates = by_line.get(endpoint.line, [])
        last = endpoint.function.split(".")[-1]
        found = next((f for f in candidates if f.name.value == last), candidates[0] if candidates else None)
        inherited = (endpoint.recognised_by or "").partition(", inherited ")[2]
        if found is None and inherited:  # a generic view answering through a mixin's render_to_response
            if any(e.role == "helper" and e.function.endswith("." + inherited) for e in endpoints):
                covered.append(PyChange(endpoint.line, endpoint.function, f"through the inherited {inherited}() in "
                                        "this module, rewritten once"))
            else:
                declined.append(PyDeclined(endpoint.line, endpoint.function, f"answers through an inherited "
                                           f"{inherited}() defined in another module: migrated with it"))
        elif found is None:
            declined.append(PyDeclined(endpoint.line, endpoint.function, "no function definition at this line"))
        if found is None:
            continue
        targets.append((endpoint, found))
    target_funcs = {f for _, f in targets}
    for endpoint, func in targets:
        if any(func is not other and any(func is inner for inner in m.findall(other, m.FunctionDef()))
               for other in target_funcs):
            covered.append(PyChange(endpoint.line, endpoint.function, "inside another rewritten function"))
            continue
        where = functions[func]
        bases = where.bases
        ctx.framework = endpoint.framework
        imports_before = len(ctx.imports)
        library = _library_decorator(ctx, func)
        if library is not None:
            swapped, reason = _swap_library_decorator(ctx, func, library)
            if swapped is None:
                del ctx.imports[imports_before:]
                declined.append(PyDeclined(endpoint.line, endpoint.function, reason))
            else:
                new_functions[func] = swapped
                changed.append(PyChange(endpoint.line, endpoint.function, reason))
            continue
        rewrite = FunctionRewrite(ctx, func, endpoint, bases, where.cls)
        try:
            new = rewrite.run()
        except NothingToDo:
            del ctx.imports[imports_before:]
            why = _covered_by(func, bases, facts, ctx) or _covered_by_helper(endpoint, endpoints, facts, hooks)
            if why is None:
                declined.append(PyDeclined(endpoint.line, endpoint.function,
                                           "no callback handling or padding recognised in this function"))
            else:
                covered.append(PyChange(endpoint.line, endpoint.function, why))
            continue
        except Decline as exc:
            del ctx.imports[imports_before:]  # a declined function adds no imports either
            declined.append(PyDeclined(exc.line or endpoint.line, endpoint.function, exc.reason))
            continue
        assert isinstance(new, cst.FunctionDef)
        if new.deep_equals(func):
            why = _covered_by(func, bases, facts, ctx) or _covered_by_helper(endpoint, endpoints, facts, hooks)
            if why is not None:
                covered.append(PyChange(endpoint.line, endpoint.function, why))
            elif rewrite.cb or rewrite.cb_attrs:
                stores_only.append((endpoint, where))
            else:
                covered.append(PyChange(endpoint.line, endpoint.function, "already plain JSON"))
            continue
        new_functions[func] = new
        changed.append(PyChange(endpoint.line, endpoint.function, "plain JSON"))
    for endpoint, where in stores_only:  # keeps the callback for another method of its class
        cls_prefix = where.qualname.rsplit(".", 1)[0] + "." if "." in where.qualname else None
        sibling = next((c.function for c in changed if cls_prefix and c.function.startswith(cls_prefix)), None)
        if sibling is not None:
            covered.append(PyChange(endpoint.line, endpoint.function, f"its padding in {sibling} was rewritten"))
        else:
            declined.append(PyDeclined(endpoint.line, endpoint.function,
                                       "reads the callback but pads elsewhere; rewrite by hand"))
    edits = _ModuleEdits(ctx, new_functions, facts.jsonp_renderers, jsonpify)
    after = ctx.module.visit(edits)
    for endpoint in module_level:
        if new_functions or edits.renamed or edits.renderer_edits:
            declined.append(PyDeclined(endpoint.line, endpoint.function,
                                       "module-level JSONP beside other edits in this file: run the rewrite again"))
            continue
        imports_before = len(ctx.imports)
        try:
            new_module = FunctionRewrite(ctx, ctx.module, endpoint).run()
        except NothingToDo:
            del ctx.imports[imports_before:]
            declined.append(PyDeclined(endpoint.line, endpoint.function,
                                       "no callback handling or padding recognised at module level"))
            continue
        except Decline as exc:
            del ctx.imports[imports_before:]
            declined.append(PyDeclined(exc.line or endpoint.line, endpoint.function, exc.reason))
            continue
        assert isinstance(new_module, cst.Module)
        after = new_module
        changed.append(PyChange(endpoint.line, endpoint.function, "plain JSON"))
    if edits.renamed:
        ctx.need_import("flask", "jsonify")
    if after.deep_equals(ctx.module) and not ctx.imports:
        return PyResult(text, tuple(changed), tuple(declined), tuple(covered))
    after = _finish_imports(ctx.module, after, ctx.imports)
    new_text = after.code
    if not text.startswith(("\n", "\r")):  # an import removed from the first line leaves its blank line
        new_text = new_text.lstrip("\r\n")
    try:
        compile(new_text, "<rewrite>", "exec")
    except SyntaxError as exc:  # never hand back code that does not compile
        reason = f"internal: the rewrite did not compile ({exc.msg}); left alone"
        return PyResult(text, declined=tuple(PyDeclined(e.line, e.function, reason) for e in endpoints))
    return PyResult(new_text, tuple(changed), tuple(declined), tuple(covered))


# ------------------------------------------------------------- Pyramid JSONP renderer registrations
_JSONP_RENDERER = frozenset({"pyramid.renderers.JSONP"})


def jsonp_renderer_names(text: str) -> set[str]:
    """Names registered with `config.add_renderer(NAME, JSONP(...))` in one module."""
    if "JSONP" not in text or "add_renderer" not in text:
        return set()
    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except cst.ParserSyntaxError:
        return set()
    ctx = ModuleContext(wrapper, (), "pyramid")
    names = set()
    for call in m.findall(ctx.module, m.Call(func=m.Attribute(attr=m.Name("add_renderer")))):
        assert isinstance(call, cst.Call)
        if len(call.args) >= 2 and isinstance(call.args[1].value, cst.Call) and (
            ctx.qname_or_dotted(call.args[1].value.func) & _JSONP_RENDERER
            or _dotted(call.args[1].value.func).endswith("JSONP")
        ):
            name = ctx.str_const(call.args[0].value)
            if name:
                names.add(name)
    return names


def remove_renderer_registrations(text: str, names: set[str]) -> str:
    """Drop `add_renderer(NAME, JSONP(...))` lines for renderer names nothing uses any more."""
    module = cst.parse_module(text)

    class Drop(cst.CSTTransformer):
        def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                      updated_node: cst.SimpleStatementLine
                                      ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
            if len(updated_node.body) == 1 and isinstance(updated_node.body[0], cst.Expr):
                call = updated_node.body[0].value
                if isinstance(call, cst.Call) and _dotted(call.func).endswith("add_renderer") and len(
                    call.args
                ) >= 2 and _string_value(call.args[0].value) in names and isinstance(
                    call.args[1].value, cst.Call
                ) and _dotted(call.args[1].value.func).endswith("JSONP"):
                    return cst.RemoveFromParent()
            return updated_node

    after = module.visit(Drop())
    if after.deep_equals(module):
        return text
    return _finish_imports(module, after, ()).code


def renderer_uses(text: str, name: str) -> int:
    """How many `renderer=NAME` arguments a module still has."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return text.count(f'"{name}"') + text.count(f"'{name}'")
    return sum(1 for arg in m.findall(module, m.Arg(keyword=m.Name("renderer")))
               if isinstance(arg, cst.Arg) and _string_value(arg.value) == name)

