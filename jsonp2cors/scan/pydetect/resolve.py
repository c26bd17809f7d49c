"""From module facts to endpoints: propagate paddings through helpers, decorators, hooks, response classes,
base classes and renderers (within one module or across the repo), then find routes, methods, credentials.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from jsonp2cors.findings import Endpoint
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.pydetect import tables
from jsonp2cors.scan.pydetect.model import (
    CallSite,
    ClassFacts,
    Decorator,
    FunctionFacts,
    Hook,
    ModuleFacts,
    TableRoute,
    Taint,
)


@dataclass(frozen=True)
class Ev:
    """A function emits JavaScript padding whose function name comes from `kind` (request/param/ctor)."""

    kind: str
    keys: tuple[str, ...]
    param: int
    name: str
    via: str
    line: int
    strong: bool
    medium: bool = False
    source: str = ""  # key of the function that builds the padding


def _ev(t: Taint, via: str, line: int, source: str, medium: bool = False) -> Ev:
    return Ev(t.kind, t.keys, t.param, t.name, via, line, t.strong, medium, source)


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")


class Repo:
    """An index over the facts of many modules."""

    def __init__(self, modules: Iterable[ModuleFacts], config: ScanConfig) -> None:
        self.config = config
        self.modules = list(modules)
        self.funcs: dict[str, tuple[ModuleFacts, FunctionFacts]] = {}
        self.classes: dict[str, tuple[ModuleFacts, ClassFacts]] = {}
        self.suffix: dict[str, list[str]] = defaultdict(list)
        self.mod_suffix: dict[str, list[ModuleFacts]] = defaultdict(list)
        for m in self.modules:
            parts = m.module.split(".") if m.module else []
            for i in range(len(parts)):
                self.mod_suffix[".".join(parts[i:])].append(m)
            for q, f in m.functions.items():
                self._index(self._key(m, q), (m, f), self.funcs)
            for q, c in m.classes.items():
                self._index(self._key(m, q), (m, c), self.classes)
        self.renderers: dict[str, tuple[str, ...]] = {}
        self.renderer_factories: dict[str, tuple[str, ModuleFacts]] = {}
        self.route_names: dict[str, str] = {}
        self.drf_defaults: list[tuple[str, ModuleFacts]] = []  # DEFAULT_RENDERER_CLASSES entries
        for m in self.modules:
            self.drf_defaults.extend((ref, m) for ref in m.drf_default_renderers)
            self.renderers.update(m.renderers)
            self.renderer_factories.update({name: (ref, m) for name, ref in m.renderer_factories.items()})
            self.route_names.update(m.route_names)
        self._mro_cache: dict[str, list[str]] = {}

    @staticmethod
    def _key(m: ModuleFacts, qual: str) -> str:
        return f"{m.module}.{qual}" if m.module else qual

    def _index(self, key: str, value: Any, table: dict[str, Any]) -> None:
        table[key] = value
        parts = key.split(".")
        for i in range(1, len(parts) - 1):
            self.suffix[".".join(parts[i:])].append(key)

    def lookup(self, ref: str, frm: ModuleFacts) -> str | None:
        if ref in self.funcs or ref in self.classes:
            return ref
        cands = self.suffix.get(ref)
        if not cands:
            return None
        if len(cands) == 1:
            return cands[0]
        here = frm.module.split(".")

        def closeness(key: str) -> int:
            n = 0
            for a, b in zip(key.split("."), here, strict=False):
                if a != b:
                    break
                n += 1
            return n

        return max(cands, key=closeness)

    def module_named(self, name: str, frm: ModuleFacts) -> list[ModuleFacts]:
        found = self.mod_suffix.get(name, [])
        if len(found) <= 1:
            return list(found)
        here = frm.module.split(".")

        def closeness(m: ModuleFacts) -> int:
            n = 0
            for a, b in zip(m.module.split("."), here, strict=False):
                if a != b:
                    break
                n += 1
            return n

        best = max(closeness(m) for m in found)
        return [m for m in found if closeness(m) == best]

    def mro(self, cls_key: str) -> list[str]:
        if cls_key in self._mro_cache:
            return self._mro_cache[cls_key]
        out: list[str] = []
        stack = [cls_key]
        while stack:
            k = stack.pop(0)
            if k in out or k not in self.classes:
                continue
            out.append(k)
            m, c = self.classes[k]
            for b in c.bases:
                bk = self.lookup(b, m)
                if bk:
                    stack.append(bk)
        self._mro_cache[cls_key] = out
        return out

    def method(self, cls_key: str, name: str) -> str | None:
        for k in self.mro(cls_key):
            key = f"{k}.{name}"
            if key in self.funcs:
                return key
        return None

    def class_key_of(self, fkey: str) -> str | None:
        m, f = self.funcs[fkey]
        return self._key(m, f.cls) if f.cls else None

    def callable_of(self, target: str, fkey: str) -> str | None:
        m, f = self.funcs[fkey]
        if target.startswith(("self.", "cls.")):
            rest = target.split(".", 1)[1]
            if "." in rest:
                return None
            ck = self.class_key_of(fkey)
            if ck is None and f.parent:  # a closure inside a method
                pk = self._key(m, f.parent)
                ck = self.class_key_of(pk) if pk in self.funcs else None
            return self.method(ck, rest) if ck else None
        return self.lookup(target, m)


class Resolver:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.config = repo.config
        self.events: dict[str, set[Ev]] = defaultdict(set)
        self.returns: dict[str, Taint] = {}
        self.used: dict[str, set[str]] = defaultdict(set)
        self.children: dict[str, list[str]] = defaultdict(list)
        self.hooked: dict[str, list[tuple[str, str]]] = defaultdict(list)  # handler -> [(hook key, kind)]
        self.table_routes: dict[str, list[tuple[str | None, tuple[str, ...], str]]] = defaultdict(list)
        self.table_renderers: dict[str, str] = {}
        for fkey, (m, f) in repo.funcs.items():
            if f.parent:
                self.children[repo._key(m, f.parent)].append(fkey)
        self._routes_from_tables()
        self._hooks()

    # ------------------------------------------------------------------------------------------- tables
    def django_prefixes(self) -> dict[str, list[str]]:
        """Per urls module, every prefix it is include()d under (a module included twice answers at both)."""
        prefixes: dict[str, list[str]] = {}
        for _ in range(6):
            changed = False
            for m in self.repo.modules:
                for inc in m.includes:
                    # include("news.urls"), include(news_urls) (a module object: `from news import urls`)
                    targets = self.repo.module_named(inc.module, m) or self.repo.module_named(
                        inc.module.removesuffix(".urls"), m
                    )
                    for target in targets:
                        known = prefixes.setdefault(target.module, [])
                        for outer in prefixes.get(m.module) or [""]:
                            value = _join(outer, inc.prefix)
                            if value not in known and len(known) < MAX_INCLUDE_PREFIXES:
                                known.append(value)
                                changed = True
            if not changed:
                break
        return prefixes

    def table_paths(self, tr: TableRoute, m: ModuleFacts, django: dict[str, list[str]]) -> list[str | None]:
        """The paths a table route answers at: under a DRF router's include(), under each Django include()."""
        path = tr.path
        if tr.registrar and tr.registrar in m.prefixes and path is not None:  # a DRF router's include()
            path = _join(m.prefixes[tr.registrar], path)
        paths: list[str | None] = [path]
        if tr.framework == "django" and path is not None:
            paths = []
            for outer in django.get(m.module) or [""]:
                joined = _join(outer, path)
                paths.append(joined if joined.startswith("/") else "/" + joined)
        if tr.route_name:
            paths = [self.repo.route_names.get(tr.route_name, p) for p in paths]
        return paths

    def _routes_from_tables(self) -> None:
        django_prefix = self.django_prefixes()
        for m in self.repo.modules:
            for tr, path in ((t, p) for t in m.table_routes for p in self.table_paths(t, m, django_prefix)):
                key = self.repo.lookup(tr.target, m)
                if key is None:
                    continue
                if key in self.repo.funcs:
                    if tr.methods == ("DETAIL",):
                        continue  # a router's detail route names viewset actions, not a function
                    self.table_routes[key].append((path, tr.methods, tr.framework))
                    if tr.renderer:
                        self.table_renderers[key] = tr.renderer
                    continue
                detail = tr.methods == ("DETAIL",)  # a DRF router's detail route: retrieve/update/destroy
                if key in self.repo.classes and self._rendering_view(key) and not self.repo.method(key, "get"):
                    # a Django generic view answering through its library `get`: the route is that method's
                    self.table_routes[f"{key}.get"].append((path, ("GET",), tr.framework))
                for ck in self.repo.mro(key):
                    _, c = self.repo.classes[ck]
                    for name in c.methods:
                        extra = _drf_extra_action(self.repo.funcs[f"{ck}.{name}"][1]) if tr.registrar else None
                        if extra is not None and path is not None:  # @action(detail=..., url_path=...)
                            on_detail, url_path, verbs = extra
                            if on_detail == detail:
                                route = (_join(path, url_path + "/"), verbs, tr.framework)
                                self.table_routes[f"{ck}.{name}"].append(route)
                            continue
                        if name in tables.DRF_ACTIONS and tr.registrar:
                            if detail != (name not in ("list", "create")):
                                continue
                            method = tables.DRF_ACTIONS[name]
                        elif name in tables.HANDLER_METHODS and not detail:
                            method = tables.HANDLER_METHODS[name]
                        else:
                            continue
                        mk = f"{ck}.{name}"
                        self.table_routes[f"{key}.{name}" if f"{key}.{name}" in self.repo.funcs else mk].append(
                            (path, (method,), tr.framework)
                        )

    def _rendering_view(self, cls_key: str) -> bool:
        """Does this class derive (through the repo's classes) from a Django generic view whose library `get`
        answers by calling `render_to_response` (TemplateView, DetailView, ListView, FormView ...)?"""
        for k in self.repo.mro(cls_key):
            m, c = self.repo.classes[k]
            for base in c.bases:
                if self.repo.lookup(base, m) is None and _is_rendering_view(base):
                    return True
        return False

    def _views_rendering_through(self, fkey: str) -> list[str]:
        """The repo's generic view classes that inherit this `render_to_response` (a JSONP mixin's)."""
        m, f = self.repo.funcs[fkey]
        if f.cls is None or f.name not in _RENDER_HOOKS:
            return []
        owner = self.repo._key(m, f.cls)
        return [
            k
            for k in self.repo.classes
            if owner in self.repo.mro(k)
            and self.repo.method(k, f.name) == fkey
            and not self.repo.method(k, "get")
            and self._rendering_view(k)
        ]

    def _hook_key(self, m: ModuleFacts, function: str) -> str | None:
        """The function a hook names: one of the module's own (`after`, `JSONPMiddleware.dispatch`), or one
        defined in another module of the repo, by absolute reference (a middleware class imported from
        elsewhere: its `dispatch`, possibly inherited). None when the repo does not define it (a library's)."""
        key = self.repo._key(m, function)
        if key in self.repo.funcs:
            return key
        found = self.repo.lookup(function, m)
        if found in self.repo.funcs:
            return found
        owner, _, name = function.rpartition(".")
        cls = self.repo.lookup(owner, m) if owner else None
        if cls is not None and cls in self.repo.classes:
            return self.repo.method(cls, name)
        return None

    def _hooks(self) -> None:
        """Which handlers each response hook (after_request, representation, Api.handle_error) touches."""
        self._project_middleware()
        for m in self.repo.modules:
            hooks = [(h, k) for h in m.hooks if (k := self._hook_key(m, h.function)) is not None]
            for var, cls_ref in m.registrar_types.items():
                ck = self.repo.lookup(cls_ref, m)
                if ck is None or ck not in self.repo.classes:
                    continue
                for name in tables.IMPLICIT_METHODS:
                    mk = self.repo.method(ck, name)
                    if mk:
                        hooks.append((Hook(name, var, name), mk))
            if not hooks:
                continue
            for hook, hkey in hooks:
                for q, f in m.functions.items():
                    if any(r.registrar == hook.registrar for r in f.routes):
                        self.hooked[self.repo._key(m, q)].append((hkey, hook.kind))
                for tr in m.table_routes:
                    if tr.registrar != hook.registrar:
                        continue
                    for target in self._route_handlers(tr, m):
                        self.hooked[target].append((hkey, hook.kind))

    def _route_handlers(self, tr: TableRoute, m: ModuleFacts) -> list[str]:
        """The functions a table route reaches: the view function, or the handler methods of the view class
        (its own and inherited)."""
        key = self.repo.lookup(tr.target, m)
        if key in self.repo.classes:
            return [
                f"{ck}.{name}"
                for ck in self.repo.mro(key)
                for name in self.repo.classes[ck][1].methods
                if name in tables.HANDLER_METHODS
            ]
        return [key] if key else []

    def _project_middleware(self) -> None:
        """Middleware a Django settings module lists wraps every Django view of the project: the views of url
        tables and Django views that are routed some other way."""
        hooks: list[tuple[Hook, str]] = []
        for m in self.repo.modules:
            for h in m.hooks:
                if h.registrar == tables.DJANGO_SETTINGS_HOOK and (k := self._hook_key(m, h.function)) is not None:
                    hooks.append((h, k))
        if not hooks:
            return
        for m in self.repo.modules:
            for tr in m.table_routes:
                if tr.framework != "django":
                    continue
                for target in self._route_handlers(tr, m):
                    for hook, hkey in hooks:
                        if (hkey, hook.kind) not in self.hooked[target]:
                            self.hooked[target].append((hkey, hook.kind))

    # ---------------------------------------------------------------------------------------- propagation
    def _taint(self, t: Taint | None, fkey: str) -> Taint | None:
        if t is None:
            return None
        if t.kind == "call":
            g = self.repo.callable_of(t.target, fkey)
            returned = self.returns.get(g) if g else None
            if returned is None and t.name:  # the call was given a parameter: that is what flows on
                return Taint("param", t.keys, t.param, t.name, strong=t.strong)
            return returned
        return t

    def _known_padder(self, target: str, spelled: str, line: int, via: str) -> Ev | None:
        """A padder known without reading its code: a library's (`flask_jsonpify.jsonify`), or a helper named in
        `[tool.jsonp2cors] helpers` (matched on the last part of `spelled`; `via` says which)."""
        keys = tables.LIBRARY_PADDERS.get(target)
        if keys is not None:
            return Ev("request", keys, -1, "", target.split(".", 1)[0], line, True)
        if spelled.rsplit(".", 1)[-1] in self.config.helper_names:
            return Ev("request", self.config.callback_params, -1, "", via, line, True, True)
        return None

    @staticmethod
    def _passed_key_names(c: CallSite, gf: FunctionFacts, offset: int) -> dict[str, str]:
        """Default request key -> the name this call passes instead (`jsonp(data, param="cb")`)."""
        if not gf.key_params or not c.literals:
            return {}
        passed = dict(c.literals)
        out: dict[str, str] = {}
        for param, default in gf.key_params.items():
            index = gf.params.index(param) - offset if param in gf.params else -1
            value = passed.get(param, passed.get(index) if index >= 0 else None)
            if value:
                out[default] = value
        return out

    def _call_events(self, c: CallSite, fkey: str) -> set[Ev]:
        out: set[Ev] = set()
        target = c.target
        known = self._known_padder(target, target, c.line, "helper:" + target.rsplit(".", 1)[-1])
        if known is not None:
            out.add(known)
            return out
        g = self.repo.callable_of(target, fkey)
        if g is None:
            return out
        if g in self.repo.classes:
            out |= self._class_call(g, c, fkey)
            return out
        _, gf = self.repo.funcs[g]
        offset = 1 if gf.cls is not None and gf.params[:1] in (("self",), ("cls",)) else 0
        if gf.handler_hint == "wsgi" or (gf.handler_hint == "view" and len(gf.params) - offset == 1):
            return out  # a dispatcher calling a view (it takes only the request): the view is the endpoint
        renamed = self._passed_key_names(c, gf, offset)
        for e in self.events.get(g, ()):
            if e.kind == "request":
                out.add(
                    Ev(
                        "request",
                        tuple(dict.fromkeys(renamed.get(k, k) for k in e.keys)),
                        -1,
                        "",
                        f"helper:{gf.qualname}",
                        c.line,
                        e.strong,
                        e.medium,
                        e.source or g,
                    )
                )
                self.used[g].add(fkey)
            elif e.kind == "param":
                arg = self._arg(c, e.param - offset, e.name)
                t = self._taint(arg, fkey)
                if t is not None and t.kind in ("request", "param", "ctor"):
                    out.add(_ev(t, f"helper:{gf.qualname}", c.line, e.source or g, e.medium))
                    self.used[g].add(fkey)
        return out

    @staticmethod
    def _arg(c: CallSite, index: int, name: str) -> Taint | None:
        for k, v in c.kwargs:
            if k == name:
                return v
        if 0 <= index < len(c.args):
            return c.args[index]
        return None

    def _class_call(self, ck: str, c: CallSite, fkey: str) -> set[Ev]:
        """`JSONPResponse(data, callback)`: a response class that pads a constructor argument."""
        out: set[Ev] = set()
        _, cf = self.repo.classes[ck]
        for k in self.repo.mro(ck):
            _, kc = self.repo.classes[k]
            for name in kc.methods:
                mk = f"{k}.{name}"
                for e in self.events.get(mk, ()):
                    # a constructor argument the class pads: kept as `self.x` ("ctor"), or padded in `__init__`
                    if e.kind == "ctor" or (e.kind == "param" and name == "__init__"):
                        t = self._taint(self._arg(c, e.param - 1, e.name), fkey)
                        if t is not None and t.kind in ("request", "param", "ctor"):
                            out.add(_ev(t, f"response-class:{cf.qualname}", c.line, mk, e.medium))
                            self.used[mk].add(fkey)
                    elif e.kind == "request" and name in tables.RESPONSE_METHODS and c.line:
                        out.add(
                            Ev(
                                "request",
                                e.keys,
                                -1,
                                "",
                                f"response-class:{cf.qualname}",
                                c.line,
                                e.strong,
                                e.medium,
                                mk,
                            )
                        )
                        self.used[mk].add(fkey)
        return out

    def _decorator_events(self, fkey: str) -> set[Ev]:
        m, f = self.repo.funcs[fkey]
        out: set[Ev] = set()
        decorators = list(f.decorators)
        if f.cls is not None and f.name in tables.HANDLER_METHODS:  # a class decorator wraps its handlers
            ck = self.repo.class_key_of(fkey)
            if ck is not None and ck in self.repo.classes:
                decorators.extend(self.repo.classes[ck][1].decorators)
        for d in decorators:
            known = self._known_padder(d.target, d.text, f.line, "decorator:" + d.text)
            if known is not None:
                listed = dict(d.list_kwargs).get(tables.LIBRARY_PADDER_KEYS_KWARG.get(d.target, ""))
                if listed:  # @as_json_p(callbacks=["cb"]): the names it was given instead of its defaults
                    known = replace(known, keys=tuple(listed))
                out.add(known)
                continue
            renderer = dict(d.kwargs).get("renderer")
            if renderer is not None and d.target.endswith(("view_config", "view_defaults")):
                out |= self._renderer_events(renderer, f.line) | self._factory_events(renderer, fkey, f.line)
                continue
            g = self.repo.lookup(d.target, m)
            if g and g in self.repo.funcs:
                _, gf = self.repo.funcs[g]
                out |= self._inherit(g, fkey, f"decorator:{gf.qualname}", f.line)
            for _, ref in d.func_kwargs:  # CherryPy: @tools.json_out(handler=jsonp_handler) answers through it
                h = self.repo.lookup(ref, m)
                if h and h in self.repo.funcs and h != fkey:
                    _, hf = self.repo.funcs[h]
                    out |= self._inherit(h, fkey, f"helper:{hf.qualname}", f.line)
        renderer = self.table_renderers.get(fkey)
        if renderer:
            out |= self._renderer_events(renderer, f.line) | self._factory_events(renderer, fkey, f.line)
        return out

    def _factory_events(self, renderer: str, fkey: str, line: int) -> set[Ev]:
        """A Pyramid renderer registered with the project's own factory: a class whose `__call__(value, system)`
        pads, or a factory function whose returned renderer does."""
        found = self.repo.renderer_factories.get(renderer)
        if found is None:
            return set()
        ref, m = found
        key = self.repo.lookup(ref, m)
        if key is not None and key in self.repo.classes:
            key = self.repo.method(key, "__call__")
        if key is None or key not in self.repo.funcs:
            return set()
        _, g = self.repo.funcs[key]
        return self._inherit(key, fkey, f"renderer:{g.qualname}", line)

    def _renderer_events(self, renderer: str, line: int) -> set[Ev]:
        keys = self.repo.renderers.get(renderer)
        if keys is not None:
            return {Ev("request", keys, -1, "", "pyramid-jsonp-renderer", line, True)}
        if renderer.lower() == "jsonp":
            return {Ev("request", ("callback",), -1, "", "pyramid-jsonp-renderer", line, True, True)}
        return set()

    def _renderer_class_events(self, refs: tuple[str, ...], m: ModuleFacts, fkey: str, line: int) -> set[Ev]:
        """A project renderer class (Django REST framework) listed for a view, whose render() pads."""
        out: set[Ev] = set()
        for ref in refs:
            rk = self.repo.lookup(ref, m)
            if rk is None or rk not in self.repo.classes:
                continue
            for rck in self.repo.mro(rk):
                _, rc = self.repo.classes[rck]
                if "render" in rc.methods:
                    out |= self._inherit(f"{rck}.render", fkey, f"renderer:{rc.qualname}", line)
                    break
        return out

    def _drf_view(self, fkey: str) -> bool:
        """A Django REST framework view that answers through the default renderers: an `@api_view` function,
        or a handler/action of a class deriving from DRF's views, neither listing renderers of its own."""
        _, f = self.repo.funcs[fkey]
        if f.renderers:
            return False
        if f.cls is None:
            return any(d.target.endswith("api_view") for d in f.decorators)
        if f.name not in tables.HANDLER_METHODS and f.name not in tables.DRF_ACTIONS and _drf_extra_action(f) is None:
            return False
        ck = self.repo.class_key_of(fkey)
        if ck is None:
            return False
        drf = False
        for k in self.repo.mro(ck):
            _, kc = self.repo.classes[k]
            if kc.renderers or "renderer_classes" in kc.attrs:
                return False
            drf = drf or any(b.startswith(tables.DRF_VIEW_PACKAGES) for b in kc.bases)
        return drf

    def _drf_default_events(self, fkey: str) -> set[Ev]:
        """`REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]` naming a JSONP renderer (the library's, or a project
        class whose render() pads): every DRF view without its own renderer list answers JSONP."""
        if not self.repo.drf_defaults or not self._drf_view(fkey):
            return set()
        _, f = self.repo.funcs[fkey]
        out: set[Ev] = set()
        for ref, m in self.repo.drf_defaults:
            keys = tables.LIBRARY_RENDERER_CLASSES.get(ref)
            if keys is not None:
                out.add(Ev("request", keys, -1, "", "drf-default-renderer", f.line, True))
            else:
                out |= self._renderer_class_events((ref,), m, fkey, f.line)
        return out

    def _implicit_events(self, fkey: str) -> set[Ev]:
        """Handler methods of a class whose base overrides write()/finish()/render()... with padding, or whose
        class lists a padding renderer; function views decorated with such a renderer; DRF views answering
        through a JSONP default renderer."""
        m, f = self.repo.funcs[fkey]
        out: set[Ev] = self._drf_default_events(fkey)
        if f.renderers:
            out |= self._renderer_class_events(f.renderers, m, fkey, f.line)
        if f.cls is None or f.name not in tables.HANDLER_METHODS:
            return out
        ck = self.repo.class_key_of(fkey)
        if ck is None:
            return out
        for k in self.repo.mro(ck):
            km, kc = self.repo.classes[k]
            for name in kc.methods:
                if name not in tables.IMPLICIT_METHODS:
                    continue
                mk = f"{k}.{name}"
                out |= self._inherit(mk, fkey, f"base-class:{kc.qualname}.{name}", f.line)
            out |= self._renderer_class_events(kc.renderers, km, fkey, f.line)
        return out

    def _hook_events(self, fkey: str) -> set[Ev]:
        _, f = self.repo.funcs[fkey]
        out: set[Ev] = set()
        for hkey, kind in self.hooked.get(fkey, ()):
            if hkey == fkey:
                continue
            if kind in ("after_request", "plugin", "middleware") and not f.returns_json:
                continue
            _, hf = self.repo.funcs[hkey]
            # after_request checks types; handle_error pads errors only: medium unless it is a representation
            out |= self._inherit(hkey, fkey, f"{kind}:{hf.qualname}", f.line, medium=kind != "representation")
        return out

    def _inherit(self, source: str, fkey: str, via: str, line: int, *, medium: bool | None = None) -> set[Ev]:
        """The request-driven padding of `source` (a decorator, base-class method or hook), as events of the
        handler `fkey` that it applies to; marks `source` as used by `fkey`. `medium` None keeps the source's."""
        out: set[Ev] = set()
        for e in self.events.get(source, ()):
            if e.kind == "request":
                out.add(Ev("request", e.keys, -1, "", via, line, e.strong,
                           e.medium if medium is None else medium, e.source or source))
                self.used[source].add(fkey)
        return out

    def run(self) -> None:
        for _ in range(12):
            changed = False
            for fkey, (_m, f) in self.repo.funcs.items():
                if fkey not in self.returns:
                    for t in f.returns:
                        rt = self._taint(t, fkey)
                        if rt is not None and rt.kind == "request":
                            self.returns[fkey] = rt
                            changed = True
                            break
            for fkey, (_m, f) in self.repo.funcs.items():
                new: set[Ev] = set()
                for p in f.pads:
                    pt = self._taint(p.taint, fkey)
                    if pt is not None:
                        # a JavaScript template named after what it renders: its text (not read) does the padding
                        new.add(_ev(pt, p.via, p.line, fkey, medium=p.via == "js-template"))
                for c in f.calls:
                    new |= self._call_events(c, fkey)
                new |= self._decorator_events(fkey)
                new |= self._implicit_events(fkey)
                new |= self._hook_events(fkey)
                for child in self.children.get(fkey, ()):
                    if self._strong_handler(child):
                        continue
                    for e in self.events.get(child, ()):
                        if e.kind == "request":
                            new.add(e)
                if not new <= self.events[fkey]:
                    self.events[fkey] |= new
                    changed = True
            if not changed:
                break

    # ------------------------------------------------------------------------------------------ output
    def _strong_handler(self, fkey: str) -> bool:
        _, f = self.repo.funcs[fkey]
        return bool(f.routes) or fkey in self.table_routes or f.handler_hint in ("wsgi", "module", "exposed")

    def _route(self, fkey: str) -> tuple[str | None, tuple[str, ...], str, tuple[str, ...]]:
        """(first path, its methods, framework, every path) of a handler; (None, (), "", ()) when unknown."""
        found: list[tuple[str, tuple[str, ...], str]] = []
        m, f = self.repo.funcs[fkey]
        for r in f.routes:
            path = r.path
            if path is None:
                continue
            if path.startswith("@route:"):
                resolved = self.repo.route_names.get(path[7:])
                if resolved is not None:
                    found.append((resolved, r.methods, r.framework))
                continue
            if path == "@exposed":
                found.append((self._exposed_path(fkey), r.methods, "cherrypy"))
                continue
            found.append((_join(self._prefix(m, r.registrar), path) or "/", r.methods, r.framework))
        for path, methods, framework in self.table_routes.get(fkey, ()):
            if path is not None:
                found.append((path, methods, framework))
        if not found:
            return None, (), "", ()
        paths = tuple(dict.fromkeys(p for p, _, _ in found))
        first, methods, framework = found[0]
        return first, methods, framework, paths if len(paths) > 1 else ()

    def _prefix(self, m: ModuleFacts, registrar: str) -> str:
        if not registrar:
            return ""
        full = f"{m.module}.{registrar}" if m.module else registrar
        own = m.prefixes.get(registrar, "")
        for other in self.repo.modules:
            for k, v in other.prefixes.items():
                if not k.startswith("@") or k == "@pending":
                    continue
                joins = k.startswith("@+")  # FastAPI include_router: its prefix, then the router's own
                ref = k[2:] if joins else k[1:]
                if full == ref or full.endswith("." + ref):
                    return _join(v, own) if joins else v
        return own

    def _exposed_path(self, fkey: str) -> str:
        _, f = self.repo.funcs[fkey]
        ck = self.repo.class_key_of(fkey)
        mount = self._mount_of(ck, set()) if ck else None
        leaf = "" if f.name == "index" or tables.is_verb_method(f.name) else f.name
        return _join(mount or "/", leaf) or "/"  # an object never mounted answers from the root

    def _mount_of(self, ck: str, seen: set[str]) -> str | None:
        """Where CherryPy serves an object of class `ck`: its mount (`tree.mount(Root(), "/app")`), or under an
        attribute of an object of another class that is served somewhere (`users = Users()`: /app/users);
        None when it is neither (served from the root)."""
        seen.add(ck)
        mount: str | None = None
        for other in self.repo.modules:
            for ref, path in other.mounts.items():
                if self.repo.lookup(ref, other) == ck:
                    mount = path
        if mount is not None:
            return mount
        for other in self.repo.modules:
            for owner, attr, child in other.attached:
                if self.repo.lookup(child, other) != ck:
                    continue
                parent = self.repo.lookup(owner, other)
                if parent is None or parent in seen:
                    continue
                return _join(self._mount_of(parent, seen) or "/", attr)
        return None

    def _credentials(self, fkey: str, depth: int = 0, seen: set[str] | None = None) -> list[str]:
        seen = seen if seen is not None else set()
        if fkey in seen or depth > 3:
            return []
        seen.add(fkey)
        m, f = self.repo.funcs[fkey]
        out = list(f.credentials)
        for c in f.calls:
            g = self.repo.callable_of(c.target, fkey)
            if g and g in self.repo.funcs:
                out += self._credentials(g, depth + 1, seen)
        for d in f.decorators:
            g = self.repo.lookup(d.target, m)
            if g and g in self.repo.funcs:
                out += self._credentials(g, depth + 1, seen)
        ck = self.repo.class_key_of(fkey)
        if ck:
            for k in self.repo.mro(ck):
                km, kc = self.repo.classes[k]
                for b in kc.bases:
                    why = tables.CREDENTIAL_QUALIFIED.get(b)
                    if why:
                        out.append(why)
                if k == ck and f.name in tables.HANDLER_METHODS:  # @method_decorator(login_required, name=...)
                    for d in kc.decorators:
                        why = tables.decorator_credentials(d.target, d.text)
                        if why:
                            out.append(why)
                        g = self.repo.lookup(d.target, km)
                        if g and g in self.repo.funcs:
                            out += self._credentials(g, depth + 1, seen)
        if f.parent:
            pk = self.repo._key(m, f.parent)
            if pk in self.repo.funcs:
                out += self._credentials(pk, depth + 1, seen)
        return out

    def _keys(self, evs: Iterable[Ev], m: ModuleFacts) -> tuple[str, ...]:
        keys: list[str] = []
        for e in evs:
            # a handler parameter's key is the request name it is declared under (a FastAPI alias), else its name
            for k in e.keys if e.kind == "request" else (e.keys[:1] or (e.name,)):
                if k.startswith("@"):
                    keys.extend(self._resolve_key_ref(k[1:], m))
                elif k:
                    keys.append(k)
        return tuple(dict.fromkeys(keys))

    def _subclass_keys(self, cls_key: str | None, evs: Iterable[Ev], keys: tuple[str, ...]) -> tuple[str, ...]:
        """A handler of class `cls_key` padding through an inherited helper that reads a class attribute
        (`callback_param = "callback"` in the base, `"jsoncallback"` in this class): the subclass's value."""
        if cls_key is None:
            return keys
        out = list(keys)
        for e in evs:
            if e.source not in self.repo.funcs or not self.repo.funcs[e.source][1].self_keys:
                continue
            owner = self.repo.class_key_of(e.source)
            for attr, defaults in self.repo.funcs[e.source][1].self_keys.items():
                for ck in self.repo.mro(cls_key):
                    if ck == owner:
                        break
                    own = self.repo.classes[ck][1].attrs.get(attr)
                    if own is not None:
                        out = [v for k in out for v in (own if k in defaults else (k,))]
                        break
        return tuple(dict.fromkeys(out))

    def _resolve_key_ref(self, ref: str, m: ModuleFacts) -> tuple[str, ...]:
        if ref.startswith("flask.g."):  # Flask `g.callback`, set from the request in some module of the repo
            attr = ref.removeprefix("flask.g.")
            found = tuple(dict.fromkeys(k for o in self.repo.modules for k in o.g_keys.get(attr, ())))
            return found or (attr,)  # not seen being set: its name is the best guess of the parameter's
        if "." not in ref:
            return ()
        mod, name = ref.rsplit(".", 1)
        candidates = self.repo.module_named(mod, m)
        if not candidates and mod in ("django.conf.settings", "settings"):
            candidates = self.repo.module_named("settings", m)
        for c in candidates:
            if name in c.constants:
                return c.constants[name]
        return ()

    def _relevant(self, fkey: str, seen: set[str]) -> bool:
        """Does a request value reach this padding (here, or through the callers that use it)?"""
        if any(e.kind == "request" for e in self.events.get(fkey, ())):
            return True
        seen.add(fkey)
        return any(c not in seen and self._relevant(c, seen) for c in self.used.get(fkey, ()))

    def _named_jsonp(self, fkey: str) -> bool:
        _, f = self.repo.funcs[fkey]
        return "jsonp" in f.qualname.lower()

    def padders(self, *, strong_only: bool) -> dict[str, set[str]]:
        """Functions/classes that pad (by key) -> the simple names other modules would import them by.

        `strong_only`: only those padding a request value or a callback-named parameter (worth a second read
        of files the prefilter dropped); otherwise every padding function (to pick modules that use them)."""
        out: dict[str, set[str]] = {}
        for fkey, evs in self.events.items():
            if not evs:
                continue
            if strong_only and not any(e.kind == "request" or e.strong for e in evs):
                continue
            _, f = self.repo.funcs[fkey]
            # other modules import a function by its name, a method through its (top-level) class
            names = {f.cls.split(".", 1)[0]} if f.cls else {f.qualname.split(".", 1)[0]}
            out[fkey] = names
        return out

    def endpoints(self) -> list[Endpoint]:
        out: list[Endpoint] = []
        for fkey, evs in self.events.items():
            if not evs:
                continue
            m, f = self.repo.funcs[fkey]
            strong = self._strong_handler(fkey)
            request_evs = [e for e in evs if e.kind == "request"]
            param_evs = [e for e in evs if e.kind in ("param", "ctor")]
            if f.parent and not strong:
                pk = self.repo._key(m, f.parent)
                if pk in self.repo.funcs and self.events.get(pk):
                    continue  # reported through the enclosing function (a decorator's wrapper)
            used = bool(self.used.get(fkey)) and self._relevant(fkey, set())
            # middleware pads every response that passes through it: a helper for all views
            used = used or (
                bool(request_evs)
                and f.cls is not None
                and ("middleware" in f.cls.lower() or f.name == "process_response")
                and f.name in ("__call__", "process_response", "__acall__", "dispatch")
            )
            # a Pyramid tween factory `(handler, registry)`: its tween wraps every view, likewise a helper
            used = used or (bool(request_evs) and f.cls is None and f.params[:2] == ("handler", "registry"))
            medium = False
            if strong:
                role = "handler"
                chosen = request_evs + [e for e in param_evs if e.kind == "param"]
            elif used:
                role = "helper"
                chosen = request_evs or param_evs
            elif request_evs and f.handler_hint in ("method", "view"):
                role, chosen = "handler", request_evs
            elif request_evs:
                role, chosen, medium = "handler", request_evs, True
            elif any(e.strong for e in param_evs) and self._named_jsonp(fkey):
                role, chosen, medium = "helper", [e for e in param_evs if e.strong], True
            else:
                continue
            if not chosen:
                continue
            best = sorted(
                chosen,
                key=lambda e: (not e.strong, e.medium, e.via.startswith(("helper", "hook")), e.line, e.via),
            )[0]
            if not any(e.strong and not e.medium for e in chosen):
                medium = True
            route, methods, framework, routes = self._route(fkey) if role == "handler" else (None, (), "", ())
            if not methods:
                for d in f.decorators:
                    listed = _methods_from_decorator(d)
                    if listed:
                        methods = listed
                        break
            if not methods and f.name in tables.HANDLER_METHODS and f.cls:
                methods = (tables.HANDLER_METHODS[f.name],)
            if not methods and f.name in tables.DRF_ACTIONS and f.cls and best.via == "drf-default-renderer":
                methods = (tables.DRF_ACTIONS[f.name],)
            creds = self._credentials(fkey)
            for e in chosen:
                if e.source and e.source != fkey and e.source in self.repo.funcs:
                    creds += self._credentials(e.source)
            fw = m.framework
            if fw == "generic" and f.handler_hint == "wsgi":
                fw = "wsgi"
            if fw == "generic" and framework:
                fw = framework
            if fw == "generic" and best.source in self.repo.funcs:  # the helper's or base class's module says
                fw = self.repo.funcs[best.source][0].framework
            keys = self._keys(chosen, m)
            if f.cls is not None:
                keys = self._subclass_keys(self.repo.class_key_of(fkey), chosen, keys)
            views = self._views_rendering_through(fkey) if request_evs else []
            if views:
                role = "helper"  # the mixin pads for the views that inherit it: they are the handlers
                route, routes = None, ()
                # being inherited by a view settles that it answers requests: only the evidence can be weak
                view_medium = not any(e.strong and not e.medium for e in chosen)
                for k in views:
                    vm, vc = self.repo.classes[k]
                    paths = self.table_routes.get(f"{k}.get", [])
                    vpaths = tuple(dict.fromkeys(p for p, _, _ in paths if p is not None))
                    out.append(
                        Endpoint(
                            file=vm.rel,
                            line=vc.line,
                            function=f"{vc.qualname}.get",
                            framework="django",
                            route=vpaths[0] if vpaths else None,
                            routes=vpaths if len(vpaths) > 1 else (),
                            methods=("GET",),
                            callback_params=self._subclass_keys(k, chosen, keys),
                            credentials=bool(creds),
                            role="handler",
                            confidence="low" if vm.low_confidence else ("medium" if view_medium else "high"),
                            recognised_by=f"{best.via}, inherited {f.name}",
                            test_code=vm.test_code,
                            end_line=None,
                            credentials_reason=creds[0] if creds else None,
                        )
                    )
            out.append(
                Endpoint(
                    file=m.rel,
                    line=f.line,
                    function=f.qualname,
                    framework=fw,
                    route=route,
                    routes=routes,
                    methods=tuple(dict.fromkeys(methods or ("GET",))),
                    callback_params=keys,
                    credentials=bool(creds),
                    role=role,
                    confidence="low" if m.low_confidence else ("medium" if medium else "high"),
                    recognised_by=best.via,
                    test_code=m.test_code,
                    end_line=f.end_line or None,
                    credentials_reason=creds[0] if creds else None,
                )
            )
        return out


# Django's TemplateResponseMixin hook: a generic view's `get` renders through it.
_RENDER_HOOKS = frozenset({"render_to_response"})


# A urls module included under more prefixes than this is listed under the first ones only.
MAX_INCLUDE_PREFIXES = 8


def _is_rendering_view(ref: str) -> bool:
    """A Django generic view class whose `get` calls `render_to_response` (not `View`, not `RedirectView`)."""
    if not ref.startswith("django.views.generic"):
        return False
    name = ref.rsplit(".", 1)[-1]
    return name.endswith("View") and name not in ("View", "RedirectView")


def resolve(modules: Iterable[ModuleFacts], config: ScanConfig) -> list[Endpoint]:
    resolver = Resolver(Repo(modules, config))
    resolver.run()
    return resolver.endpoints()


def _drf_extra_action(f: FunctionFacts) -> tuple[bool, str, tuple[str, ...]] | None:
    """A viewset's extra action, `@action(detail=True, methods=["get"], url_path="stats")` (older DRF:
    `@detail_route` / `@list_route`): (on the detail route?, its path segment, its methods); else None."""
    for d in f.decorators:
        last = d.text.rsplit(".", 1)[-1]
        if last not in ("action", "detail_route", "list_route"):
            continue
        kwargs = dict(d.kwargs)
        detail = last == "detail_route" or kwargs.get("detail") == "True"
        methods = next((v for k, v in d.list_kwargs if k == "methods"), None) or ("get",)
        return detail, kwargs.get("url_path") or f.name, tuple(m.upper() for m in methods)
    return None


def _methods_from_decorator(dec: Decorator) -> tuple[str, ...] | None:
    """Django's require_GET / require_POST / require_http_methods([...]), or a `request_method_list=[...]`."""
    last = dec.text.rsplit(".", 1)[-1]
    if last in ("require_GET", "require_safe"):
        return ("GET",)
    if last == "require_POST":
        return ("POST",)
    if last == "require_http_methods" and dec.args and dec.args[0]:
        return tuple(m.upper() for m in dec.args[0].split(","))
    return next((v for k, v in dec.list_kwargs if k == "request_method_list"), None)
