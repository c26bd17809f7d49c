"""Route recognisers, one small function per framework idiom, registered in two tables.

`DECORATOR_RULES` read a handler's decorators (`@app.route("/x")`, `@view_config(...)`, `@cherrypy.expose`),
`CALL_RULES` read route tables and registrations anywhere in a module (`urlpatterns`, `Application([...])`,
`Route(...)`, `add_route`, `add_resource`, `Blueprint(url_prefix=...)`, `add_renderer`...).
A call rule returns True when it consumed the call; the collector then does not look inside its arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

import libcst as cst

from jsonp2cors.scan.pydetect.model import Decorator, Hook, Include, ModuleFacts, RouteInfo, TableRoute
from jsonp2cors.scan.pydetect.tables import HOOK_DECORATORS, HTTP_VERBS, RENDERER_FACTORIES


class Ctx(Protocol):
    """What a rule may ask the collector about the module being read."""

    facts: ModuleFacts

    def ref(self, node: cst.BaseExpression) -> str: ...
    def text(self, node: cst.CSTNode) -> str: ...
    def literal(self, node: cst.BaseExpression) -> str | None: ...
    def str_list(self, node: cst.BaseExpression) -> tuple[str, ...] | None: ...
    def list_named(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None: ...
    def line(self, node: cst.CSTNode) -> int: ...


DecoratorRule = Callable[[Decorator, str], "RouteInfo | None"]
CallRule = Callable[[cst.Call, str, "Ctx"], bool]

DECORATOR_RULES: list[DecoratorRule] = []
CALL_RULES: list[CallRule] = []


def decorator_rule(fn: DecoratorRule) -> DecoratorRule:
    DECORATOR_RULES.append(fn)
    return fn


def call_rule(fn: CallRule) -> CallRule:
    CALL_RULES.append(fn)
    return fn


def call_rule_first(fn: CallRule) -> CallRule:
    """A rule that only records something and returns False, so it must run before rules that consume."""
    CALL_RULES.insert(0, fn)
    return fn


def _kw(dec: Decorator, *names: str) -> str | None:
    for k, v in dec.kwargs:
        if k in names:
            return v
    return None


def _list_kw(dec: Decorator, name: str) -> tuple[str, ...] | None:
    for k, v in dec.list_kwargs:
        if k == name:
            return v
    return None


# ------------------------------------------------------------------------------------ decorator rules
@decorator_rule
def route_decorator(dec: Decorator, framework: str) -> RouteInfo | None:
    """`@app.route("/x", methods=[...])`, `@bp.get("/x")`, bottle `@route`, aiohttp `@routes.get("/x")`."""
    last = dec.text.rsplit(".", 1)[-1]
    if last not in HTTP_VERBS | {"route", "api_route", "view"} or not dec.called:
        return None
    path = dec.args[0] if dec.args else _kw(dec, "rule", "path", "url")
    if path is None or not (path.startswith("/") or path == ""):
        return None
    methods = _list_kw(dec, "methods")
    if methods is None:
        one = _kw(dec, "method")
        if one:
            methods = (one,)
        elif last in HTTP_VERBS:
            methods = (last,)
        elif len(dec.args) > 1 and dec.args[1]:
            methods = (dec.args[1],)  # bottle: route(path, method)
    registrar = dec.text.rsplit(".", 1)[0] if "." in dec.text else ""
    return RouteInfo(path, tuple(m.upper() for m in methods or ("GET",)), registrar, framework)


@decorator_rule
def view_config_decorator(dec: Decorator, framework: str) -> RouteInfo | None:
    """Pyramid `@view_config(route_name="weather", renderer="jsonp")`: the path comes from add_route."""
    if not dec.target.endswith(("view_config", "view_defaults")) or not dec.called:
        return None
    name = _kw(dec, "route_name")
    method = _kw(dec, "request_method")
    return RouteInfo(f"@route:{name}" if name else None, (method.upper(),) if method else ("GET",), "", "pyramid")


def is_expose(target: str, text: str) -> bool:
    """Is a callable (its absolute reference, its source text) CherryPy's `expose`?"""
    return target in ("cherrypy.expose", "cherrypy._helper.expose") or text in ("cherrypy.expose", "expose")


@decorator_rule
def expose_decorator(dec: Decorator, framework: str) -> RouteInfo | None:
    """CherryPy `@cherrypy.expose`: the path is the mount point plus the method name."""
    if is_expose(dec.target, dec.text):
        return RouteInfo("@exposed", ("GET",), "", "cherrypy")
    return None


def hook_kind(dec: Decorator) -> tuple[str, str] | None:
    """`@bp.after_request`, `@api.representation("application/json")` -> (registrar, kind)."""
    if "." not in dec.text:
        return None
    registrar, last = dec.text.rsplit(".", 1)
    kind = HOOK_DECORATORS.get(last)
    return (registrar, kind) if kind else None


# ----------------------------------------------------------------------------------------- call rules
def _callee(call: cst.Call, ctx: Ctx) -> tuple[str, str]:
    """(absolute reference, source spelling) of the called function."""
    return ctx.ref(call.func), ctx.text(call.func)


def _arg(call: cst.Call, index: int, *names: str) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for a in call.args:
        if a.keyword is not None and a.keyword.value in names:
            return a.value
    return positional[index].value if index < len(positional) else None


def _view_target(node: cst.BaseExpression, ctx: Ctx) -> str | None:
    """`views.weather`, `views.Profile.as_view()`, `WeatherResource()` -> reference of function/class."""
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("as_view", "as_asgi", "as_wsgi"):
            return ctx.ref(func.value)
        return ctx.ref(func)  # an instance: falcon add_route("/x", Resource())
    if isinstance(node, cst.Name | cst.Attribute):
        # `feed_view = FeedAPI.as_view("feed")` earlier in the module: the name stands for the class
        made_by = ctx.facts.registrar_types.get(ctx.text(node), "")
        if made_by.endswith((".as_view", ".as_asgi", ".as_wsgi")):
            return made_by.rsplit(".", 1)[0]
        return ctx.ref(node)
    return None


def _regex_to_path(pattern: str) -> str:
    path = pattern
    if path.startswith("^"):
        path = path[1:]
    if path.endswith("$"):
        path = path[:-1]
    return path.replace("\\.", ".").replace("\\/", "/")


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix.rstrip("/") + "/" + path.lstrip("/") if path else prefix


def _django_call(call: cst.Call, framework: str, ctx: Ctx, names: tuple[str, ...]) -> str | None:
    """The last component of a Django URL function's name (`path`, `re_path`, `url`, `patterns`) if `call` is one."""
    ref, spelled = _callee(call, ctx)
    last = spelled.rsplit(".", 1)[-1]
    return last if (ref.startswith("django.") or framework == "django") and last in names else None


# A view named by a dotted string, as Django 1.x allowed: url(r'^feed/$', 'news.views.feed').
_DOTTED_VIEW = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@call_rule
def django_patterns(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """Django <= 1.9 `patterns('news.views', url(r'^feed/$', 'feed'), (r'^about/$', 'about'))`: the first argument
    prefixes the views named by string; entries are url() calls or (regex, view[, kwargs, name]) tuples."""
    if _django_call(call, framework, ctx, ("patterns",)) is None:
        return False
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    head = _arg(call, 0, "prefix")
    views_prefix = (ctx.literal(head) if head is not None else None) or ""
    for entry in positional[1:]:
        if isinstance(entry, cst.Call) and _django_call(entry, framework, ctx, ("path", "re_path", "url")):
            _django_entry(entry, _arg(entry, 0, "route", "regex"), _arg(entry, 1, "view"), "url", ctx, views_prefix)
        elif isinstance(entry, cst.Tuple) and len(entry.elements) >= 2:
            _django_entry(entry, entry.elements[0].value, entry.elements[1].value, "url", ctx, views_prefix)
    return True


@call_rule
def django_path(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    last = _django_call(call, framework, ctx, ("path", "re_path", "url"))
    if last is None:
        return False
    return _django_entry(call, _arg(call, 0, "route", "regex"), _arg(call, 1, "view"), last, ctx, "")


def _django_entry(
    node: cst.CSTNode,
    route: cst.BaseExpression | None,
    view: cst.BaseExpression | None,
    last: str,
    ctx: Ctx,
    views_prefix: str,
) -> bool:
    """One URL entry: its route or regex, and a view (a reference, `X.as_view()`, a dotted string, include())."""
    raw = ctx.literal(route) if route is not None else None
    if raw is None or view is None:
        return False
    path = raw if last == "path" else _regex_to_path(raw)
    path = "/" + path.lstrip("/")
    if isinstance(view, cst.Call) and ctx.text(view.func).rsplit(".", 1)[-1] == "include":
        inner = _arg(view, 0, "arg")
        if (
            isinstance(inner, cst.Attribute)
            and inner.attr.value == "urls"
            and ctx.facts.registrar_types.get(ctx.text(inner.value), "").endswith("Router")
        ):
            ctx.facts.prefixes[ctx.text(inner.value)] = path  # path("api/", include(router.urls))
            return True
        module = ctx.literal(inner) if inner is not None else None
        if module is None and isinstance(inner, cst.Tuple) and inner.elements:
            module = ctx.literal(inner.elements[0].value)
        if module is None and inner is not None and isinstance(inner, cst.Name | cst.Attribute):
            module = ctx.ref(inner)  # include(module) / include(app.urls): the resolver also tries it without .urls
        if module:
            ctx.facts.includes.append(Include(path, module))
        return True
    named = ctx.literal(view) if isinstance(view, cst.SimpleString | cst.ConcatenatedString) else None
    if named is not None:  # a view named by string: absolute, or relative to the patterns() prefix
        dotted = f"{views_prefix}.{named}" if views_prefix else named
        target = dotted if _DOTTED_VIEW.fullmatch(dotted) and "." in dotted else None
    else:
        target = _view_target(view, ctx)
    if target:
        ctx.facts.table_routes.append(TableRoute(target, path, (), "django", "", ctx.line(node)))
    return True


def _handler_table(table: cst.BaseExpression | None, framework: str, ctx: Ctx,
                   to_path: Callable[[str], str]) -> None:
    """A list of `(path, Handler)` tuples or `route(path, Handler)` calls (Tornado `url(pattern, handler)`,
    webapp2 `Route(template, handler)`) into table routes."""
    if not isinstance(table, cst.List | cst.Tuple):
        return
    for el in table.elements:
        item = el.value
        path_node: cst.BaseExpression | None = None
        handler: cst.BaseExpression | None = None
        if isinstance(item, cst.Tuple) and len(item.elements) >= 2:
            path_node, handler = item.elements[0].value, item.elements[1].value
        elif isinstance(item, cst.Call):
            path_node, handler = _arg(item, 0, "pattern", "template"), _arg(item, 1, "handler")
        if path_node is None or handler is None:
            continue
        path = ctx.literal(path_node)
        target = _view_target(handler, ctx)
        if path is not None and target:
            ctx.facts.table_routes.append(TableRoute(target, to_path(path), (), framework, "", ctx.line(item)))


def _is_app(call: cst.Call, framework: str, ctx: Ctx, package: str, cls: str) -> int | None:
    """Is this call `package`'s `cls` (by qualified name, or by spelling in a module of that framework)? The
    position of its first argument: 0, or 1 for `Application.__init__(self, handlers)` in a subclass."""
    ref, spelled = _callee(call, ctx)
    for suffix, first in ((cls, 0), (cls + ".__init__", 1)):
        if (ref.startswith(package + ".") and ref.endswith(suffix)) or (
            framework == package and spelled.endswith(suffix)
        ):
            return first
    return None


@call_rule
def tornado_application(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`tornado.web.Application([(r"/x", Handler), url(r"/y", Other)])`, the list also bound to a name first
    (`handlers = [...]`, often in an Application subclass calling `Application.__init__(self, handlers)`)."""
    first = _is_app(call, framework, ctx, "tornado", "Application")
    if first is None:
        return False
    _handler_table(ctx.list_named(_arg(call, first, "handlers")), "tornado", ctx, _regex_to_path)
    return True


@call_rule
def webapp2_application(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`webapp2.WSGIApplication([("/x", Handler), webapp2.Route("/y/<id>", Other)])` (Google App Engine), the
    list also bound to a name first."""
    first = _is_app(call, framework, ctx, "webapp2", "WSGIApplication")
    if first is None:
        return False
    # a Route template (`/y/<id>`) is already a path; a tuple's first item is a regex
    table = ctx.list_named(_arg(call, first, "routes"))
    _handler_table(table, "webapp2", ctx, lambda p: p if "<" in p else _regex_to_path(p))
    return True


@call_rule
def webpy_application(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """web.py: `web.application(urls, globals())` with `urls = ("/x", "Handler", "/y/(.*)", "Other")`, the
    handler classes named by strings (their `GET`/`POST` methods answer)."""
    ref, _ = _callee(call, ctx)
    if ref != "web.application" or framework != "webpy":
        return False
    urls = _arg(call, 0, "mapping")
    values = ctx.str_list(urls) if urls is not None else None  # a literal or a module-level `urls = (...)`
    for path, target in zip(values[::2], values[1::2], strict=False) if values else ():
        if target:
            if "." not in target and ctx.facts.module:  # a class of this module (`globals()`)
                target = f"{ctx.facts.module}.{target}"
            ctx.facts.table_routes.append(TableRoute(target, _regex_to_path(path), (), "webpy", "", ctx.line(call)))
    return True


def _starlette_routes(node: cst.BaseExpression, prefix: str, ctx: Ctx) -> None:
    if not isinstance(node, cst.List | cst.Tuple):
        return
    for el in node.elements:
        item = el.value
        if not isinstance(item, cst.Call):
            continue
        kind = ctx.text(item.func).rsplit(".", 1)[-1]
        path = _arg(item, 0, "path")
        literal = ctx.literal(path) if path is not None else None
        if literal is None:
            continue
        if kind == "Mount":
            routes = _arg(item, 99, "routes")
            if routes is not None:
                _starlette_routes(routes, _join(prefix, literal), ctx)
        elif kind in ("Route", "APIRoute"):
            target = _arg(item, 1, "endpoint")
            ref = _view_target(target, ctx) if target is not None else None
            methods = _arg(item, 99, "methods")
            listed = ctx.str_list(methods) if methods is not None else None
            if ref:
                ctx.facts.table_routes.append(
                    TableRoute(
                        ref,
                        _join(prefix, literal),
                        tuple(m.upper() for m in listed or ()),
                        "starlette",
                        "",
                        ctx.line(item),
                    )
                )


@call_rule
def starlette_app(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`Starlette(routes=[Route(...), Mount("/api", routes=[...])])`, `Router(routes=...)`, a bare list."""
    spelled = ctx.text(call.func).rsplit(".", 1)[-1]
    if spelled in ("Starlette", "Router", "FastAPI", "Mount"):
        routes = _arg(call, 99, "routes")
        prefix = ""
        if spelled == "Mount":
            path = _arg(call, 0, "path")
            prefix = (ctx.literal(path) if path is not None else None) or ""
        if routes is not None:
            _starlette_routes(routes, prefix, ctx)
        return True
    return False


@call_rule
def route_list(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """A lone `Route("/x", endpoint)` in a module-level `routes = [...]` list."""
    spelled = ctx.text(call.func).rsplit(".", 1)[-1]
    if spelled not in ("Route", "APIRoute") or framework not in ("starlette", "fastapi"):
        return False
    path = _arg(call, 0, "path")
    literal = ctx.literal(path) if path is not None else None
    target = _arg(call, 1, "endpoint")
    ref = _view_target(target, ctx) if target is not None else None
    if literal is not None and ref:
        methods = _arg(call, 99, "methods")
        listed = ctx.str_list(methods) if methods is not None else None
        ctx.facts.table_routes.append(
            TableRoute(ref, literal, tuple(m.upper() for m in listed or ()), framework, "", ctx.line(call))
        )
    return True


@call_rule
def aiohttp_routes(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`web.get("/x", h)`, `app.router.add_get("/x", h)`, `app.router.add_route("GET", "/x", h)`."""
    ref, spelled = _callee(call, ctx)
    last = spelled.rsplit(".", 1)[-1]
    is_web = ref.startswith("aiohttp.web.") and last in HTTP_VERBS | {"route", "view"}
    is_router = (
        last.startswith("add_")
        and last[4:] in HTTP_VERBS | {"route", "view"}
        and (".router." in f".{spelled}." or framework == "aiohttp")
    )
    if not (is_web or is_router):
        return False
    verb = last[4:] if last.startswith("add_") else last
    if verb == "route":
        method_node, path_node, handler = (
            _arg(call, 0, "method"),
            _arg(call, 1, "path"),
            _arg(call, 2, "handler"),
        )
        method = ctx.literal(method_node) if method_node is not None else None
    else:
        path_node, handler = _arg(call, 0, "path"), _arg(call, 1, "handler")
        method = None if verb == "view" else verb
    path = ctx.literal(path_node) if path_node is not None else None
    target = _view_target(handler, ctx) if handler is not None else None
    if path is not None and target:
        ctx.facts.table_routes.append(
            TableRoute(target, path, (method.upper(),) if method else (), "aiohttp", "", ctx.line(call))
        )
    return True


@call_rule
def add_route_call(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """Falcon `add_route("/x", Res())`, Starlette `add_route("/x", f)`, Pyramid `add_route(name, pattern)`."""
    spelled = ctx.text(call.func)
    if not spelled.endswith(".add_route") or "router." in spelled:
        return False
    first, second = (
        _arg(call, 0, "path", "name", "uri_template"),
        _arg(call, 1, "route", "pattern", "resource"),
    )
    a = ctx.literal(first) if first is not None else None
    if a is None or second is None:
        return True
    b = ctx.literal(second)
    if b is not None:  # pyramid: name, pattern
        ctx.facts.route_names[a] = b if b.startswith("/") else "/" + b
        return True
    target = _view_target(second, ctx)
    if target:
        fw = "falcon" if isinstance(second, cst.Call) else framework
        methods = _arg(call, 99, "methods")
        listed = ctx.str_list(methods) if methods is not None else None
        ctx.facts.table_routes.append(
            TableRoute(
                target,
                a,
                tuple(m.upper() for m in listed or ()),
                fw,
                spelled.rsplit(".", 1)[0],
                ctx.line(call),
            )
        )
    return True


@call_rule
def pyramid_config(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`config.add_view(view, route_name=..., renderer=...)`, `config.add_renderer("jsonp", JSONP(...))`."""
    spelled = ctx.text(call.func)
    last = spelled.rsplit(".", 1)[-1]
    if last == "add_renderer":
        name, factory = _arg(call, 0, "name"), _arg(call, 1, "factory")
        label = ctx.literal(name) if name is not None else None
        if label is not None and isinstance(factory, cst.Call):
            ref = ctx.ref(factory.func)
            known = RENDERER_FACTORIES.get(ref)
            if known is not None:
                kw, default = known
                param = _arg(factory, 99, kw)
                value = ctx.literal(param) if param is not None else None
                ctx.facts.renderers[label] = (value or default,)
        elif label is not None and isinstance(factory, cst.Name | cst.Attribute):
            ctx.facts.renderer_factories[label] = ctx.ref(factory)  # the project's own factory
        elif label is not None and factory is not None and (dotted := ctx.literal(factory)):
            ctx.facts.renderer_factories[label] = dotted.replace(":", ".")  # "app.renderers:Factory"
        return True
    if last == "add_view":
        view = _arg(call, 0, "view")
        target = _view_target(view, ctx) if view is not None else None
        route_name = _arg(call, 99, "route_name")
        renderer = _arg(call, 99, "renderer")
        if target:
            ctx.facts.table_routes.append(
                TableRoute(
                    target,
                    None,
                    (),
                    "pyramid",
                    "",
                    ctx.line(call),
                    (ctx.literal(route_name) or "") if route_name is not None else "",
                    (ctx.literal(renderer) or "") if renderer is not None else "",
                )
            )
        return True
    return False


@call_rule
def flask_registrations(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`add_url_rule`, Flask-RESTful `api.add_resource(R, "/a")`, `register_blueprint(bp, url_prefix=)`."""
    spelled = ctx.text(call.func)
    if "." not in spelled:
        return False
    registrar, last = spelled.rsplit(".", 1)
    if last == "add_url_rule":
        rule, view = _arg(call, 0, "rule"), _arg(call, 2, "view_func")
        path = ctx.literal(rule) if rule is not None else None
        target = _view_target(view, ctx) if view is not None else None
        methods = _arg(call, 99, "methods")
        listed = ctx.str_list(methods) if methods is not None else None
        if path is not None and target:
            ctx.facts.table_routes.append(
                TableRoute(target, path, tuple(m.upper() for m in listed or ()), "flask", registrar, ctx.line(call))
            )
        return True
    if last == "add_resource":
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(positional) >= 2:
            target = _view_target(positional[0], ctx)
            path = ctx.literal(positional[1])
            if target and path is not None:
                ctx.facts.table_routes.append(TableRoute(target, path, (), "flask", registrar, ctx.line(call)))
        return True
    if last in ("register_blueprint", "include_router"):
        bp, prefix = _arg(call, 0, "blueprint", "router"), _arg(call, 99, "url_prefix", "prefix")
        value = ctx.literal(prefix) if prefix is not None else None
        if bp is not None and value is not None and isinstance(bp, cst.Name | cst.Attribute):
            # Flask's url_prefix replaces the blueprint's own; FastAPI's prefix goes in front of the router's ("@+")
            mark = "@+" if last == "include_router" else "@"
            ctx.facts.prefixes[mark + ctx.ref(bp)] = value
        return True
    if last in ("after_request", "after_app_request", "representation") and call.args:
        fn = call.args[-1].value
        if isinstance(fn, cst.Name):
            ctx.facts.hooks.append(Hook(fn.value, registrar, HOOK_DECORATORS[last]))
        return True
    return False


@call_rule
def blueprint_prefix(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`bp = Blueprint("api", __name__, url_prefix="/api")`, `router = APIRouter(prefix="/v1")` (the var is
    recorded by the collector through `pending_assign`)."""
    spelled = ctx.text(call.func).rsplit(".", 1)[-1]
    if spelled == "Api" and (ctx.ref(call.func).startswith("flask_restful") or framework == "flask"):
        # Flask-RESTful `Api(app, prefix="/api")` / `Api(bp)`: its resources go under its prefix, behind the
        # blueprint's own when it is built on one
        prefix = _arg(call, 99, "prefix")
        own = (ctx.literal(prefix) if prefix is not None else None) or ""
        owner = _arg(call, 0, "app")
        under = ctx.facts.prefixes.get(ctx.text(owner), "") if isinstance(owner, cst.Name | cst.Attribute) else ""
        if under or own:
            ctx.facts.prefixes["@pending"] = _join(under, own)
        return False  # `add_resource` rules and the collector still look at the call
    if spelled not in ("Blueprint", "APIRouter", "Bottle"):
        return False
    prefix = _arg(call, 99, "url_prefix", "prefix")
    value = ctx.literal(prefix) if prefix is not None else None
    if value:
        ctx.facts.prefixes["@pending"] = value
    return True


@call_rule
def bottle_mount(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """Bottle `root.mount("/api", api_app)`: the mounted app's routes go under the prefix (in front of any prefix
    of its own, as FastAPI's include_router does)."""
    if framework != "bottle" or not isinstance(call.func, cst.Attribute) or call.func.attr.value != "mount":
        return False
    prefix, app = _arg(call, 0, "prefix"), _arg(call, 1, "app")
    value = ctx.literal(prefix) if prefix is not None else None
    if value is None or not isinstance(app, cst.Name | cst.Attribute):
        return False
    ctx.facts.prefixes["@+" + ctx.ref(app)] = value
    return True


@call_rule
def cherrypy_mount(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`cherrypy.quickstart(Root(), "/")`, `cherrypy.tree.mount(Api(), "/api")`."""
    ref = ctx.ref(call.func)
    if ref not in ("cherrypy.quickstart", "cherrypy.tree.mount"):
        return False
    root, script = _arg(call, 0, "root"), _arg(call, 1, "script_name")
    path = (ctx.literal(script) if script is not None else None) or ""
    if isinstance(root, cst.Call):
        ctx.facts.mounts[ctx.ref(root.func)] = path
    elif isinstance(root, cst.Name) and root.value in ctx.facts.registrar_types:  # root = Root(); mount(root)
        ctx.facts.mounts[ctx.facts.registrar_types[root.value]] = path
    return True


@call_rule
def bottle_plugins(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """`app.install(JSONPPlugin())` / `install(jsonp_plugin)`: a Bottle plugin wraps every route of that app
    (its `apply` or the plugin function is recorded as a hook, which like an after_request hook applies to
    the JSON views). `install()` and
    `bottle.install()` reach the default app, whose routes are `@route` or `@bottle.route`."""
    if framework != "bottle" or not call.args:
        return False
    spelled = ctx.text(call.func)
    registrar, _, last = spelled.rpartition(".")
    if last != "install":
        return False
    plugin = call.args[0].value
    if isinstance(plugin, cst.Call) and isinstance(plugin.func, cst.Name):
        function = f"{plugin.func.value}.apply"
    elif isinstance(plugin, cst.Name):
        function = plugin.value
    else:
        return True
    for owner in ("", "bottle") if registrar in ("", "bottle") else (registrar,):
        ctx.facts.hooks.append(Hook(function, owner, "plugin"))
    return True


@call_rule
def drf_router(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """Django REST framework: `router = DefaultRouter()`, `router.register(r"items", ItemViewSet)` routes the
    viewset's list/create at `/items/` and its detail actions at `/items/{pk}/` (under the prefix of
    `path("api/", include(router.urls))`, applied when the routes are resolved)."""
    spelled = ctx.text(call.func)
    registrar, _, last = spelled.rpartition(".")
    if last != "register" or not ctx.facts.registrar_types.get(registrar, "").endswith("Router"):
        return False
    prefix, viewset = _arg(call, 0, "prefix"), _arg(call, 1, "viewset")
    path = ctx.literal(prefix) if prefix is not None else None
    target = _view_target(viewset, ctx) if viewset is not None else None
    if path is not None and target:
        base = "/" + path.strip("/^$") + "/"
        ctx.facts.table_routes.append(TableRoute(target, base, (), "django", registrar, ctx.line(call)))
        ctx.facts.table_routes.append(
            TableRoute(target, base + "{pk}/", ("DETAIL",), "django", registrar, ctx.line(call))
        )
    return True


# A hook's registrar while its rule runs, until the assignment's target is known (`app = falcon.App(...)`).
PENDING_APP = "@app"


@call_rule_first
def app_middleware(call: cst.Call, framework: str, ctx: Ctx) -> bool:
    """Middleware wrapping every route of an app, recorded as a hook (which, like an after_request hook,
    applies to the JSON routes): aiohttp `web.Application(middlewares=[jsonp_mw])`, Starlette/FastAPI
    `Starlette(middleware=[Middleware(JSONPMiddleware)])` and `app.add_middleware(JSONPMiddleware)` (whose
    `dispatch` pads). Routes in tables have no registrar, decorator routes that of their app."""
    spelled = ctx.text(call.func)
    owner, _, last = spelled.rpartition(".")
    if last == "add_middleware" and call.args and framework in ("starlette", "fastapi"):
        cls = call.args[0].value
        if isinstance(cls, cst.Name | cst.Attribute):  # hooks by absolute reference: the resolver looks them up
            for registrar in dict.fromkeys((owner, "")):  # in this order on every run (a set's varies)
                ctx.facts.hooks.append(Hook(f"{ctx.ref(cls)}.dispatch", registrar, "middleware"))
        return False  # other rules may read the call too
    if last in ("App", "API") and ctx.ref(call.func).startswith("falcon."):
        # Falcon `falcon.App(middleware=[PadMiddleware()])`: its process_response sees every response of the
        # app; the hook's registrar is the variable the app is assigned to (set by the caller, see PENDING_APP)
        listed = _arg(call, 99, "middleware")
        items = listed.elements if isinstance(listed, cst.List | cst.Tuple) else ()
        for el in items:
            item = el.value
            if isinstance(item, cst.Call) and isinstance(item.func, cst.Name | cst.Attribute):
                ctx.facts.hooks.append(Hook(f"{ctx.ref(item.func)}.process_response", PENDING_APP, "middleware"))
        return False
    if last not in ("Application", "Starlette", "FastAPI"):
        return False
    listed = _arg(call, 99, "middlewares") if last == "Application" else _arg(call, 99, "middleware")
    if not isinstance(listed, cst.List | cst.Tuple):
        return False
    for el in listed.elements:
        item = el.value
        if isinstance(item, cst.Name | cst.Attribute):  # aiohttp: a middleware function
            ctx.facts.hooks.append(Hook(ctx.ref(item), "", "middleware"))
        elif isinstance(item, cst.Call) and item.args and isinstance(item.args[0].value, cst.Name | cst.Attribute):
            ref = ctx.ref(item.args[0].value)
            ctx.facts.hooks.append(Hook(f"{ref}.dispatch", "", "middleware"))  # Middleware(C)
    return False  # the app's routes are read by their own rules
