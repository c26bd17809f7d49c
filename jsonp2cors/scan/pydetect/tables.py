"""Framework knowledge as data: request containers, credential signals, library JSONP helpers, frameworks.

Each table is small and flat; the collector looks things up here instead of branching on frameworks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Callback parameter names seen in the wild, beyond the configured ones.
CALLBACK_NAME = re.compile(
    r"^(?:json_?p?_?)?(?:callback|cb|call_back)(?:_?(?:name|fn|func|function|param))?$"
    r"|^jsonp(?:_?(?:callback|cb|param|fn))?$|^(?:cbk|jcb|jsoncb|callbackname|callback_function)$",
    re.I,
)

# Methods that are request APIs on their own (any receiver): Tornado, Falcon, cgi.FieldStorage.
REQUEST_API_METHODS = frozenset(
    {
        "get_argument",
        "get_query_argument",
        "get_arguments",
        "get_query_arguments",
        "get_body_argument",
        "get_param",
        "get_param_as_list",
        "getfirst",
        "getvalue",
    }
)
# Method names that read one request parameter (`request.args.get("callback")`): the request APIs above plus
# the mapping-style readers of every framework's parameter containers.
SOURCE_METHODS = REQUEST_API_METHODS | frozenset(
    {"get", "getone", "getlist", "get_all", "getall", "pop", "getunicode", "get_first"}
)
# The names of request attributes that hold request parameters (query, form, web2py's vars) or the route's
# path segments (a callback taken from `/data/<cb>`: aiohttp match_info, Pyramid matchdict, Starlette
# path_params, Flask view_args).
REQUEST_CONTAINER_NAMES: tuple[str, ...] = (
    "args", "values", "params", "GET", "POST", "REQUEST", "query", "query_params", "form", "forms", "arguments",
    "query_arguments", "QUERY", "querystring", "query_string", "params_dict", "vars", "get_vars", "post_vars",
    "match_info", "matchdict", "path_params", "view_args",
)
# The spelling of an expression that holds request parameters: request.args, self.request.GET, req.params ...
REQUEST_CONTAINER = re.compile(
    r"(?:^|\.)(?:" + "|".join(REQUEST_CONTAINER_NAMES) + r"|rel_url\.query|url\.query)$"
)
# ... also a context dict's request: `renderer_context["request"]` (DRF renderers), `system["request"]` (Pyramid)
REQUEST_ROOT = re.compile(
    r"^(?:request|req|self\.request|self\.req|cherrypy\.request|bottle\.request|\w+\[[\"']request[\"']\])$"
)
# Calls that build a request container: parse_qs(environ["QUERY_STRING"]), cgi.FieldStorage() ...
CONTAINER_FACTORIES = frozenset(
    {
        "urllib.parse.parse_qs",
        "urllib.parse.parse_qsl",
        "urlparse.parse_qs",
        "cgi.parse_qs",
        "cgi.FieldStorage",
        "cgi.parse",
        "webob.Request",
        "webob.request.Request",
        "werkzeug.wrappers.Request",
        "werkzeug.Request",
        "parse_qs",
        "FieldStorage",
        "Request",
        "multidict.MultiDict",
        "web.input",
    }
)

# Registrar of the hooks a Django settings module's MIDDLEWARE list makes: they apply to every Django view.
DJANGO_SETTINGS_HOOK = "@django-settings"

# Known JSONP helpers of libraries: qualified name -> callback parameter names they read.
LIBRARY_PADDERS: dict[str, tuple[str, ...]] = {
    "flask_jsonpify.jsonify": ("callback",),
    "flask_jsonpify.jsonpify": ("callback",),
    "flask.ext.jsonpify.jsonify": ("callback",),
    "flask.ext.jsonpify.jsonpify": ("callback",),
    # django-jsonp (package `djsonp`): the decorator and the response class read ?callback= or ?jsonp=
    "djsonp.jsonp": ("callback", "jsonp"),
    "djsonp.decorators.jsonp": ("callback", "jsonp"),
    "djsonp.JSONPResponse": ("callback", "jsonp"),
    "djsonp.response.JSONPResponse": ("callback", "jsonp"),
    # bottle_jsonp: a decorator reading ?callback= or ?jsonp=
    "bottle_jsonp.jsonp": ("callback", "jsonp"),
    # Flask-JSON: a decorator reading the first of app.config["JSON_JSONP_QUERY_CALLBACKS"] (?callback= or
    # ?jsonp= by default), or of its own `callbacks=[...]`
    "flask_json.as_json_p": ("callback", "jsonp"),
}
# Library padders whose parameter names a keyword argument of theirs can replace: name -> that keyword.
LIBRARY_PADDER_KEYS_KWARG: dict[str, str] = {"flask_json.as_json_p": "callbacks"}
# Names of library JSONP APIs that do not say "jsonp" (the word the prefilter and the cheap stage look for):
# a module naming one is read fully.
LIBRARY_JSONP_NAMES: tuple[str, ...] = ("as_json_p",)
# Renderer classes of Django REST framework that answer JSONP: listed in `renderer_classes`.
LIBRARY_RENDERER_CLASSES: dict[str, tuple[str, ...]] = {
    "rest_framework_jsonp.renderers.JSONPRenderer": ("callback",),
    "rest_framework_jsonp.JSONPRenderer": ("callback",),
    "rest_framework.renderers.JSONPRenderer": ("callback",),  # built into DRF before 3.0
}
# Django REST framework views: a class deriving from one of these packages' classes (APIView, GenericAPIView,
# ViewSet, ModelViewSet...) answers through the renderers of `REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]`
# unless it lists its own; so does a function decorated with `@api_view`. The viewset actions are handlers too.
DRF_VIEW_PACKAGES = ("rest_framework.views.", "rest_framework.generics.", "rest_framework.viewsets.",
                     "rest_framework.mixins.", "rest_framework.APIView")
DRF_ACTIONS: dict[str, str] = {
    "list": "GET",
    "retrieve": "GET",
    "create": "POST",
    "update": "PUT",
    "partial_update": "PATCH",
    "destroy": "DELETE",
}
# Renderer factories producing JSONP: qualified name -> (keyword naming the parameter, its default).
RENDERER_FACTORIES: dict[str, tuple[str, str]] = {
    "pyramid.renderers.JSONP": ("param_name", "callback"),
}

# Methods a framework calls on its own (so a padding override there applies to every handler of the class).
IMPLICIT_METHODS = frozenset(
    {
        "write",
        "finish",
        "flush",
        "render",
        "render_to_response",
        "finalize_response",
        "dispatch",
        "dispatch_request",  # Flask MethodView / View
        "get_response",
        "make_response",
        "output",
        "handle_error",
        "process_response",
        "__call__",
        "respond",
        "on_finish",
        "send",
        "serialize",
        "encode",
        "format_response",
        "after_request",
        "postprocess",
    }
)
# Methods of a response class that build its body (a class call then pads what they read).
RESPONSE_METHODS = frozenset(
    {
        "__init__",
        "render",
        "__call__",
        "serialize",
        "encode",
        "get_body",
        "make_body",
        "to_response",
        "body",
    }
)
# Request-handler method names of class-based views/resources/handlers.
HANDLER_METHODS: dict[str, str] = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "delete": "DELETE",
    "patch": "PATCH",
    "head": "HEAD",
    "options": "OPTIONS",
    "on_get": "GET",
    "on_post": "POST",
    "on_put": "PUT",
    "on_delete": "DELETE",
    "on_patch": "PATCH",
    "on_head": "HEAD",
    "GET": "GET",
    "POST": "POST",
    "PUT": "PUT",
    "DELETE": "DELETE",
    "PATCH": "PATCH",
    "HEAD": "HEAD",
    # the standard library's http.server (BaseHTTPServer in Python 2): BaseHTTPRequestHandler.do_GET ... (its
    # framework is reported as "generic": contract 1 names no value for it)
    "do_GET": "GET",
    "do_POST": "POST",
    "do_PUT": "PUT",
    "do_DELETE": "DELETE",
    "do_PATCH": "PATCH",
    "do_HEAD": "HEAD",
    # Flask's plain `View` answers every method it allows through one method (GET unless `methods` says more)
    "dispatch_request": "GET",
}
HTTP_VERBS = frozenset({"get", "post", "put", "delete", "patch", "head", "options"})


def is_verb_method(name: str) -> bool:
    """`GET`, `POST`, ...: a method CherryPy's MethodDispatcher (and web.py) calls for that HTTP method."""
    return name.isupper() and name.lower() in HTTP_VERBS

# Hooks that post-process responses of the object they are registered on.
HOOK_DECORATORS: dict[str, str] = {
    "after_request": "after_request",
    "after_app_request": "after_request",
    "after_this_request": "after_request",
    "before_request": "before_request",
    "representation": "representation",
    "middleware": "middleware",
    "hook": "hook",
}

# Credentials: (qualified name or spelling suffix) -> reason.
CREDENTIAL_QUALIFIED: dict[str, str] = {
    "flask.session": "reads the session",
    "flask.request.cookies": "reads cookies",
    "flask_login.current_user": "reads the logged-in user",
    "flask_login.login_required": "requires login (@login_required)",
    "flask_login.utils.login_required": "requires login (@login_required)",
    "django.contrib.auth.decorators.login_required": "requires login (@login_required)",
    "django.contrib.auth.decorators.permission_required": "requires login (@permission_required)",
    "django.contrib.auth.mixins.LoginRequiredMixin": "requires login (LoginRequiredMixin)",
    "cherrypy.session": "reads the session",
    "cherrypy.request.cookie": "reads cookies",
    "bottle.request.get_cookie": "reads cookies",
    "bottle.request.cookies": "reads cookies",
    "aiohttp_session.get_session": "reads the session",
    "tornado.web.authenticated": "requires login (@authenticated)",
    "pyramid.security.authenticated_userid": "reads the logged-in user",
    "starlette.authentication.requires": "requires login (@requires)",
    "fastapi.Cookie": "reads cookies",
    "http.cookies.SimpleCookie": "reads cookies",
    "Cookie.SimpleCookie": "reads cookies",
    "google.appengine.api.users.get_current_user": "reads the logged-in user",
    "web.ctx.session": "reads the session",
    "web.cookies": "reads cookies",
}
CREDENTIAL_ATTRS: dict[str, str] = {
    "cookies": "reads cookies",
    "COOKIES": "reads cookies",
    "cookie": "reads cookies",
    "session": "reads the session",
    "current_user": "reads the logged-in user",
    "get_secure_cookie": "reads cookies",
    "get_signed_cookie": "reads cookies",
    "get_cookie": "reads cookies",
    "get_signed_cookie_value": "reads cookies",
    "authenticated_userid": "reads the logged-in user",
    "remote_user": "reads the logged-in user",
    "get_current_user": "reads the logged-in user",
    "is_authenticated": "reads the logged-in user",
}
CREDENTIAL_DECORATORS = re.compile(
    r"(?:^|[._])(?:login_required|authenticated|requires_auth|auth_required|requires_login|"
    r"permission_required|jwt_required|token_required|user_required|requires)$"
)


def decorator_credentials(target: str, text: str) -> str | None:
    """Why a decorator (`target` resolved, `text` as spelled) means the handler needs a logged-in user, or None."""
    if target in CREDENTIAL_QUALIFIED or CREDENTIAL_DECORATORS.search(text):
        return CREDENTIAL_QUALIFIED.get(target) or f"requires login (@{text})"
    return None


CREDENTIAL_STRINGS = frozenset({"HTTP_COOKIE", "Cookie", "HTTP_AUTHORIZATION", "REMOTE_USER"})

# Google App Engine's original `webapp` (the API webapp2 kept): reported as webapp2. It wins over Django, whose
# `django.utils.simplejson` such apps imported for JSON.
GAE_WEBAPP = "google.appengine.ext.webapp"


def framework_of_imports(imports: Iterable[str]) -> str | None:
    """The framework a module's imports (absolute dotted names) say, by FRAMEWORK_IMPORTS order; else None."""
    names = list(imports)
    if any(i == GAE_WEBAPP or i.startswith(GAE_WEBAPP + ".") for i in names):
        return "webapp2"
    tops = {i.split(".", 1)[0] for i in names}
    return next((framework for prefix, framework in FRAMEWORK_IMPORTS if prefix in tops), None)


# Framework of a module by what it imports; earlier entries win. (web.py is told by a plain `import web`:
# a project may well have a package of its own called `web`.)
FRAMEWORK_IMPORTS: tuple[tuple[str, str], ...] = (
    ("flask_restful", "flask"),
    ("flask_jsonpify", "flask"),
    ("flask_json", "flask"),
    ("flask", "flask"),
    ("fastapi", "fastapi"),
    ("starlette", "starlette"),
    ("django", "django"),
    ("rest_framework", "django"),
    ("bottle", "bottle"),
    ("pyramid", "pyramid"),
    ("tornado", "tornado"),
    ("aiohttp", "aiohttp"),
    ("falcon", "falcon"),
    ("cherrypy", "cherrypy"),
    ("webob", "webob"),
    ("webapp2", "webapp2"),
    # frameworks contract 1 has no value for: reported as "generic" with `framework_detail` naming them
    ("quart", "quart"),
    ("sanic", "sanic"),
    ("twisted", "twisted"),
    ("pylons", "pylons"),
    ("tg", "turbogears"),  # TurboGears 2 (object dispatch and `@expose` like CherryPy, which it is not)
    ("werkzeug", "wsgi"),
    ("wsgiref", "wsgi"),
)

# Qualified names that make JSON (used to tell JSON views from HTML ones).
JSON_MAKERS = re.compile(
    r"(?:^|\.)(?:jsonify|dumps|JSONResponse|JsonResponse|json_response|ORJSONResponse|UJSONResponse|"
    r"json_encode|to_json|render_json|json)$"
)
# Names whose imports are libraries, never project helpers (keeps call facts small).
LIBRARY_ROOTS = frozenset(
    {
        "builtins",
        "json",
        "re",
        "os",
        "sys",
        "time",
        "datetime",
        "logging",
        "typing",
        "collections",
        "functools",
        "itertools",
        "math",
        "random",
        "string",
        "urllib",
        "http",
        "cgi",
        "html",
        "hashlib",
        "hmac",
        "base64",
        "flask",
        "django",
        "bottle",
        "pyramid",
        "tornado",
        "aiohttp",
        "starlette",
        "fastapi",
        "falcon",
        "cherrypy",
        "webob",
        "webapp2",
        "google",
        "werkzeug",
        "jinja2",
        "markupsafe",
        "simplejson",
        "ujson",
        "orjson",
        "requests",
        "pydantic",
        "sqlalchemy",
        "click",
        "celery",
        "scrapy",
        "uuid",
        "decimal",
        "pathlib",
        "copy",
        "io",
        "traceback",
        "asyncio",
        "threading",
        "subprocess",
        "socket",
        "struct",
        "abc",
        "enum",
        "dataclasses",
        "warnings",
        "contextlib",
        "inspect",
        "operator",
        "textwrap",
        "unicodedata",
        "codecs",
        "pickle",
        "shutil",
        "tempfile",
    }
)


def is_callback_name(name: str, extra: tuple[str, ...] = ()) -> bool:
    return name in extra or bool(CALLBACK_NAME.match(name))


# An annotation naming a function type: a parameter `callback: Callable[[Event], None]` (asyncio, click, playwright)
# holds a Python function, never the text of a request's callback parameter.
FUNCTION_TYPE = re.compile(r"\b(?:Callable|Awaitable|Coroutine)\b")


def function_typed(annotation: str | None) -> bool:
    """Does a parameter's annotation (its source text; None when it has none) say it holds a function?"""
    return annotation is not None and FUNCTION_TYPE.search(annotation) is not None

# Template rendering: a request's callback handed to a JavaScript template (`render_template("data.js",
# callback=cb)`), whose text then writes `{{ callback }}(...)`. Renderers by their last name component.
TEMPLATE_RENDERERS = frozenset(
    {
        "render_template",
        "render_template_string",
        "stream_template",
        "render",
        "render_to_response",
        "render_to_string",
        "TemplateResponse",
        "SimpleTemplateResponse",
        "template",
        "render_string",
    }
)
# Template names that produce JavaScript (Django/Jinja/Mako/Tornado templates named after what they render).
JS_TEMPLATE_SUFFIXES = (".js", ".jsonp", ".javascript", ".js.j2", ".js.jinja", ".js.jinja2", ".js.tmpl", ".js.mako",
                        ".js.tpl", ".jsonp.j2", ".jsonp.jinja2")


def names_javascript(text: str) -> bool:
    """A short literal handed to a template renderer that says JavaScript: a `.js`/`.jsonp` template name or a
    JavaScript content type."""
    low = text.lower()
    return len(text) < 200 and (low.endswith(JS_TEMPLATE_SUFFIXES) or "javascript" in low)


# A template text that calls one of its variables: `{{ callback }}(`, `{{cb|safe}}(`, `${callback}(`, `$cb(`.
TEMPLATE_CALL = re.compile(r"(?:\{\{-?\s*(\w+)\s*(?:\|[^}]*)?-?\}\}|\$\{\s*(\w+)\s*\}|\$(\w+))\(")
