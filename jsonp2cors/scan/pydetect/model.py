"""Per-module facts the Python detectors collect; plain picklable records, resolved per file and repo-wide."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Taint:
    """Where a value may come from.

    kind "request": a request parameter (`keys` are the parameter names when known; an entry starting with
    "@" is an unresolved reference such as "@django.conf.settings.JSONP_PARAMS");
    kind "param": the enclosing function's parameter number `param` (`name`);
    kind "call": the return value of `target` (resolved later through return summaries).
    """

    kind: str
    keys: tuple[str, ...] = ()
    param: int = -1
    name: str = ""
    target: str = ""
    strong: bool = True  # the key looks like a callback parameter (not just any request parameter)


@dataclass(frozen=True)
class PadEvent:
    """A string built as `<taint>(...)`: the function-name position of JavaScript padding."""

    taint: Taint
    line: int
    via: str  # detector id: "format-padding", "fstring-padding", "concat-padding", "join-padding", ...


@dataclass(frozen=True)
class CallSite:
    target: str  # absolute dotted reference ("pkg.helpers.jsonp", "flask_jsonpify.jsonify", "self.render")
    line: int
    args: tuple[Taint | None, ...] = ()
    kwargs: tuple[tuple[str, Taint | None], ...] = ()
    literals: tuple[tuple[int | str, str], ...] = ()  # string literal arguments: (position or keyword, value)


@dataclass(frozen=True)
class RouteInfo:
    path: str | None
    methods: tuple[str, ...] = ()
    registrar: str = ""  # the object the route was registered on ("bp", "app", "api"), for hooks
    framework: str = ""


@dataclass(frozen=True)
class Decorator:
    target: str  # absolute dotted reference of the decorator (factory) callee
    text: str  # source spelling, e.g. "bp.route"
    args: tuple[str | None, ...] = ()  # string literal positional args (None when not a literal)
    kwargs: tuple[tuple[str, str], ...] = ()  # string literal keyword args
    list_kwargs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # keyword args holding lists of strings
    called: bool = False
    func_kwargs: tuple[tuple[str, str], ...] = ()  # keyword args naming a function: handler=jsonp_handler


@dataclass
class FunctionFacts:
    qualname: str  # "ProfileView.get", "jsonp_view.<locals>.wrapper", "<module>"
    name: str
    line: int
    end_line: int
    cls: str | None  # qualname of the class when this is a method
    parent: str | None  # qualname of the enclosing function, if nested
    params: tuple[str, ...]  # positional parameter names, self/cls included
    decorators: tuple[Decorator, ...] = ()
    pads: list[PadEvent] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    returns: list[Taint] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    routes: list[RouteInfo] = field(default_factory=list)
    handler_hint: str = ""  # why it is a request handler: "route", "wsgi", "method", "exposed", "module"
    returns_json: bool = False
    returns_callable: bool = False  # returns one of its nested functions (decorator pattern)
    is_async: bool = False
    # request keys taken from a parameter's default (`def jsonp(data, param="callback"): request.args.get(param)`):
    # parameter name -> that default, so a caller passing `param="cb"` reads ?cb= instead
    key_params: dict[str, str] = field(default_factory=dict)
    renderers: tuple[str, ...] = ()  # `@renderer_classes([...])` (Django REST framework), absolute references
    # request keys read through a class attribute (`self.get_argument(self.callback_param)`): attribute -> the
    # value its own class gives, so a subclass setting the attribute reads another name
    self_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class ClassFacts:
    qualname: str
    line: int
    bases: tuple[str, ...]  # absolute dotted references
    methods: tuple[str, ...]
    attrs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class attributes holding strings
    self_params: dict[str, tuple[int, str]] = field(default_factory=dict)  # self.x = __init__ param
    exposed: bool = False  # CherryPy `exposed = True`
    decorators: tuple[Decorator, ...] = ()  # class decorators (`@jsonp class View`, `@method_decorator(jsonp, ...)`)
    renderers: tuple[str, ...] = ()  # absolute references listed in `renderer_classes` (Django REST framework)
    # methods exposed one by one in the class body: CherryPy's `index.exposed = True`, `index = cherrypy.expose(index)`
    exposed_methods: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TableRoute:
    """A route registered in a table (urls.py, Application([...]), add_route, Route(...))."""

    target: str  # absolute dotted reference of the view function or class
    path: str | None
    methods: tuple[str, ...] = ()
    framework: str = ""
    registrar: str = ""
    line: int = 0
    route_name: str = ""  # pyramid add_view(route_name=...)
    renderer: str = ""


@dataclass(frozen=True)
class Include:
    """Django `path("api/", include("news.urls"))`: routes of `module` live under `prefix`."""

    prefix: str
    module: str  # absolute dotted module name


@dataclass(frozen=True)
class Hook:
    """A function registered to post-process responses of `registrar` (after_request, representation...)."""

    function: str  # qualname
    registrar: str
    kind: str  # "after_request", "representation", "middleware", "plugin" (Bottle)


@dataclass
class ModuleFacts:
    rel: str
    module: str  # dotted module name from the path
    framework: str
    test_code: bool
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    constants: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module-level strings
    table_routes: list[TableRoute] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    renderers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pyramid JSONP renderers by name
    # pyramid renderers by name whose factory is the project's own (a class or function reference)
    renderer_factories: dict[str, str] = field(default_factory=dict)
    # Django REST framework's REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] (dotted strings), when set here
    drf_default_renderers: tuple[str, ...] = ()
    route_names: dict[str, str] = field(default_factory=dict)  # pyramid add_route name -> pattern
    prefixes: dict[str, str] = field(default_factory=dict)  # registrar var -> url prefix (Blueprint, APIRouter)
    registrar_types: dict[str, str] = field(default_factory=dict)  # var -> class reference it was built from
    mounts: dict[str, str] = field(default_factory=dict)  # class reference -> mount path (CherryPy)
    # CherryPy's object tree: (owner class reference, attribute, class reference of the object held there), from
    # `users = Users()` in a class body or `root.users = Users()` on an instance: it answers under /users/
    attached: list[tuple[str, str, str]] = field(default_factory=list)
    imports: tuple[str, ...] = ()
    low_confidence: bool = False  # found by the token-level fallback
    # Flask `g.<attr>` this module sets from a request value -> the request keys (another module may pad g.<attr>)
    g_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
