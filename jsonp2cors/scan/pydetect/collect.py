"""One libcst walk of a module: functions, classes, constants, route tables, and per function the values taken
from the request (taint), the JavaScript paddings built from them, the calls made and the credentials read.

Names are resolved with libcst's scope analysis (the qualified names QualifiedNameProvider would give, asked of
the node's scope only for the names the detectors look up), so `jsonify` imported from flask_jsonpify and from
flask are different things; project-local names become absolute dotted references (`pkg.helpers.jsonp`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.pydetect import padding, routes, tables
from jsonp2cors.scan.pydetect.lines import module_lines
from jsonp2cors.scan.pydetect.model import (
    CallSite,
    ClassFacts,
    Decorator,
    FunctionFacts,
    Hook,
    ModuleFacts,
    PadEvent,
    RouteInfo,
    TableRoute,
    Taint,
)
from jsonp2cors.scan.pydetect.paths import is_test_path, module_name

NON_DATA_PARAMS = frozenset(
    {
        "self",
        "cls",
        "request",
        "req",
        "environ",
        "start_response",
        "response",
        "resp",
        "handler",
        "app",
        "ctx",
        "context",
        "f",
        "func",
        "fn",
        "view",
        "view_func",
        "wrapped",
    }
)
_RANK = {"request": 4, "ctor": 3, "param": 2, "call": 1}
Env = dict[str, Taint]
Strs = dict[str, tuple[str, ...]]


def merge(old: Taint | None, new: Taint | None) -> Taint | None:
    if old is None:
        return new
    if new is None:
        return old
    return new if _RANK[new.kind] > _RANK[old.kind] else old


def _either(a: Taint | None, b: Taint | None) -> Taint | None:
    """The value is one or the other (`args.get("callback") or args.get("jsonp")`): two callback parameters read
    from the request are both reported; otherwise as `merge`."""
    if a is not None and b is not None and a.kind == b.kind == "request" and a.strong and b.strong:
        return Taint("request", tuple(dict.fromkeys((*a.keys, *b.keys))), strong=True)
    return merge(a, b)


def _string_value(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        try:
            value = node.evaluated_value
        except Exception:
            return None
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return value if isinstance(value, str) else None
    return None


class Collector:
    """Builds the ModuleFacts of one module."""

    def __init__(self, rel: str, text: str, config: ScanConfig, module: cst.Module | None = None) -> None:
        self.config = config
        self.module = module if module is not None else cst.parse_module(text)
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        # The scopes rather than QualifiedNameProvider: that provider is one more walk of the whole tree, only to
        # attach to every node a deferred `scope.get_qualified_names_for(node)`; `ref` asks the scope itself, for
        # the few nodes it looks up (a sixth of libcst's time on a JSONP module, the same names).
        self.scopes = cast(Mapping[cst.CSTNode, Scope | None], wrapper.resolve(ScopeProvider))
        # Lines and children of every node from one code generation (see lines.py; PositionProvider's lines).
        lines = module_lines(self.module)
        self.ranges: dict[int, tuple[int, int]] = lines.ranges  # id(node) -> (first line, last line)
        self._kids = lines.kids
        self.modname = module_name(rel)
        self.package = self.modname if rel.endswith("__init__.py") else self.modname.rpartition(".")[0]
        self.facts = ModuleFacts(rel, self.modname, "generic", is_test_path(rel))
        self.top_names: set[str] = set()
        self.fn_nodes: dict[str, cst.FunctionDef] = {}
        self.envs: dict[str, tuple[Env, Strs]] = {}
        self.self_taints: dict[tuple[str, str], Taint] = {}
        self.g_taints: dict[str, Taint] = {}  # Flask `g.<attr>` set from a request value somewhere in the module
        self.imports: list[str] = []
        self._text_cache: dict[int, str] = {}
        self._installs: set[int] = set()  # module statements installing middleware (recorded as hooks)
        self._made: list[cst.CSTNode] = []  # nodes made here for module-level lambdas (see _discover_lambdas)
        self._namespaces: dict[str, tuple[str, str]] = {}  # Flask-RESTX namespace var -> (its Api var, its path)
        self.renderer_keys: dict[str, tuple[str, ...]] = {}  # class or function -> JSONP renderer params
        self.lists: dict[str, cst.List | cst.Tuple] = lines.lists  # module's `name = [...]`, the last one
        # per-function state while inspecting
        self._fn: FunctionFacts | None = None
        self._env: Env = {}
        self._strs: Strs = {}
        self._containers: set[str] = set()
        self._cls: str | None = None
        self._templates: dict[str, str] = {}  # module-level `NAME = Template("$callback($data)")`
        self._seqs: dict[str, cst.Tuple | cst.List] = {}  # `args = (cb, body)` in the function: for `"%s(%s)" % args`

    # ------------------------------------------------------------------------------------ name helpers
    def text(self, node: cst.CSTNode) -> str:
        dotted = _dotted(node)
        if dotted is not None:
            return dotted
        cached = self._text_cache.get(id(node))
        if cached is None:
            cached = " ".join(self.module.code_for_node(node).split())
            self._text_cache[id(node)] = cached
        return cached

    def line(self, node: cst.CSTNode) -> int:
        found = self.ranges.get(id(node))
        return found[0] if found is not None else 0

    def local_ref(self, qual: str) -> str:
        """The absolute reference of a name defined in this module (`pkg.views.Feed` for `Feed`)."""
        return f"{self.modname}.{qual}" if self.modname else qual

    def absolute(self, name: str) -> str:
        if not name.startswith("."):
            return name
        dots = len(name) - len(name.lstrip("."))
        base = self.package.split(".") if self.package else []
        if dots > 1:
            base = base[: len(base) - (dots - 1)] if dots - 1 <= len(base) else []
        rest = name[dots:]
        return ".".join([*base, rest] if rest else base)

    def ref(self, node: cst.BaseExpression) -> str:
        """Absolute dotted reference of a name or attribute chain; its spelling when unresolvable."""
        spelled = self.text(node)
        if spelled.split(".", 1)[0] in ("self", "cls"):
            return spelled
        scope = self.scopes.get(node)
        names = scope.get_qualified_names_for(node) if scope is not None else ()
        best: str | None = None
        for q in sorted(names or (), key=lambda q: q.name):
            if q.source is QualifiedNameSource.IMPORT:
                return self.absolute(q.name)
            if q.source is QualifiedNameSource.BUILTIN:
                best = best or f"builtins.{q.name}"
            elif q.source is QualifiedNameSource.LOCAL:
                top = q.name.split(".", 1)[0]
                if top in self.top_names and "<locals>" not in q.name.split(".", 1)[0]:
                    best = self.local_ref(q.name)
                elif "<locals>" in q.name:
                    best = best or self.local_ref(q.name)
                else:
                    best = best or q.name
        return best or spelled

    def is_library(self, ref: str) -> bool:
        """A name from a well-known library (not from this project, even when a folder shares its name)."""
        root = ref.split(".", 1)[0]
        if root not in tables.LIBRARY_ROOTS:
            return False
        return not (self.modname and root == self.modname.split(".", 1)[0])

    def literal(self, node: cst.BaseExpression) -> str | None:
        value = _string_value(node)
        if value is not None:
            return value
        if isinstance(node, cst.Name):
            const = self._strs.get(node.value) or self.facts.constants.get(node.value)
            if const and len(const) == 1:
                return const[0]
        return None

    def _opens_call(self, node: cst.BaseExpression) -> bool:
        """Text built at run time that starts with `(`: `"(%s)" % body`, `"({})".format(body)`, f"({body})"."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            template = self.template_of(node.left)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
            template = self.template_of(node.func.value)
        elif isinstance(node, cst.FormattedString) and node.parts:
            first = node.parts[0]
            template = first.value if isinstance(first, cst.FormattedStringText) else None
        else:
            template = None
        return template is not None and padding.opens_call(template)

    def _variable(self, node: cst.BaseExpression, literal: str | None) -> bool:
        """Is this operand a value rather than fixed text? A name that holds a request value on some path is one,
        even when another path gives it a constant (`if not cb.isidentifier(): cb = "callback"`)."""
        return literal is None or (isinstance(node, cst.Name) and self.taint(node) is not None)

    def list_named(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """A name bound to a list or tuple in this module (`handlers = [(r"/x", X)]`): that list; else the node."""
        if isinstance(node, cst.Name):
            return self.lists.get(node.value, node)
        return node

    def str_list(self, node: cst.BaseExpression) -> tuple[str, ...] | None:
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            out = [self.literal(e.value) for e in node.elements if isinstance(e, cst.Element)]
            return tuple(v for v in out if v is not None)
        if isinstance(node, cst.Name):
            return self._strs.get(node.value) or self.facts.constants.get(node.value)
        one = self.literal(node)
        return (one,) if one is not None else None

    # ------------------------------------------------------------------------------------------ driver
    def collect(self) -> ModuleFacts:
        _KIDS.clear()
        _KIDS.update(self._kids)
        try:
            return self._collect()
        finally:
            _KIDS.clear()

    def _collect(self) -> ModuleFacts:
        self._module_level()
        self._framework()
        self._tables(self.module)
        self._discover(self.module.body, "", None, None)
        self._discover_lambdas()
        uses_g = any(i == "flask" or i in _REQUEST_GLOBALS for i in self.imports)
        first = [q for q, n in self.fn_nodes.items() if self._sets_request_globals(n)] if uses_g else []
        for qual in [*first, *(q for q in self.fn_nodes if q not in first)]:
            self._analyze(qual, self.fn_nodes[qual])
        self._analyze_module_code()
        self.facts.g_keys = {attr: t.keys for attr, t in self.g_taints.items() if t.kind == "request"}
        self.facts.imports = tuple(sorted(set(self.imports)))
        return self.facts

    def _module_level(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
                self.top_names.add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign | cst.AnnAssign):
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                        for target in targets:
                            if isinstance(target, cst.Name):
                                self.top_names.add(target.value)
                                if small.value is not None:
                                    values = self.str_list(small.value)
                                    if values:
                                        self.facts.constants[target.value] = values
                                    template = self._template_text(small.value)
                                    if template is not None:
                                        self._templates[target.value] = template
                                    if target.value == "REST_FRAMEWORK" and isinstance(small.value, cst.Dict):
                                        self._drf_settings(small.value)
                                    if target.value in _DJANGO_MIDDLEWARE_SETTINGS and values:
                                        self._django_middleware(values)
        for node in _walk(self.module):
            if isinstance(node, cst.Import):
                for alias in node.names:
                    self.imports.append(self.text(alias.name))
            elif isinstance(node, cst.ImportFrom):
                base = self.text(node.module) if node.module is not None else ""
                base = self.absolute("." * len(node.relative) + base)
                if isinstance(node.names, cst.ImportStar):
                    self.imports.append(base + ".*")
                else:
                    for alias in node.names:
                        self.imports.append(f"{base}.{self.text(alias.name)}" if base else self.text(alias.name))

    def _framework(self) -> None:
        framework = tables.framework_of_imports(self.imports)
        if framework is not None:
            self.facts.framework = framework
            return
        if "web" in self.imports and self.modname.split(".", 1)[0] != "web":  # `import web`: web.py
            self.facts.framework = "webpy"

    def _tables(self, root: cst.CSTNode) -> None:
        """Route tables and registrations, anywhere in the module (also inside create_app()/main())."""
        stack: list[cst.CSTNode] = [root]
        while stack:
            node = stack.pop()
            call: cst.Call | None = None
            targets: list[cst.BaseExpression] = []
            if isinstance(node, cst.Call):
                call = node
            elif isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
                call = node.value
                targets = [t.target for t in node.targets]
            if call is None:
                stack.extend(reversed(_children(node)))
                continue
            consumed = any(rule(call, self.facts.framework, self) for rule in routes.CALL_RULES)
            pending = self.facts.prefixes.pop("@pending", None)
            self._settle_app_hooks(targets)
            self._note_namespace(targets, call)
            if isinstance(node, cst.Assign) and self._wsgi_middleware(targets, call):  # before `app` is rebound
                self._installs.add(id(node))
            for target in targets:
                if isinstance(target, cst.Name | cst.Attribute):
                    var = self.text(target)
                    if pending is not None:
                        self.facts.prefixes[var] = pending
                    if isinstance(call.func, cst.Name | cst.Attribute):
                        owner = self._attached_to(target)
                        if owner is not None and isinstance(target, cst.Attribute):  # `root.users = Users()`
                            self.facts.attached.append((owner, target.attr.value, self.ref(call.func)))
                        self.facts.registrar_types[var] = self.ref(call.func)
            if not consumed:
                stack.extend(reversed(_children(call)))

    def _wsgi_middleware(self, targets: list[cst.BaseExpression], call: cst.Call) -> bool:
        """A WSGI middleware wrapped around a whole app, whose `__call__` then sees every response of it: a hook
        on that app's routes (recorded here; the statement is then no module-level handler). Flask's
        `app.wsgi_app = Middleware(app.wsgi_app)`, `application = Middleware(app)`, `app = Middleware(app)`;
        Django's wsgi.py `application = Middleware(get_wsgi_application())`, like middleware in the settings; raw
        WSGI `application = Middleware(simple_app)` around a function of this module."""
        if len(targets) != 1 or len(call.args) < 1 or not isinstance(call.func, cst.Name | cst.Attribute):
            return False
        target, inner = targets[0], call.args[0].value
        # `application = M(x)` (the WSGI entry point) or `x = M(x)`: not `api = Api(app)`, `CORS(app)`, which
        # extensions built with the app look like
        wrapped: str | None = None
        if isinstance(inner, cst.Name) and isinstance(target, cst.Name):
            wrapped = inner.value if target.value in ("application", inner.value) else None
        registrar: str | None = None
        if self.facts.framework == "flask":
            if isinstance(target, cst.Attribute) and target.attr.value == "wsgi_app":
                if self.text(inner) == self.text(target):
                    registrar = self.text(target.value)
            elif wrapped is not None and self.facts.registrar_types.get(wrapped) in _FLASK_APPS:
                registrar = wrapped
        elif (
            self.facts.framework == "django"
            and isinstance(inner, cst.Call)
            and self.ref(inner.func) in _DJANGO_WSGI_APPS
        ):
            registrar = tables.DJANGO_SETTINGS_HOOK
        if registrar is None and wrapped is not None and self._is_wsgi_function(wrapped):
            # raw WSGI: `application = Middleware(simple_app)` around a `def simple_app(environ, start_response)`
            registrar = f"@wsgi:{wrapped}"
            self.facts.table_routes.append(
                TableRoute(self.local_ref(wrapped), None, (), "wsgi", registrar, self.line(call))
            )
        if registrar is None:
            return False
        # around a single WSGI function the middleware pads whatever it answers; around an app, its JSON routes
        kind = "wsgi-middleware" if registrar.startswith("@wsgi:") else "middleware"
        self.facts.hooks.append(Hook(f"{self.ref(call.func)}.__call__", registrar, kind))
        return True

    def _is_wsgi_function(self, name: str) -> bool:
        """Is `name` a function of this module's top level taking `(environ, start_response)`?"""
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                params = [p.name.value for p in stmt.params.params[:2]]
                return params == ["environ", "start_response"]
        return False

    def _note_namespace(self, targets: list[cst.BaseExpression], call: cst.Call) -> None:
        """Flask-RESTX / Flask-RESTPlus `ns = api.namespace("todos", path=...)`: the namespace's routes belong to
        `api` (its representations and prefix), under the namespace's path (`/todos` by default)."""
        func = call.func
        if not (
            len(targets) == 1
            and isinstance(targets[0], cst.Name)
            and isinstance(func, cst.Attribute)
            and func.attr.value == "namespace"
            and isinstance(func.value, cst.Name)
            and self._restx_api(func.value.value)
        ):
            return
        name = self.literal(call.args[0].value) if call.args and call.args[0].keyword is None else None
        path_arg = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "path"), None)
        path = self.literal(path_arg) if path_arg is not None else (f"/{name}" if name else None)
        if path is not None:
            self._namespaces[targets[0].value] = (func.value.value, path)

    def _restx_api(self, var: str) -> bool:
        """Is `var` a Flask-RESTX / Flask-RESTPlus `Api` (or `Namespace`) built in this module?"""
        built = self.facts.registrar_types.get(var, "")
        library, _, name = built.rpartition(".")
        return library.split(".", 1)[0] in ("flask_restx", "flask_restplus") and name in ("Api", "Namespace")

    def _class_routes(self, node: cst.ClassDef, qual: str) -> None:
        """Flask-RESTX / Flask-RESTPlus `@api.route("/todos")` / `@ns.route("/<id>")` on a Resource class."""
        for dec in node.decorators:
            expr = dec.decorator
            if not (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "route"
                and isinstance(expr.func.value, cst.Name)
                and expr.args
            ):
                continue
            path = self.literal(expr.args[0].value)
            var = expr.func.value.value
            if path is None:
                continue
            if var in self._namespaces:
                var, under = self._namespaces[var]
                path = under.rstrip("/") + "/" + path.lstrip("/") if path.strip("/") else under.rstrip("/") + "/"
            elif not self._restx_api(var):
                continue
            self.facts.table_routes.append(TableRoute(self.local_ref(qual), path, (), "flask", var, self.line(dec)))

    def _settle_app_hooks(self, targets: list[cst.BaseExpression]) -> None:
        """Hooks a rule registered for "the app being built" belong to the variable it is assigned to (none:
        every table route of the module, like the hooks of an app never named)."""
        if not any(h.registrar == routes.PENDING_APP for h in self.facts.hooks):
            return
        names = [self.text(t) for t in targets if isinstance(t, cst.Name | cst.Attribute)]
        owner = names[0] if names else ""
        self.facts.hooks = [
            Hook(h.function, owner, h.kind) if h.registrar == routes.PENDING_APP else h for h in self.facts.hooks
        ]

    def _attached_to(self, target: cst.BaseExpression) -> str | None:
        """In a CherryPy module, the class of `root` in `root.users = ...` (an instance built in this module)."""
        if self.facts.framework != "cherrypy" or not isinstance(target, cst.Attribute):
            return None
        if not isinstance(target.value, cst.Name):
            return None
        return self.facts.registrar_types.get(target.value.value)

    def _discover(self, body: Any, prefix: str, cls: str | None, parent: str | None) -> None:
        for node in _statements(body):
            if isinstance(node, cst.FunctionDef):
                qual = prefix + node.name.value
                self._register_function(qual, node, cls, parent)
                self._discover(node.body, qual + ".<locals>.", None, qual)
            elif isinstance(node, cst.ClassDef):
                qual = prefix + node.name.value
                self._register_class(qual, node)
                self._discover(node.body, qual + ".", qual, parent)

    def _discover_lambdas(self) -> None:
        """Module-level `pad = lambda cb, data: "%s(%s)" % (cb, json.dumps(data))`: a function named `pad` like a
        `def` (its own scope is the lambda's). It is analysed through a `def pad(cb, data): return ...` made of
        the lambda's own parameters and body, whose lines are the assignment's."""
        for stmt in self.module.body:
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
                continue
            assign = stmt.body[0]
            if not (
                isinstance(assign, cst.Assign)
                and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
                and isinstance(assign.value, cst.Lambda)
            ):
                continue
            name = assign.targets[0].target.value
            if name in self.facts.functions:
                continue
            lam = assign.value
            ret = cst.Return(value=lam.body)
            line = cst.SimpleStatementLine(body=[ret])
            block = cst.IndentedBlock(body=[line])
            node = cst.FunctionDef(name=cst.Name(name), params=lam.params, body=block)
            self._made.extend((ret, line, block, node))  # kept alive: the tables below are keyed by id()
            where = self.ranges.get(id(stmt), (0, 0))
            for made in (ret, line, block, node, node.name):
                self.ranges[id(made)] = where
            kids: dict[int, list[cst.CSTNode]] = {
                id(node): [lam.params, block], id(block): [line], id(line): [ret], id(ret): [lam.body]
            }
            self._kids.update(kids)
            _KIDS.update(kids)  # the walk's table for this module, filled from self._kids before
            self._register_function(name, node, None, None)
            self.top_names.add(name)

    def _register_class(self, qual: str, node: cst.ClassDef) -> None:
        bases = tuple(self.ref(b.value) for b in node.bases if b.keyword is None)
        methods: list[str] = []
        attrs: dict[str, tuple[str, ...]] = {}
        renderers: tuple[str, ...] = ()
        exposed = False
        exposed_methods: set[str] = set()
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        smalls: list[cst.CSTNode] = []
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                smalls.extend(stmt.body)
        for item in [*_statements(node.body), *smalls]:
            if isinstance(item, cst.FunctionDef):
                methods.append(item.name.value)
            elif isinstance(item, cst.Assign):
                exposed_methods.update(self._exposed_method(item))
                for t in item.targets:
                    if isinstance(t.target, cst.Name):
                        values = self.str_list(item.value)
                        if values:
                            attrs[t.target.value] = values
                        if t.target.value == "exposed" and self.text(item.value) == "True":
                            exposed = True
                        if (
                            self.facts.framework == "cherrypy"
                            and isinstance(item.value, cst.Call)
                            and isinstance(item.value.func, cst.Name | cst.Attribute)
                        ):  # `users = Users()`: the object tree under this class
                            child = self.ref(item.value.func)
                            self.facts.attached.append((self.local_ref(qual), t.target.value, child))
                        if t.target.value == "renderer_classes":
                            keys = self._jsonp_renderer(item.value)
                            if keys:
                                self.renderer_keys[qual] = keys
                            renderers = self._renderer_refs(item.value)
        decorators = tuple(self._decorator(d) for d in node.decorators)
        self._class_routes(node, qual)
        self.facts.classes[qual] = ClassFacts(
            qual, self.line(node), bases, tuple(methods), attrs, {}, exposed, decorators, renderers,
            frozenset(exposed_methods),
        )

    def _exposed_method(self, item: cst.Assign) -> list[str]:
        """The methods a class-body assignment exposes the CherryPy 3.0 way: `index.exposed = True`, or
        `index = cherrypy.expose(index)`."""
        value = item.value
        out: list[str] = []
        for t in item.targets:
            target = t.target
            if (
                isinstance(target, cst.Attribute)
                and target.attr.value == "exposed"
                and isinstance(target.value, cst.Name)
                and isinstance(value, cst.Name)
                and value.value == "True"
            ):
                out.append(target.value.value)
            elif (
                isinstance(target, cst.Name)
                and isinstance(value, cst.Call)
                and len(value.args) == 1
                and isinstance(value.args[0].value, cst.Name)
                and value.args[0].value.value == target.value
                and routes.is_expose(self.ref(value.func), self.text(value.func))
            ):
                out.append(target.value)
        return out

    def _django_middleware(self, dotted: Sequence[str]) -> None:
        """Django settings `MIDDLEWARE = ["proj.middleware.JSONPMiddleware", ...]` (`MIDDLEWARE_CLASSES` before 1.10):
        each class sees every response of every view, through `__call__` (new style) or `process_response`."""
        for path in dotted:
            if "." in path and not path.startswith("django."):
                for method in ("__call__", "process_response"):
                    self.facts.hooks.append(Hook(f"{path}.{method}", tables.DJANGO_SETTINGS_HOOK, "middleware"))

    def _drf_settings(self, settings: cst.Dict) -> None:
        """`REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": (...)}`: the renderers every DRF view answers through."""
        for el in settings.elements:
            if isinstance(el, cst.DictElement) and self.literal(el.key) == "DEFAULT_RENDERER_CLASSES":
                self.facts.drf_default_renderers = self.str_list(el.value) or ()

    def _renderer_refs(self, node: cst.BaseExpression) -> tuple[str, ...]:
        """The classes listed in `renderer_classes = (...)` / `@renderer_classes([...])`, as references."""
        if not isinstance(node, cst.List | cst.Tuple):
            return ()
        return tuple(self.ref(e.value) for e in node.elements if isinstance(e.value, cst.Name | cst.Attribute))

    def _jsonp_renderer(self, node: cst.BaseExpression) -> tuple[str, ...]:
        """Keys of a DRF JSONP renderer listed in `renderer_classes = (...)` / `@renderer_classes([...])`."""
        if isinstance(node, cst.List | cst.Tuple):
            for el in node.elements:
                keys = self._jsonp_renderer(el.value)
                if keys:
                    return keys
        elif isinstance(node, cst.Name | cst.Attribute):
            return tables.LIBRARY_RENDERER_CLASSES.get(self.ref(node), ())
        return ()

    def _decorator(self, dec: cst.Decorator) -> Decorator:
        expr = dec.decorator
        if (
            isinstance(expr, cst.Call)
            and self.text(expr.func).endswith("method_decorator")
            and expr.args
            and expr.args[0].keyword is None
            and isinstance(expr.args[0].value, cst.Name | cst.Attribute | cst.Call)
        ):
            expr = expr.args[0].value  # Django: @method_decorator(jsonp, name="dispatch") applies `jsonp`
        called = isinstance(expr, cst.Call)
        func = expr.func if isinstance(expr, cst.Call) else expr
        args: list[str | None] = []
        kwargs: list[tuple[str, str]] = []
        list_kwargs: list[tuple[str, tuple[str, ...]]] = []
        func_kwargs: list[tuple[str, str]] = []
        if isinstance(expr, cst.Call):
            for a in expr.args:
                if a.keyword is None and not a.star:
                    if isinstance(a.value, cst.List | cst.Tuple):
                        args.append(",".join(self.str_list(a.value) or ()))
                    else:
                        args.append(self.literal(a.value))
                elif a.keyword is not None:
                    value = self.literal(a.value)
                    if value is None and isinstance(a.value, cst.Name) and a.value.value in ("True", "False"):
                        value = a.value.value  # @action(detail=True)
                    if value is not None:
                        kwargs.append((a.keyword.value, value))
                    elif isinstance(a.value, cst.List | cst.Tuple | cst.Set):
                        list_kwargs.append((a.keyword.value, self.str_list(a.value) or ()))
                    elif isinstance(a.value, cst.Name | cst.Attribute):
                        func_kwargs.append((a.keyword.value, self.ref(a.value)))
        return Decorator(
            self.ref(func), self.text(func), tuple(args), tuple(kwargs), tuple(list_kwargs), called, tuple(func_kwargs)
        )

    def _register_function(self, qual: str, node: cst.FunctionDef, cls: str | None, parent: str | None) -> None:
        params = tuple(p.name.value for p in (*node.params.posonly_params, *node.params.params))
        decorators = tuple(self._decorator(d) for d in node.decorators)
        line, end = self.ranges.get(id(node), (0, 0))
        # The `def` line, not the first decorator's.
        line = self.line(node.name) or line
        renderers: tuple[str, ...] = ()
        for dec_node in node.decorators:
            expr = dec_node.decorator
            if isinstance(expr, cst.Call) and self.text(expr.func).endswith("renderer_classes") and expr.args:
                keys = self._jsonp_renderer(expr.args[0].value)
                if keys:
                    self.renderer_keys[qual] = keys
                renderers = self._renderer_refs(expr.args[0].value)
        fn = FunctionFacts(
            qual,
            node.name.value,
            line,
            end,
            cls,
            parent,
            params,
            decorators,
            is_async=node.asynchronous is not None,
            renderers=renderers,
        )
        for dec in decorators:
            for rule in routes.DECORATOR_RULES:
                info = rule(dec, self.facts.framework)
                if info is not None:
                    fn.routes.append(info)
                    break
            hook = routes.hook_kind(dec)
            if hook is not None:
                self.facts.hooks.append(Hook(qual, hook[0], hook[1]))
            reason = tables.decorator_credentials(dec.target, dec.text)
            if reason:
                fn.credentials.append(reason)
        if fn.routes:
            fn.handler_hint = "exposed" if fn.routes[0].path == "@exposed" else "route"
        elif cls is not None and node.name.value in tables.HANDLER_METHODS:
            fn.handler_hint = "method"
        elif params[:2] == ("environ", "start_response"):
            fn.handler_hint = "wsgi"
        elif (cls is None and params[:1] in (("request",), ("req",))) or (
            cls is not None and params[1:2] in (("request",), ("req",))
        ):
            fn.handler_hint = "view"
        owner = self.facts.classes.get(cls) if cls is not None else None
        if owner is not None and (
            (owner.exposed and not node.name.value.startswith("_")) or node.name.value in owner.exposed_methods
        ):
            fn.handler_hint = fn.handler_hint or "exposed"
            if not fn.routes:  # MethodDispatcher: `def GET(self)` answers GET at the object's own path
                verb = node.name.value if tables.is_verb_method(node.name.value) else "GET"
                fn.routes.append(RouteInfo("@exposed", (verb,), "", "cherrypy"))
        for p in (*node.params.params, *node.params.kwonly_params):
            default = p.default
            if isinstance(default, cst.Call):
                callee = self.ref(default.func)
                why = tables.CREDENTIAL_QUALIFIED.get(callee)
                if why:
                    fn.credentials.append(why)
                elif callee.endswith("Depends") and default.args:
                    dep = self.text(default.args[0].value).lower()
                    if any(w in dep for w in ("user", "auth", "session", "login")):
                        fn.credentials.append(f"depends on {self.text(default.args[0].value)}")
        self.facts.functions[qual] = fn
        self.fn_nodes[qual] = node

    # ---------------------------------------------------------------------------------------- analysis
    def _analyze(self, qual: str, node: cst.FunctionDef) -> None:
        fn = self.facts.functions[qual]
        env: Env = {}
        strs: Strs = {}
        if fn.parent and fn.parent in self.envs:
            penv, pstrs = self.envs[fn.parent]
            env.update({k: v for k, v in penv.items() if v.kind in ("request", "call")})
            strs.update(pstrs)
        params = [*node.params.posonly_params, *node.params.params]
        for i, p in enumerate(params):
            self._param(p, i, env, strs)
        for p in node.params.kwonly_params:
            self._param(p, -1, env, strs)
        if isinstance(node.params.star_kwarg, cst.Param):
            env.pop(node.params.star_kwarg.name.value, None)
        self._run(fn, list(_walk(node.body)), env, strs, self._class_of(qual))
        self.envs[qual] = (dict(self._env), dict(self._strs))
        keys = self.renderer_keys.get(qual)
        if keys is None and fn.cls is not None and fn.name in tables.HANDLER_METHODS:
            keys = self.renderer_keys.get(fn.cls)
        if keys:  # Django REST framework answers through its JSONP renderer
            fn.pads.append(PadEvent(Taint("request", keys), fn.line, "drf-jsonp-renderer"))

    def _param(self, p: cst.Param, index: int, env: Env, strs: Strs) -> None:
        name = p.name.value
        if p.default is not None:
            value = self.literal(p.default)
            if value is not None:
                strs[name] = (value,)
        if name not in NON_DATA_PARAMS:
            key = self._param_alias(p) or name  # FastAPI: `cb: str = Query(None, alias="callback")` reads ?callback=
            annotation = self.text(p.annotation.annotation) if p.annotation is not None else None
            env[name] = Taint(
                "param",
                (key,),
                index,
                name,
                strong=(
                    tables.is_callback_name(key, self.config.callback_params)
                    or tables.is_callback_name(name, self.config.callback_params)
                )
                and not tables.function_typed(annotation),  # `callback: Callable[...]` holds a function
            )

    def _param_alias(self, p: cst.Param) -> str | None:
        """The request name a handler parameter is declared under, when it differs from the Python name:
        `Query(..., alias="callback")` as the default or inside `Annotated[str, Query(alias="callback")]`."""
        calls: list[cst.BaseExpression] = [p.default] if p.default is not None else []
        annotation = p.annotation.annotation if p.annotation is not None else None
        if isinstance(annotation, cst.Subscript) and self.text(annotation.value).endswith("Annotated"):
            calls.extend(
                e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index)
            )
        for call in calls:
            if isinstance(call, cst.Call):
                for arg in call.args:
                    if arg.keyword is not None and arg.keyword.value == "alias":
                        value = self.literal(arg.value)
                        if value:
                            return value
        return None

    def _class_of(self, qual: str) -> str | None:
        fn = self.facts.functions.get(qual)
        return fn.cls if fn else None

    def _run(self, fn: FunctionFacts, nodes: list[cst.CSTNode], env: Env, strs: Strs, cls: str | None) -> None:
        """Bind names (twice, so later assignments reach earlier uses in loops), then inspect every node."""
        self._fn, self._env, self._strs, self._containers, self._cls = fn, env, strs, set(), cls
        self._seqs = {}
        for _ in range(2):
            for node in nodes:
                self._bind(node)
        for node in nodes:
            self._inspect(node)
        for node in nodes:
            if isinstance(node, cst.IndentedBlock):
                self._piecewise(node.body)
        if fn.qualname == "<module>":
            self._piecewise(self.module.body)
        self._fn = None

    def _piecewise(self, body: Sequence[cst.BaseStatement]) -> None:
        """Padding written piece by piece: `self.write(cb)` then `self.write("(" + body + ")")` (or
        `out.append(cb)`; `out.append("(")`, `sys.stdout.write`, `print(cb, end="")`): one output call given the
        request value, the next one a text opening the argument list."""
        calls: list[tuple[str, cst.Call | None]] = []  # (what is written to, the call) per statement, in order
        for stmt in body:
            smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ()
            if not smalls:
                calls.append(("", None))  # a compound statement breaks the sequence
            for small in smalls:
                call = small.value if isinstance(small, cst.Expr) else None
                if isinstance(call, cst.Call) and call.args:
                    func = call.func
                    sink = self.text(func.value) + "." if isinstance(func, cst.Attribute) else ""
                    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
                    calls.append((sink + name if name in _PIECE_WRITERS else "", call))
                else:
                    calls.append(("", None))
        for (sink, first), (again, second) in itertools.pairwise(calls):
            if not sink or sink != again or first is None or second is None:
                continue
            opening = _leftmost(second.args[0].value)
            literal = _string_value(opening) if opening is not None else None
            if literal is not None and padding.opens_call(literal.lstrip()):
                self._pad(first.args[0].value, "piecewise-padding", first)

    def _analyze_module_code(self) -> None:
        fn = FunctionFacts("<module>", "<module>", 0, 0, None, None, (), handler_hint="module")
        stmts = [
            s
            for s in self.module.body
            if not isinstance(s, cst.FunctionDef | cst.ClassDef)
            and not (isinstance(s, cst.SimpleStatementLine) and any(id(small) in self._installs for small in s.body))
        ]
        if not stmts:
            return
        self._run(fn, [n for stmt in stmts for n in _walk(stmt)], {}, {}, None)
        if fn.pads or fn.calls:
            lines = [p.line for p in fn.pads] or [c.line for c in fn.calls]
            fn.line = min(lines)
            fn.end_line = max(lines)
            self.facts.functions["<module>"] = fn

    # ------------------------------------------------------------------------------------ binding pass
    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression | None, taint: Taint | None) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            self._env[name] = merge(self._env.get(name), taint) if taint else self._env.get(name)  # type: ignore[assignment]
            if self._env[name] is None:
                del self._env[name]
            if value is not None:
                values = self.str_list(value) if not isinstance(value, cst.Name) else None
                if values:
                    self._strs[name] = values
                if self.is_container(value):
                    self._containers.add(name)
        elif isinstance(target, cst.Tuple | cst.List):
            values_nodes = value.elements if isinstance(value, cst.Tuple | cst.List) else None
            for i, el in enumerate(target.elements):
                if values_nodes is not None and i < len(values_nodes):
                    v = values_nodes[i].value
                    self._assign(el.value, v, self.taint(v))
                else:
                    self._assign(el.value, None, taint)
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and (target.value.value == "self")
            and self._cls
            and taint is not None
        ):
            key = (self._cls, target.attr.value)
            fn = self._fn
            if taint.kind == "param" and fn is not None and fn.name == "__init__":
                taint = Taint("ctor", taint.keys, taint.param, taint.name, strong=taint.strong)
                self.facts.classes[self._cls].self_params[target.attr.value] = (taint.param, taint.name)
            if taint.kind in ("request", "ctor", "call"):
                self.self_taints[key] = merge(self.self_taints.get(key), taint)  # type: ignore[assignment]
        elif (
            isinstance(target, cst.Attribute)
            and taint is not None
            and taint.kind == "request"
            and self._is_request_globals(target.value)
        ):  # Flask `g.callback = request.args.get("callback")` (a before_request hook, say): `g.callback` is it
            attr = target.attr.value
            self.g_taints[attr] = merge(self.g_taints.get(attr), taint)  # type: ignore[assignment]

    def _bind(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            taint = self.taint(node.value)
            for tgt in node.targets:
                self._assign(tgt.target, node.value, taint)
                if isinstance(tgt.target, cst.Name) and isinstance(node.value, cst.Tuple | cst.List):
                    self._seqs[tgt.target.value] = node.value
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._assign(node.target, node.value, self.taint(node.value))
        elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            t = self.taint(node.value)
            if t is not None:
                self._env[node.target.value] = merge(self._env.get(node.target.value), t)  # type: ignore[assignment]
        elif isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name):
            self._assign(node.target, node.value, self.taint(node.value))
        elif isinstance(node, cst.For | cst.CompFor):
            target = node.target
            if isinstance(target, cst.Name):
                values = self.str_list(node.iter)
                if values:
                    self._strs[target.value] = values
                elif isinstance(node.iter, cst.Attribute | cst.Name):
                    self._strs[target.value] = ("@" + self.ref(node.iter),)
                t = self.taint(node.iter)
                if t is not None:
                    self._env[target.value] = merge(self._env.get(target.value), t)  # type: ignore[assignment]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            self._assign(node.asname.name, node.item, self.taint(node.item))

    # ------------------------------------------------------------------------------------------- taint
    def is_container(self, node: cst.BaseExpression) -> bool:
        """Does this expression hold request parameters (request.args, parse_qs(...), cgi.FieldStorage())?"""
        if isinstance(node, cst.Name):
            return node.value in self._containers
        if isinstance(node, cst.Attribute):
            ref = self.ref(node)
            if ref.startswith(
                ("flask.request.", "bottle.request.", "cherrypy.request.", "pyramid.request.")
            ) and tables.REQUEST_CONTAINER.search(ref):
                return True
            spelled = self.text(node)
            m = tables.REQUEST_CONTAINER.search(spelled)
            if m:
                root = spelled[: m.start()]
                if tables.REQUEST_ROOT.match(root) or root in self._containers:
                    return True
            return False
        if isinstance(node, cst.Call):
            ref = self.ref(node.func)
            last = ref.rsplit(".", 1)[-1]
            if ref in tables.CONTAINER_FACTORIES or last in ("parse_qs", "parse_qsl", "FieldStorage"):
                return True
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                "copy",
                "to_dict",
                "dict",
                "mixed",
            ):
                return self.is_container(node.func.value)
            if last == "dict" and node.args:
                return self.is_container(node.args[0].value)
            if ref == "getattr" and len(node.args) >= 2:  # getattr(request, "query_params", {})
                attr = self.literal(node.args[1].value)
                obj = self.text(node.args[0].value)
                return (
                    attr is not None
                    and attr in tables.REQUEST_CONTAINER_NAMES
                    and (bool(tables.REQUEST_ROOT.match(obj)) or obj in self._containers)
                )
            return False
        if isinstance(node, cst.BooleanOperation):  # request and request.GET or {}
            return self.is_container(node.left) or self.is_container(node.right)
        return False

    def key_strings(self, node: cst.BaseExpression) -> tuple[str, ...]:
        value = _string_value(node)
        if value is not None:
            return (value,)
        if isinstance(node, cst.Name):
            keys = self._strs.get(node.value) or self.facts.constants.get(node.value) or ()
            param = self._env.get(node.value)
            if len(keys) == 1 and param is not None and param.kind == "param" and self._fn is not None:
                self._fn.key_params[node.value] = keys[0]  # a caller may pass another name
            return keys
        if isinstance(node, cst.Attribute):
            base = self.text(node.value)
            attr = node.attr.value
            cls_qual = self._cls if base in ("self", "cls") else (base if base in self.facts.classes else None)
            seen: set[str] = set()
            while cls_qual and cls_qual not in seen:
                seen.add(cls_qual)
                cls = self.facts.classes.get(cls_qual)
                if cls is None:
                    break
                if attr in cls.attrs:
                    if base in ("self", "cls") and self._fn is not None:
                        self._fn.self_keys[attr] = cls.attrs[attr]
                    return cls.attrs[attr]
                cls_qual = next(
                    (b.rsplit(".", 1)[-1] for b in cls.bases if b.rsplit(".", 1)[-1] in self.facts.classes),
                    None,
                )
            return ("@" + self.ref(node),)
        if isinstance(node, cst.Subscript):
            return ("@" + self.text(node),)
        return ()

    def _keyed_taint(self, keys: tuple[str, ...], container: bool) -> Taint | None:
        strong = any(
            tables.is_callback_name(k, self.config.callback_params)
            if not k.startswith("@")
            else any(w in k.lower() for w in ("callback", "jsonp", "cb"))
            for k in keys
        )
        if strong or container:
            return Taint("request", keys, strong=strong)
        return None

    def source(self, node: cst.BaseExpression) -> Taint | None:
        """A request parameter read: request.args.get("callback"), request.GET["cb"], request.query.callback,
        self.get_argument("jsonp"), form.getfirst("callback"), kwargs.pop("callback") ..."""
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method not in tables.SOURCE_METHODS:
                return None
            positional = [a for a in node.args if a.keyword is None and not a.star]
            if not positional:
                return None
            keys = self.key_strings(positional[0].value)
            container = (
                method in tables.REQUEST_API_METHODS
                or self.is_container(node.func.value)
                # webapp2 (and WebOb's BaseRequest helpers): self.request.get("callback")
                or (method in ("get", "get_all") and bool(tables.REQUEST_ROOT.match(self.text(node.func.value))))
            )
            if not keys and not container:
                return None
            found = self._keyed_taint(keys, container)
            if found is not None and len(positional) > 1:  # args.get("callback", args.get("jsonp")): either name
                fallback = self.source(positional[1].value)
                if fallback is not None:
                    found = _either(found, fallback)
            return found
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if not isinstance(index, cst.Index):
                return None
            keys = self.key_strings(index.value)
            container = self.is_container(node.value)
            if not keys:
                return None
            if not container and all(k.startswith("@") for k in keys):
                return None
            return self._keyed_taint(keys, container)
        if (
            isinstance(node, cst.Attribute)
            and tables.is_callback_name(node.attr.value, self.config.callback_params)
            and self.is_container(node.value)
        ):
            return Taint("request", (node.attr.value,), strong=True)
        return None

    def taint(self, node: cst.BaseExpression | None) -> Taint | None:
        if node is None:
            return None
        if isinstance(node, cst.Name):
            return self._env.get(node.value)
        src = self.source(node)
        if src is not None:
            return src
        if isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and base.value in ("self", "cls") and self._cls:
                return self._self_taint(self._cls, node.attr.value)
            if self._is_request_globals(base):
                attr = node.attr.value
                if attr in self.g_taints:
                    return self.g_taints[attr]
                if tables.is_callback_name(attr, self.config.callback_params):
                    # set in another module (a before_request hook): the resolver looks the keys up there
                    return Taint("request", ("@flask.g." + attr,), strong=True)
                return None
            return self.taint(base) if isinstance(base, cst.Name | cst.Call | cst.Subscript) else None
        if isinstance(node, cst.Call):
            func = node.func
            best: Taint | None = None
            if isinstance(func, cst.Attribute):
                best = self.taint(func.value)
            for a in node.args:
                best = merge(best, self.taint(a.value))
            target = self.ref(func) if isinstance(func, cst.Name | cst.Attribute) else ""
            project_call = bool(target) and (target.startswith("self.") or not self.is_library(target))
            if best is not None and best.kind == "param" and project_call:
                # `self.get_callback(context)`: what the callee returns (a request value?) is known only in the
                # whole-repo pass; the parameter stays the answer when it returns none (see Resolver._taint)
                return Taint("call", best.keys, best.param, best.name, target, best.strong)
            if best is not None:
                return best
            if project_call:
                return Taint("call", target=target)
            return None
        if isinstance(node, cst.Subscript):
            return self.taint(node.value)
        if isinstance(node, cst.BinaryOperation):
            return merge(self.taint(node.left), self.taint(node.right))
        if isinstance(node, cst.BooleanOperation):
            return _either(self.taint(node.left), self.taint(node.right))
        if isinstance(node, cst.IfExp):
            return _either(self.taint(node.body), self.taint(node.orelse))
        if isinstance(node, cst.Await):
            return self.taint(node.expression)
        if isinstance(node, cst.NamedExpr):
            return self.taint(node.value)
        if isinstance(node, cst.FormattedString):
            best = None
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    best = merge(best, self.taint(part.expression))
            return best
        return None

    def _is_request_globals(self, node: cst.BaseExpression) -> bool:
        """Is this Flask's per-request namespace `g` (`from flask import g`, `flask.g`)?"""
        return isinstance(node, cst.Name | cst.Attribute) and self.ref(node) in _REQUEST_GLOBALS

    def _sets_request_globals(self, node: cst.FunctionDef) -> bool:
        """Does this function assign an attribute of Flask's `g`? (Such functions are read first, so the other
        functions of the module see what they put there.)"""
        for n in _walk(node.body):
            if isinstance(n, cst.Assign) and any(
                isinstance(t.target, cst.Attribute) and self._is_request_globals(t.target.value) for t in n.targets
            ):
                return True
        return False

    def _self_taint(self, cls: str, attr: str) -> Taint | None:
        seen: set[str] = set()
        queue = [cls]
        while queue:
            c = queue.pop(0)
            if c in seen:
                continue
            seen.add(c)
            t = self.self_taints.get((c, attr))
            if t is not None:
                return t
            facts = self.facts.classes.get(c)
            if facts is not None:
                queue.extend(b.rsplit(".", 1)[-1] for b in facts.bases if b.rsplit(".", 1)[-1] in self.facts.classes)
        return None

    # ------------------------------------------------------------------------------------- inspection
    def template_of(self, node: cst.BaseExpression) -> str | None:
        value = self.literal(node)
        if value is not None:
            return value
        if isinstance(node, cst.Attribute):
            keys = self.key_strings(node)
            if len(keys) == 1 and not keys[0].startswith("@"):
                return keys[0]
        return None

    def _pad(self, name_expr: cst.BaseExpression | None, via: str, at: cst.CSTNode) -> None:
        if name_expr is None or self._fn is None:
            return
        t = self.taint(name_expr)
        if t is not None:
            self._fn.pads.append(PadEvent(t, self.line(at), via))

    def _pad_pieces(self, seq: cst.List | cst.Tuple, via: str, at: cst.CSTNode) -> None:
        """A sequence of pieces that pads: a variable followed by a text opening an argument list,
        `[cb, "(", body, ")"]` (not HTML pieces)."""
        items = [e.value for e in seq.elements]
        literals = [self.literal(i) for i in items]
        if any(lit is not None and padding.looks_like_html(lit) for lit in literals):
            return
        for i in range(1, len(items)):
            lit = literals[i]
            if lit is not None and padding.opens_call(lit) and self._variable(items[i - 1], literals[i - 1]):
                self._pad(items[i - 1], via, at)

    def _inspect(self, node: cst.CSTNode) -> None:
        fn = self._fn
        assert fn is not None
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Modulo):
                self._percent(node)
            elif isinstance(node.operator, cst.Add):
                self._concat(node)
        elif isinstance(node, cst.AugAssign) and isinstance(node.operator, cst.AddAssign):
            first = _leftmost(node.value)
            lit = self.literal(first) if first is not None else None
            if lit is not None and padding.opens_call(lit) and not padding.looks_like_html(lit):
                self._pad(node.target, "concat-padding", node)
        elif isinstance(node, cst.FormattedString):
            self._fstring(node)
        elif isinstance(node, cst.Call):
            self._call(node)
        elif isinstance(node, cst.Return) and node.value is not None:
            t = self.taint(node.value)
            if t is not None:
                fn.returns.append(t)
            value = node.value
            if isinstance(value, cst.Dict) or (
                isinstance(value, cst.Tuple) and value.elements and isinstance(value.elements[0].value, cst.Dict)
            ):
                fn.returns_json = True
            if isinstance(value, cst.Name) and f"{fn.qualname}.<locals>.{value.value}" in self.facts.functions:
                fn.returns_callable = True
            if isinstance(value, cst.List | cst.Tuple) and "start_response" in fn.params:
                self._pad_pieces(value, "chunk-padding", node)  # a WSGI app's body as chunks: [cb, b"(", body, b")"]
        if isinstance(node, cst.Attribute | cst.Name):
            self._credentials(node)
        elif isinstance(node, cst.SimpleString) and fn is not None:
            sval = _string_value(node)
            if sval is not None and sval in tables.CREDENTIAL_STRINGS:
                fn.credentials.append("reads cookies" if "COOKIE" in sval.upper() else "reads the logged-in user")

    def _credentials(self, node: cst.Attribute | cst.Name) -> None:
        fn = self._fn
        assert fn is not None
        ref = self.ref(node)
        reason = tables.CREDENTIAL_QUALIFIED.get(ref)
        if reason:
            fn.credentials.append(reason)
            return
        if isinstance(node, cst.Attribute):
            attr = node.attr.value
            base = self.text(node.value)
            reason = tables.CREDENTIAL_ATTRS.get(attr)
            request_like = bool(tables.REQUEST_ROOT.match(base)) or base in ("self", "handler")
            if reason and (request_like or attr in ("current_user", "get_secure_cookie", "get_signed_cookie")):
                fn.credentials.append(reason)
            elif attr == "user" and tables.REQUEST_ROOT.match(base):
                fn.credentials.append("reads the logged-in user")
            else:
                for prefix, why in tables.CREDENTIAL_QUALIFIED.items():
                    if ref.startswith(prefix + "."):
                        fn.credentials.append(why)
                        break

    def _percent(self, node: cst.BinaryOperation) -> None:
        template = self.template_of(node.left)
        if template is None or padding.looks_like_html(template):
            return
        slot = padding.percent_name_slot(template)
        if slot is None:
            return
        right = node.right
        if isinstance(right, cst.Name) and right.value in self._seqs:
            right = self._seqs[right.value]  # args = (cb, body); "%s(%s)" % args
        target: cst.BaseExpression | None = None
        if isinstance(slot, str) and _namespace_call(right):
            target = cst.Name(slot)  # "%(callback)s(%(data)s)" % locals()
        elif isinstance(right, cst.Tuple):
            if isinstance(slot, int) and slot < len(right.elements):
                target = right.elements[slot].value
        elif isinstance(right, cst.Dict):
            for el in right.elements:
                if isinstance(el, cst.DictElement) and self.literal(el.key) == slot:
                    target = el.value
        elif slot == 0:
            target = right
        self._pad(target, "format-padding", node)

    def _concat(self, node: cst.BinaryOperation) -> None:
        ops = _flatten_add(node)
        if ops is None:
            return  # part of a larger chain, inspected at its top
        literals = [self.literal(o) for o in ops]
        if any(lit is not None and padding.looks_like_html(lit) for lit in literals):
            return
        for i in range(1, len(ops)):
            lit = literals[i]
            opener = padding.opens_call(lit) if lit is not None else self._opens_call(ops[i])
            if opener and self._variable(ops[i - 1], literals[i - 1]):
                self._pad(ops[i - 1], "concat-padding", node)

    def _fstring(self, node: cst.FormattedString) -> None:
        texts = "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
        if padding.looks_like_html(texts):
            return
        parts = list(node.parts)
        for i, part in enumerate(parts[:-1]):
            nxt = parts[i + 1]
            if (
                isinstance(part, cst.FormattedStringExpression)
                and isinstance(nxt, cst.FormattedStringText)
                and (padding.opens_call(nxt.value))
            ):
                self._pad(part.expression, "fstring-padding", node)

    def _call(self, node: cst.Call) -> None:
        fn = self._fn
        assert fn is not None
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            template = self.template_of(func.value)
            if template is not None and not padding.looks_like_html(template):
                slot = padding.brace_name_slot(template)
                target: cst.BaseExpression | None = None
                positional = [a.value for a in node.args if a.keyword is None and not a.star]
                if isinstance(slot, int) and slot < len(positional):
                    target = positional[slot]
                elif isinstance(slot, str):
                    target = next((a.value for a in node.args if a.keyword and a.keyword.value == slot), None)
                    if target is None and any(a.star == "**" and _namespace_call(a.value) for a in node.args):
                        target = cst.Name(slot)  # "{callback}({data})".format(**locals())
                self._pad(target, "format-padding", node)
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "format_map" and node.args:
            template = self.template_of(func.value)
            slot = padding.brace_name_slot(template) if template is not None else None
            if isinstance(slot, str) and not padding.looks_like_html(template or "") and _namespace_call(
                node.args[0].value
            ):
                self._pad(cst.Name(slot), "format-padding", node)
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "join" and node.args:
            seq = node.args[0].value
            if isinstance(seq, cst.Name) and seq.value in self._seqs:
                seq = self._seqs[seq.value]  # out = [cb, "(", body, ")"]; "".join(out)
            if isinstance(seq, cst.List | cst.Tuple):
                self._pad_pieces(seq, "join-padding", node)
            return
        if not isinstance(func, cst.Name | cst.Attribute):
            return
        if isinstance(func, cst.Attribute) and func.attr.value in ("substitute", "safe_substitute"):
            self._substitute(node, func)
        if self.text(func).rsplit(".", 1)[-1] in tables.TEMPLATE_RENDERERS:
            self._template_render(node)
        target_ref = self.ref(func)
        if self.is_library(target_ref) and target_ref not in tables.LIBRARY_PADDERS:
            if tables.JSON_MAKERS.search(target_ref):
                fn.returns_json = True
            return
        if tables.JSON_MAKERS.search(target_ref):
            fn.returns_json = True
        given = [arg for arg in node.args if arg.keyword is None and not arg.star]
        args = tuple(self.taint(arg.value) for arg in given)
        kwargs = tuple((arg.keyword.value, self.taint(arg.value)) for arg in node.args if arg.keyword is not None)
        passed: list[tuple[int | str, str]] = []  # string literals given, for helpers whose key is a parameter
        for i, arg in enumerate(given):
            text = _string_value(arg.value)
            if text is not None:
                passed.append((i, text))
        for arg in node.args:
            text = _string_value(arg.value) if arg.keyword is not None else None
            if arg.keyword is not None and text is not None:
                passed.append((arg.keyword.value, text))
        fn.calls.append(CallSite(target_ref, self.line(node), args, kwargs, tuple(passed)))


    def _template_text(self, node: cst.BaseExpression) -> str | None:
        """The text of `Template("...")` (string.Template, a jinja2/mako Template...), else None."""
        if isinstance(node, cst.Call) and node.args and self.text(node.func).rsplit(".", 1)[-1] == "Template":
            return self.literal(node.args[0].value)
        return None

    def _substitute(self, node: cst.Call, func: cst.Attribute) -> None:
        """string.Template padding: `Template("$callback($data)").substitute(callback=cb, data=body)`, also through
        a module-level template constant."""
        fn = self._fn
        assert fn is not None
        owner = func.value
        text = self._template_text(owner)
        if text is None and isinstance(owner, cst.Name):
            text = self._templates.get(owner.value)
        if text is None:
            return
        called = {m.group(2) or m.group(3) for m in tables.TEMPLATE_CALL.finditer(text)} - {None}
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in called:
                self._pad(arg.value, "template-padding", node)

    def _template_render(self, node: cst.Call) -> None:
        """A callback from the request handed to a template that writes JavaScript: `render_template("data.js",
        callback=cb)`, Django's `render(request, "feed.js", {"callback": cb}, content_type=...)`, a template
        string that calls the variable (`render_template_string("{{ cb }}({{ data }})", cb=cb)`)."""
        fn = self._fn
        assert fn is not None
        handed: list[tuple[str, cst.BaseExpression]] = []  # (template variable, value)
        texts: list[str] = []  # literal arguments: template names, template text, content types
        for arg in node.args:
            if arg.star:
                continue
            if arg.keyword is not None:
                handed.append((arg.keyword.value, arg.value))
            elif isinstance(arg.value, cst.Dict):
                for el in arg.value.elements:
                    if isinstance(el, cst.DictElement):
                        key = self.literal(el.key)
                        if key is not None:
                            handed.append((key, el.value))
            text = self.literal(arg.value)
            if text is not None:
                texts.append(text)
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            texts.extend(v for a in node.func.value.args if (v := self.literal(a.value)) is not None)  # Template("...")
        called = {m.group(1) or m.group(2) or m.group(3) for t in texts for m in tables.TEMPLATE_CALL.finditer(t)}
        javascript = any(map(tables.names_javascript, texts))
        for name, value in handed:
            t = self.taint(value)
            if t is None or t.kind not in ("request", "param"):
                continue
            if name in called:  # the template text itself pads the variable
                fn.pads.append(PadEvent(t, self.line(node), "template-padding"))
            elif javascript and t.strong and tables.is_callback_name(name, self.config.callback_params):
                fn.pads.append(PadEvent(t, self.line(node), "js-template"))


def _namespace_call(node: cst.BaseExpression) -> bool:
    """`locals()` / `vars()`: the function's own names as a mapping (old code formats with them)."""
    return (
        isinstance(node, cst.Call)
        and not node.args
        and isinstance(node.func, cst.Name)
        and node.func.value in ("locals", "vars")
    )


def _dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a plain name/attribute chain (fast path of Collector.text)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _flatten_add(node: cst.BinaryOperation) -> list[cst.BaseExpression] | None:
    out: list[cst.BaseExpression] = []

    def visit(n: cst.BaseExpression) -> None:
        if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Add) and not n.lpar:
            visit(n.left)
            visit(n.right)
        else:
            out.append(n)

    visit(node.left)
    visit(node.right)
    return out


_REQUEST_GLOBALS = frozenset({"flask.g", "flask.globals.g"})
# Calls that write or collect output piece by piece (see Collector._piecewise).
_PIECE_WRITERS = frozenset({"write", "append", "print", "writelines"})


def _leftmost(node: cst.BaseExpression) -> cst.BaseExpression | None:
    while isinstance(node, cst.BinaryOperation):
        node = node.left
    return node


# What builds a whole WSGI app, which a middleware may wrap (see Collector._wsgi_middleware).
_FLASK_APPS = frozenset({"flask.Flask", "flask.app.Flask"})
_DJANGO_WSGI_APPS = frozenset(
    {"django.core.wsgi.get_wsgi_application", "django.core.handlers.wsgi.WSGIHandler", "django.core.wsgi.WSGIHandler"}
)
# Settings naming the middleware classes of a Django project.
_DJANGO_MIDDLEWARE_SETTINGS = frozenset({"MIDDLEWARE", "MIDDLEWARE_CLASSES"})

_KIDS: dict[int, list[cst.CSTNode]] = {}


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = _KIDS.get(id(node))
    return found if found is not None else []


def _statements(body: Any) -> Iterator[cst.CSTNode]:
    """Statements of a body, looking through if/try/with blocks but not into functions or classes."""
    stack: list[cst.CSTNode] = list(reversed(body)) if isinstance(body, list | tuple) else [body]
    out: list[cst.CSTNode] = []
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            out.append(node)
            continue
        if isinstance(node, cst.BaseExpression | cst.SimpleStatementLine):
            continue
        stack.extend(reversed(_children(node)))
    yield from out


def _walk(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Pre-order walk that does not enter nested functions or classes (their own analysis covers them)."""
    stack: list[cst.CSTNode] = (
        list(reversed(_children(root))) if isinstance(root, cst.FunctionDef | cst.ClassDef) else [root]
    )
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            continue
        stack.extend(reversed(_children(node)))
