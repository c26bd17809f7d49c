"""Python detectors, one idiom per test: what must be found and what must not (near-misses)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jsonp2cors.findings import Endpoint, ScanResult
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import ScanConfig


def run(tmp_path: Path, files: dict[str, str], config: ScanConfig | None = None) -> ScanResult:
    for name, src in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src).lstrip("\n"), encoding="utf-8")
    return scan([tmp_path], config)


def by_function(result: ScanResult) -> dict[str, Endpoint]:
    return {e.function: e for e in result.endpoints}


FLASK_HEAD = """
import json
from flask import Flask, Response, request, session, redirect, render_template_string
app = Flask(__name__)
"""


# ------------------------------------------------------------------------------------- callback sources
@pytest.mark.parametrize(
    "read",
    [
        'request.args.get("callback")',
        'request.args["jsonp"]',
        'request.values.get("cb")',
        'request.args.get("jsoncallback", "")',
        "request.args.get(CALLBACK)",
        'request.args.to_dict().get("callback")',
    ],
)
def test_flask_callback_sources(tmp_path: Path, read: str) -> None:
    src = FLASK_HEAD + f"""
CALLBACK = "callback"
@app.route("/api/x")
def x():
    cb = {read}
    return Response("%s(%s)" % (cb, json.dumps({{}})), mimetype="application/javascript")
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["x"]
    assert (ep.route, ep.framework, ep.role, ep.confidence) == ("/api/x", "flask", "handler", "high")


def test_any_request_parameter_name_is_found_when_padded(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/api/x")
def x():
    fn = request.args.get("fn")
    return Response(fn + "(" + json.dumps([1]) + ")", mimetype="text/javascript")
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["x"]
    assert ep.callback_params == ("fn",)
    assert ep.confidence == "medium"  # not a usual callback parameter name


def test_name_from_class_attribute_and_config_list(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
NAMES = ["callback", "jsonp"]

def pick():
    for name in NAMES:
        if name in request.args:
            return request.args[name]

class Api:
    param = "cbk"
    def render(self, data):
        cb = request.args.get(self.param)
        return "{0}({1})".format(cb, json.dumps(data))

@app.route("/a")
def a():
    return "%s(%s)" % (pick(), json.dumps(1))

@app.route("/b")
def b():
    return Api().render({})
"""
    eps = by_function(run(tmp_path, {"app.py": src}))
    assert eps["a"].callback_params == ("callback", "jsonp")
    assert eps["Api.render"].callback_params == ("cbk",)
    assert eps["Api.render"].role == "helper"
    assert eps["b"].route == "/b"


def test_bottle_query_attribute_and_path_segment(tmp_path: Path) -> None:
    src = """
import json
from bottle import route, request
@route("/api/a")
def a():
    return "%s(%s)" % (request.query.callback, json.dumps(1))
@route("/api/b/<cb>")
def b(cb):
    return f"{cb}({json.dumps(2)})"
"""
    eps = by_function(run(tmp_path, {"app.py": src}))
    assert eps["a"].callback_params == ("callback",)
    assert eps["b"].callback_params == ("cb",)
    assert eps["b"].route == "/api/b/<cb>"


def test_handler_keyword_arguments(tmp_path: Path) -> None:
    src = """
import json
from typing import Optional
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
app = FastAPI()
@app.get("/q")
def q(term: str, callback: Optional[str] = None):
    return PlainTextResponse("{}({})".format(callback, json.dumps([term])))
"""
    ep = by_function(run(tmp_path, {"main.py": src}))["q"]
    assert (ep.route, ep.framework, ep.callback_params) == ("/q", "fastapi", ("callback",))


def test_cgi_fieldstorage_at_module_level(tmp_path: Path) -> None:
    src = """
import cgi, json
form = cgi.FieldStorage()
cb = form.getfirst("callback")
print("Content-Type: text/javascript\\n")
print(cb + "(" + json.dumps({"a": 1}) + ")")
"""
    result = run(tmp_path, {"cgi-bin/feed.py": src})
    (ep,) = result.endpoints
    assert (ep.function, ep.line) == ("<module>", 5)


def test_webargs_parser(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
from webargs import fields
from webargs.flaskparser import parser
@app.route("/s")
def s():
    args = parser.parse({"callback": fields.Str()}, request, location="query")
    return "".join([args["callback"], "(", json.dumps([]), ")"])
"""
    assert by_function(run(tmp_path, {"app.py": src}))["s"].recognised_by == "join-padding"


# ---------------------------------------------------------------------------------------------- padding
@pytest.mark.parametrize(
    "expr",
    [
        '"%s(%s)" % (cb, body)',
        '"%s(%r)" % (cb, data)',
        '"%(f)s(%(d)s);" % {"f": cb, "d": body}',
        '"{}({})".format(cb, body)',
        '"{name}({body})".format(name=cb, body=body)',
        'f"{cb}({body});"',
        'cb + "(" + body + ")"',
        'cb + "(" + str(data) + ")"',
        '"/**/" + cb + "(%s)" % body',
        '"".join([cb, "(", body, ");"])',
        'TEMPLATE % (cb, body)',
        'b"%s(%s)" % (cb.encode(), body.encode())',
    ],
)
def test_padding_shapes(tmp_path: Path, expr: str) -> None:
    src = FLASK_HEAD + f"""
TEMPLATE = "%s(%s);"
@app.route("/p")
def p():
    cb = request.args.get("callback")
    data = {{"a": 1}}
    body = json.dumps(data)
    return {expr}
"""
    assert "p" in by_function(run(tmp_path, {"app.py": src}))


def test_padding_built_in_two_statements(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/p")
def p():
    out = request.args.get("callback")
    out += "(" + json.dumps(1) + ")"
    return out
"""
    assert "p" in by_function(run(tmp_path, {"app.py": src}))


# -------------------------------------------------------------------------------------------- helpers
def test_helper_in_another_module_without_any_needle_in_the_view(tmp_path: Path) -> None:
    """The view module mentions no callback at all: the follow-up pass must still read it."""
    helpers = """
import json
from flask import request
def respond(data):
    name = request.args.get("callback")
    return "%s(%s)" % (name, json.dumps(data)) if name else json.dumps(data)
"""
    views = """
from flask import Flask, session
from pkg.util import respond
app = Flask(__name__)
@app.route("/me")
def me():
    return respond({"user": session.get("user")})
"""
    result = run(tmp_path, {"pkg/__init__.py": "", "pkg/util.py": helpers, "pkg/views.py": views})
    eps = by_function(result)
    assert eps["respond"].role == "helper"
    assert (eps["me"].file, eps["me"].route, eps["me"].credentials) == ("pkg/views.py", "/me", True)
    assert eps["me"].recognised_by == "helper:respond"


# A helper that pads whatever name it is given, in a module that never mentions a callback.
WRAP_HELPER = """
import json
def wrap(name, payload):
    return "%s(%s)" % (name, json.dumps(payload))
"""


def test_generic_helper_in_a_file_without_any_needle(tmp_path: Path) -> None:
    """helpers.py never mentions a callback; the view passes one to it: both are found."""
    views = """
from flask import Flask, request
from helpers import wrap
app = Flask(__name__)
@app.route("/w")
def w():
    cb = request.args.get("callback")
    return wrap(cb, {"a": 1})
"""
    eps = by_function(run(tmp_path, {"helpers.py": WRAP_HELPER, "views.py": views}))
    assert (eps["wrap"].role, eps["wrap"].file) == ("helper", "helpers.py")
    assert (eps["w"].route, eps["w"].callback_params) == ("/w", ("callback",))


def test_helper_padding_its_argument(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
def wrap(name, payload):
    return "%s(%s)" % (name, json.dumps(payload))

def describe(cls, value):
    return "%s(%r)" % (cls, value)  # a repr helper: never called with request data

@app.route("/w")
def w():
    return wrap(request.args.get("callback"), {"a": 1})

@app.route("/d")
def d():
    return describe("Point", (1, 2))
"""
    eps = by_function(run(tmp_path, {"app.py": src}))
    assert eps["wrap"].role == "helper"
    assert eps["w"].role == "handler"
    assert "describe" not in eps and "d" not in eps


def test_decorator_factory_and_config_helper_names(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
import functools
from legacy.web import padded

def jsonp(param="callback"):
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*a, **kw):
            cb = request.args.get(param)
            return "%s(%s)" % (cb, json.dumps(view(*a, **kw)))
        return wrapper
    return decorate

@app.route("/a")
@jsonp()
def a():
    return {"a": 1}

@app.route("/b")
@padded
def b():
    return {"b": 2}
"""
    config = ScanConfig(helper_names=("padded",))
    eps = by_function(run(tmp_path, {"app.py": src}, config))
    assert eps["jsonp"].role == "helper" and "jsonp.<locals>.decorate.<locals>.wrapper" not in eps
    assert eps["a"].recognised_by == "decorator:jsonp"
    assert eps["b"].route == "/b" and eps["b"].confidence == "medium"


def test_jsonify_from_flask_jsonpify_is_jsonp_from_flask_is_not(tmp_path: Path) -> None:
    a = """
from flask import Flask
from flask_jsonpify import jsonify
app = Flask(__name__)
@app.route("/a")
def a():
    return jsonify(ok=True)
"""
    b = """
from flask import Flask, jsonify
app = Flask(__name__)
@app.route("/b")
def b():
    return jsonify(ok=True)
"""
    eps = by_function(run(tmp_path, {"a.py": a, "b.py": b}))
    assert set(eps) == {"a"}


def test_django_urls_include_prefix_and_class_views(tmp_path: Path) -> None:
    views = """
import json
from django.http import HttpResponse
from django.views import View
from django.contrib.auth.decorators import login_required

@login_required
def feed(request):
    cb = request.GET["callback"]
    return HttpResponse("%s(%s)" % (cb, json.dumps([])))

class Item(View):
    def get(self, request, pk):
        return HttpResponse("%s(%s)" % (request.GET.get("jsonp"), json.dumps({"pk": pk})))
"""
    app_urls = """
from django.urls import path, re_path
from . import views
urlpatterns = [path("feed/", views.feed), re_path(r"^item/(?P<pk>\\d+)/$", views.Item.as_view())]
"""
    root_urls = """
from django.urls import include, path
urlpatterns = [path("v1/", include("shop.urls"))]
"""
    result = run(tmp_path, {"shop/__init__.py": "", "shop/views.py": views, "shop/urls.py": app_urls,
                            "urls.py": root_urls})
    eps = by_function(result)
    assert (eps["feed"].route, eps["feed"].credentials) == ("/v1/feed/", True)
    assert "login" in (eps["feed"].credentials_reason or "")
    assert eps["Item.get"].route == "/v1/item/(?P<pk>\\d+)/"


def test_pyramid_renderer_registered_in_another_module(tmp_path: Path) -> None:
    init = """
from pyramid.config import Configurator
from pyramid.renderers import JSONP
def main():
    config = Configurator()
    config.add_renderer("jsonp2", JSONP(param_name="cbk"))
    config.add_route("feed", "/feed")
    config.scan()
"""
    views = """
from pyramid.view import view_config
@view_config(route_name="feed", renderer="jsonp2")
def feed(request):
    return {"items": []}
@view_config(route_name="feed", renderer="json", request_param="plain")
def plain(request):
    return {"items": []}
"""
    eps = by_function(run(tmp_path, {"app/__init__.py": init, "app/views.py": views}))
    assert set(eps) == {"feed"}
    assert (eps["feed"].route, eps["feed"].callback_params) == ("/feed", ("cbk",))


def test_tornado_base_class_in_another_module(tmp_path: Path) -> None:
    base = """
import json
import tornado.web
class Base(tornado.web.RequestHandler):
    def finish(self, chunk=None):
        cb = self.get_argument("callback", None)
        if cb and isinstance(chunk, dict):
            chunk = cb + "(" + json.dumps(chunk) + ")"
        super().finish(chunk)
"""
    handlers = """
import tornado.web
from web.base import Base
class Weather(Base):
    def get(self):
        self.finish({"t": 7})
app = tornado.web.Application([(r"/w", Weather)])
"""
    eps = by_function(run(tmp_path, {"web/__init__.py": "", "web/base.py": base, "web/handlers.py": handlers}))
    assert eps["Base.finish"].role == "helper"
    assert eps["Weather.get"].route == "/w"


# --------------------------------------------------------------------------------------------- precision
def test_near_misses(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
import click

@app.route("/login")
def login():
    session["u"] = "x"
    return redirect(request.args.get("callback", "/"))

@app.route("/oauth")
def oauth():
    return redirect("%s?code=%s" % (request.args["callback"], "abc"))

@app.route("/frame")
def frame():
    name = request.args.get("callback")
    return "<script>window.parent.%s(%s)</script>" % (name, json.dumps({}))

@app.route("/frame2")
def frame2():
    name = request.args.get("callback")
    return "parent.%s(%s)" % (name, json.dumps({}))

@app.route("/config.js")
def config():
    return "window.CONFIG = %s;" % json.dumps({"a": 1})

@app.route("/fixed.js")
def fixed():
    return "init(%s);" % json.dumps({"a": 1})

@app.route("/jsonp")
def jsonp():
    return render_template_string("<p>docs</p>")

def retry(fn, callback):
    callback(fn())

@click.option("--n", callback=lambda c, p, v: v)
def cli(n):
    pass

def run_task(task):
    task.apply_async(link=task.s(), callback="x")

def log_it(name, data):
    print("%s called with %s" % (name, data))

@app.route("/hook", methods=["POST"])
def hook():
    url = request.form["callback"]
    log_it(url, {})
    return {"ok": True, "callback": url}
"""
    assert run(tmp_path, {"app.py": src}).endpoints == ()


def test_jsonp_in_tests_is_flagged(tmp_path: Path) -> None:
    src = """
import json
def fake_feed(environ, start_response):
    from urllib.parse import parse_qs
    cb = parse_qs(environ["QUERY_STRING"])["callback"][0]
    start_response("200 OK", [])
    return [("%s(%s)" % (cb, json.dumps([]))).encode()]
"""
    (ep,) = run(tmp_path, {"tests/test_feed.py": src}).endpoints
    assert ep.test_code and ep.framework == "wsgi"


def test_non_javascript_content_type_is_still_jsonp(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/h")
def h():
    return Response("%s(%s)" % (request.args.get("callback"), json.dumps(1)), mimetype="application/json")
"""
    assert "h" in by_function(run(tmp_path, {"app.py": src}))


# -------------------------------------------------------------------------------------------- credentials
@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('u = session.get("user")', "reads the session"),
        ('u = request.cookies.get("sid")', "reads cookies"),
        ("u = current_user.name", "reads the logged-in user"),
        ("u = get_user()", "reads the session"),
    ],
)
def test_credentials(tmp_path: Path, line: str, reason: str) -> None:
    src = FLASK_HEAD + f"""
from flask_login import current_user
def get_user():
    return session.get("user")
@app.route("/c")
def c():
    {line}
    return "%s(%s)" % (request.args.get("callback"), json.dumps(u))
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["c"]
    assert ep.credentials and ep.credentials_reason == reason


def test_no_credentials(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/c", methods=["GET", "POST"])
def c():
    return "%s(%s)" % (request.args.get("callback"), json.dumps(1))
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["c"]
    assert not ep.credentials and ep.methods == ("GET", "POST")


# ------------------------------------------------------------------------------------- Python 2 / broken
def test_python2_file_is_scanned_at_token_level(tmp_path: Path) -> None:
    src = """
import json, urlparse
class H:
    def do_GET(self):
        cb = urlparse.parse_qs(self.query).get('callback', [''])[0]
        print "hit", cb
        self.wfile.write("%s(%s)" % (cb, json.dumps([1])))
"""
    result = run(tmp_path, {"old.py": src})
    (ep,) = result.endpoints
    assert (ep.function, ep.line, ep.confidence, ep.methods) == ("H.do_GET", 3, "low", ("GET",))
    (err,) = result.errors
    assert err.message.startswith("Python 2 syntax") and "Traceback" not in err.message


def test_other_syntax_errors_are_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, {"broken.py": "def view(:\n    return '%s(1)' % request.args['callback']\n"})
    (err,) = result.errors
    assert err.message.startswith("syntax error") and "\n" not in err.message


def test_syntax_only_libcst_accepts_is_still_analysed(tmp_path: Path) -> None:
    # Python 3.12 type parameter syntax: stdlib ast of older interpreters rejects it, libcst may not.
    src = FLASK_HEAD + """
@app.route("/t")
def t():
    cb = request.args.get("callback")
    return f"{cb}({json.dumps(1)})"
"""
    assert "t" in by_function(run(tmp_path, {"app.py": src}))


def test_django_rest_framework_jsonp_renderer(tmp_path: Path) -> None:
    views = """
from rest_framework.views import APIView
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.response import Response
from rest_framework.renderers import JSONRenderer
from rest_framework_jsonp.renderers import JSONPRenderer

class Scores(APIView):
    renderer_classes = (JSONPRenderer, JSONRenderer)
    def get(self, request):
        return Response({"scores": []})

@api_view(["GET"])
@renderer_classes([JSONPRenderer])
def table(request):
    return Response({"table": []})

class Plain(APIView):
    renderer_classes = (JSONRenderer,)
    def get(self, request):
        return Response({})
"""
    urls = """
from django.urls import path
from . import views
urlpatterns = [path("scores/", views.Scores.as_view()), path("table/", views.table)]
"""
    eps = by_function(run(tmp_path, {"league/__init__.py": "", "league/views.py": views, "league/urls.py": urls}))
    assert set(eps) == {"Scores.get", "table"}
    assert eps["Scores.get"].route == "/scores/" and eps["table"].recognised_by == "drf-jsonp-renderer"


def test_middleware_is_a_helper(tmp_path: Path) -> None:
    src = """
import json

class JSONPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cb = request.GET.get("callback")
        if cb and response["Content-Type"].startswith("application/json"):
            response.content = "%s(%s)" % (cb, response.content.decode())
        return response
"""
    (ep,) = run(tmp_path, {"site/middleware.py": src}).endpoints
    assert (ep.function, ep.role, ep.callback_params) == ("JSONPMiddleware.__call__", "helper", ("callback",))


def test_state_kept_on_self_and_web_py_input(tmp_path: Path) -> None:
    src = """
import json
import tornado.web
import web

class Feed(tornado.web.RequestHandler):
    def prepare(self):
        self.cb = self.get_argument("callback", None)

    def get(self):
        data = json.dumps({"items": []})
        self.finish("%s(%s)" % (self.cb, data) if self.cb else data)

class index:
    def GET(self):
        i = web.input(callback=None)
        return "%s(%s)" % (i.callback, json.dumps([1]))
"""
    eps = by_function(run(tmp_path, {"handlers.py": src}))
    assert set(eps) == {"Feed.get", "index.GET"}


def test_a_project_package_called_web_is_not_web_py(tmp_path: Path) -> None:
    """web.py is `import web`; a project's own `web` package is project code, followed across modules."""
    views = """
from flask import Flask, request
from web.helpers import wrap
app = Flask(__name__)
@app.route("/w")
def w():
    return wrap(request.args.get("callback"), {"a": 1})
"""
    eps = by_function(run(tmp_path, {"web/__init__.py": "", "web/helpers.py": WRAP_HELPER, "web/views.py": views}))
    assert (eps["wrap"].role, eps["wrap"].framework) == ("helper", "generic")
    assert (eps["w"].route, eps["w"].framework) == ("/w", "flask")


# ------------------------------------------------------------------- more containers, aliases, templates
@pytest.mark.parametrize(
    ("name", "src", "key"),
    [
        (
            "web2py",
            """
            def data():
                response.headers['Content-Type'] = 'application/javascript'
                return '%s(%s)' % (request.vars.callback, response.json(rows))
            """,
            "callback",
        ),
        (
            "aiohttp path segment",
            """
            import json
            from aiohttp import web

            async def data(request):
                cb = request.match_info["jsonp"]
                return web.Response(text=cb + "(" + json.dumps({}) + ")", content_type="application/javascript")
            """,
            "jsonp",
        ),
        (
            "pyramid matchdict",
            """
            import json
            from pyramid.response import Response

            def data(request):
                return Response("%s(%s)" % (request.matchdict["cb"], json.dumps([])))
            """,
            "cb",
        ),
        (
            "starlette path_params",
            """
            import json
            from starlette.responses import Response

            async def data(request):
                callback = request.path_params["callback"]
                return Response(f"{callback}({json.dumps({})})", media_type="application/javascript")
            """,
            "callback",
        ),
        (
            "fastapi alias",
            """
            import json
            from fastapi import FastAPI, Query
            from fastapi.responses import PlainTextResponse
            app = FastAPI()

            @app.get("/items")
            def data(cb: str = Query(None, alias="callback")):
                return PlainTextResponse(f"{cb}({json.dumps([])})", media_type="application/javascript")
            """,
            "callback",
        ),
        (
            "fastapi Annotated alias",
            """
            import json
            from typing import Annotated
            from fastapi import FastAPI, Query
            from fastapi.responses import PlainTextResponse
            app = FastAPI()

            @app.get("/items")
            def data(name: Annotated[str | None, Query(alias="jsonp")] = None):
                return PlainTextResponse(f"{name}({json.dumps([])})", media_type="application/javascript")
            """,
            "jsonp",
        ),
    ],
)
def test_other_places_a_callback_arrives(tmp_path: Path, name: str, src: str, key: str) -> None:
    """web2py's request.vars, route path segments (match_info, matchdict, path_params) and the request name a
    FastAPI parameter is declared under (its alias, not the Python name)."""
    ep = by_function(run(tmp_path, {"views.py": src}))["data"]
    assert ep.role == "handler" and ep.callback_params == (key,), name


@pytest.mark.parametrize(
    ("src", "confidence"),
    [
        (  # a JavaScript template file: its text (not read) writes the padding
            """
            from flask import Flask, request, render_template
            app = Flask(__name__)

            @app.route("/data.js")
            def data():
                cb = request.args.get("callback", "cb")
                return render_template("data.js", callback=cb, rows=[]), 200, {"Content-Type": "text/javascript"}
            """,
            "medium",
        ),
        (  # Django: context dict and a JavaScript content type
            """
            from django.shortcuts import render

            def data(request):
                return render(request, "api/feed.txt", {"callback": request.GET.get("callback"), "items": []},
                              content_type="application/javascript")
            """,
            "medium",
        ),
        (  # template text that calls the variable it is handed
            """
            from flask import Flask, request, render_template_string
            app = Flask(__name__)

            @app.route("/d")
            def data():
                return render_template_string("{{ fn }}({{ rows|tojson }})", fn=request.args["jsonp"], rows=[])
            """,
            "high",
        ),
    ],
)
def test_padding_done_by_a_template(tmp_path: Path, src: str, confidence: str) -> None:
    ep = by_function(run(tmp_path, {"views.py": src}))["data"]
    assert (ep.role, ep.confidence) == ("handler", confidence)


@pytest.mark.parametrize(
    "render",
    [
        'render_template("login.html", callback=request.args.get("callback"))',  # OAuth page: HTML
        'render_template("app.js", next=request.args.get("next"))',  # JavaScript, but not a callback
        'render_template_string("<a href={{ callback }}>back</a>", callback=request.args.get("callback"))',
        'render_template("widget.js", callback="static_name")',  # a constant, not the request's value
    ],
)
def test_template_near_misses(tmp_path: Path, render: str) -> None:
    src = FLASK_HEAD + f"""
@app.route("/x")
def x():
    return {render}
"""
    assert run(tmp_path, {"app.py": src}).endpoints == ()


def test_string_template_padding(tmp_path: Path) -> None:
    """`string.Template` with `$callback(` (inline or a module constant) pads what `substitute` is handed; a
    template that only greets the caller does not."""
    src = FLASK_HEAD + """
from string import Template
JSONP = Template("$callback($payload);")
GREETING = Template("Hello $name (welcome back)")

@app.route("/a")
def a():
    return JSONP.substitute(callback=request.args.get("callback"), payload=json.dumps({}))

@app.route("/b")
def b():
    return Template("${cb}(${data})").safe_substitute(cb=request.args["cb"], data="[]")

@app.route("/c")
def c():
    return GREETING.substitute(name=request.args.get("callback"))
"""
    found = by_function(run(tmp_path, {"app.py": src}))
    assert set(found) == {"a", "b"}
    assert found["a"].callback_params == ("callback",) and found["b"].callback_params == ("cb",)
    assert found["a"].recognised_by == "template-padding"


@pytest.mark.parametrize(
    "body",
    [
        'args = (cb, json.dumps([1]))\n    return "%s(%s)" % args',
        'out = [cb, "(", json.dumps([1]), ")"]\n    return "".join(out)',
        'callback = cb\n    data = json.dumps([1])\n    return "{callback}({data})".format(**locals())',
        'callback = cb\n    data = json.dumps([1])\n    return "%(callback)s(%(data)s)" % locals()',
        'callback = cb\n    data = json.dumps([1])\n    return "{callback}({data})".format_map(vars())',
    ],
)
def test_padding_through_a_named_tuple_list_or_locals(tmp_path: Path, body: str) -> None:
    """Old code builds the arguments first (`args = (cb, body)`, a list joined later) or formats with the
    function's own names (`% locals()`, `.format(**locals())`)."""
    src = FLASK_HEAD + f"""
@app.route("/x")
def x():
    cb = request.args.get("callback")
    {body}
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["x"]
    assert (ep.role, ep.confidence, ep.callback_params) == ("handler", "high", ("callback",))


def test_locals_formatting_without_a_request_value_is_not_padding(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/x")
def x():
    name = "render"
    data = json.dumps([request.args.get("callback")])
    return "%(name)s(%(data)s)" % locals()
"""
    assert run(tmp_path, {"app.py": src}).endpoints == ()


def test_jsonp_libraries_and_class_decorators(tmp_path: Path) -> None:
    """django-jsonp (`djsonp`) and bottle_jsonp are known padders; a decorator on a class (directly or through
    Django's `method_decorator(..., name="dispatch")`) applies to the class's handler methods, also when it is a
    project decorator defined in another module."""
    files = {
        "views.py": """
            from django.http import HttpResponse
            from django.utils.decorators import method_decorator
            from django.views.generic import View
            from djsonp import jsonp, JSONPResponse, get_callback
            from .helpers import pad

            @jsonp
            def plain(request):
                return {"a": 1}

            def explicit(request):
                return JSONPResponse(data={"a": 1}, callback=get_callback(request))

            @jsonp
            class Decorated(View):
                def get(self, request):
                    return HttpResponse("{}")

            @method_decorator(jsonp, name="dispatch")
            class Dispatch(View):
                def get(self, request):
                    return HttpResponse("{}")

            @method_decorator(pad, name="dispatch")
            class Local(View):
                def get(self, request):
                    return HttpResponse("{}")

            class Untouched(View):
                def get(self, request):
                    return HttpResponse("{}")
            """,
        "helpers.py": """
            def pad(view):
                def wrapper(request, *args, **kwargs):
                    response = view(request, *args, **kwargs)
                    cb = request.GET.get("callback")
                    if cb:
                        response.content = "%s(%s)" % (cb, response.content.decode())
                    return response
                return wrapper
            """,
        "__init__.py": "",
        "bottle_app.py": """
            from bottle import route
            from bottle_jsonp import jsonp

            @route("/items")
            @jsonp
            def items():
                return {"a": 1}
            """,
    }
    found = by_function(run(tmp_path, files))
    assert {"plain", "explicit", "Decorated.get", "Dispatch.get", "Local.get", "items"} <= set(found)
    assert "Untouched.get" not in found
    assert found["plain"].callback_params == ("callback", "jsonp")
    assert found["Local.get"].recognised_by == "decorator:pad"
    assert found["items"].route == "/items"


def test_flask_json_as_json_p_is_a_known_padder(tmp_path: Path) -> None:
    """Flask-JSON's `@as_json_p` answers JSONP (?callback= or ?jsonp= by default, its `callbacks=` list when
    given) though neither the module nor the decorator says "jsonp"; its `as_json` and a project function of that
    name do not."""
    files = {
        "app.py": """
            from flask import Flask
            from flask_json import FlaskJSON, as_json, as_json_p

            app = Flask(__name__)
            FlaskJSON(app)

            @app.route("/value")
            @as_json_p
            def value():
                return dict(value=12)

            @app.route("/named")
            @as_json_p(callbacks=["cb", "fn"], optional=True)
            def named():
                return dict(value=13)

            @app.route("/plain")
            @as_json
            def plain():
                return dict(value=14)
            """,
        "other.py": """
            from flask import Flask

            app = Flask(__name__)

            def as_json_p(view):
                return view

            @app.route("/own")
            @as_json_p
            def own():
                return "<p>not JSONP</p>"
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"value", "named"}
    assert found["value"].callback_params == ("callback", "jsonp")
    assert found["value"].route == "/value" and found["value"].framework == "flask"
    assert found["named"].callback_params == ("cb", "fn")


def test_cherrypy_object_tree_paths(tmp_path: Path) -> None:
    """CherryPy dispatches on the object tree: a handler object held in an attribute of a mounted one answers
    under that attribute's name (`users = Users()` in the class, or `root.api = Api()` on an instance), nested
    to any depth; an object mounted nowhere keeps answering from the root."""
    files = {
        "server.py": """
            import json
            import cherrypy

            def pad(kwargs, data):
                return "%s(%s)" % (kwargs["callback"], json.dumps(data))

            class Items:
                @cherrypy.expose
                def index(self, **kwargs):
                    return pad(kwargs, [])

                @cherrypy.expose
                def latest(self, **kwargs):
                    return pad(kwargs, {})

            class Users:
                items = Items()

                @cherrypy.expose
                def add(self, **kwargs):
                    return pad(kwargs, {"ok": True})

            class Api:
                @cherrypy.expose
                def status(self, **kwargs):
                    return pad(kwargs, {"up": True})

            class Root:
                users = Users()

            class Loose:
                @cherrypy.expose
                def ping(self, **kwargs):
                    return pad(kwargs, {})

                @cherrypy.expose
                def login(self, **kwargs):
                    raise cherrypy.HTTPRedirect(kwargs["callback"] + "?code=" + kwargs.get("code", ""))

            root = Root()
            root.api = Api()
            cherrypy.tree.mount(root, "/app")
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["Users.add"].route == "/app/users/add"
    assert found["Items.index"].route == "/app/users/items"
    assert found["Items.latest"].route == "/app/users/items/latest"
    assert found["Api.status"].route == "/app/api/status"
    assert found["Loose.ping"].route == "/ping"
    assert "Loose.login" not in found  # an OAuth-style redirect to the callback URL is no padding


def test_falcon_middleware_pads_the_routes_of_its_app(tmp_path: Path) -> None:
    """A Falcon middleware whose process_response pads applies to the resources of the app built with it
    (reported with medium confidence, like other app-wide hooks); another app's resources, and an app whose
    middleware only sets CORS headers, are not JSONP."""
    files = {
        "service.py": """
            import json
            import falcon

            class PadMiddleware:
                def process_response(self, req, resp, resource, req_succeeded):
                    cb = req.get_param("callback")
                    if cb and resp.text:
                        resp.text = "%s(%s)" % (cb, resp.text)
                        resp.content_type = "application/javascript"

            class CorsMiddleware:
                def process_response(self, req, resp, resource, req_succeeded):
                    resp.set_header("Access-Control-Allow-Origin", "https://app.example.com")

            class Things:
                def on_get(self, req, resp):
                    resp.text = json.dumps({"things": []})

            class Stats:
                def on_get(self, req, resp):
                    resp.text = json.dumps({"n": 1})

            api = falcon.App(middleware=[PadMiddleware()])
            api.add_route("/things", Things())

            admin = falcon.App(middleware=[CorsMiddleware()])
            admin.add_route("/stats", Stats())
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["PadMiddleware.process_response"].role == "helper"
    assert found["Things.on_get"].route == "/things" and found["Things.on_get"].confidence == "medium"
    assert "Stats.on_get" not in found and "CorsMiddleware.process_response" not in found


def test_flask_wsgi_app_middleware_pads_the_routes_of_its_app(tmp_path: Path) -> None:
    """`app.wsgi_app = Middleware(app.wsgi_app)` whose `__call__` pads: that app's routes are endpoints (medium)
    and the installing line is no module-level handler; a library middleware (ProxyFix) and another app are not
    JSONP."""
    files = {
        "app.py": """
            from urllib.parse import parse_qs
            from flask import Flask, jsonify
            from werkzeug.middleware.proxy_fix import ProxyFix

            class JSONPWrapper:
                def __init__(self, app):
                    self.app = app

                def __call__(self, environ, start_response):
                    cb = parse_qs(environ.get("QUERY_STRING", "")).get("callback", [None])[0]
                    body = b"".join(self.app(environ, start_response))
                    return [cb.encode() + b"(" + body + b")"] if cb else [body]

            app = Flask(__name__)
            app.wsgi_app = JSONPWrapper(app.wsgi_app)
            admin = Flask("admin")
            admin.wsgi_app = ProxyFix(admin.wsgi_app)

            @app.route("/items")
            def items():
                return jsonify(items=[])

            @admin.route("/users")
            def users():
                return jsonify(users=[])
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"JSONPWrapper.__call__", "items"}
    assert found["items"].route == "/items" and found["items"].confidence == "medium"
    # the other spellings: the server's entry point wraps the app object, or the app is rebound to its wrapper
    for install in ("application = JSONPWrapper(app)", "app = JSONPWrapper(app)"):
        source = files["app.py"].replace("app.wsgi_app = JSONPWrapper(app.wsgi_app)", install)
        found = by_function(run(tmp_path, {"app.py": source}))
        assert set(found) == {"JSONPWrapper.__call__", "items"}, install
    # an object merely built with the app (an extension's shape) wraps nothing
    source = files["app.py"].replace("app.wsgi_app = JSONPWrapper(app.wsgi_app)", "formatter = JSONPWrapper(app)")
    assert "items" not in by_function(run(tmp_path, {"app.py": source}))


@pytest.mark.parametrize("library", ["flask_restx", "flask_restplus"])
def test_flask_restx_resources_go_through_their_api_representation(tmp_path: Path, library: str) -> None:
    """Flask-RESTX / Flask-RESTPlus: `@api.route` and `@ns.route` (a namespace of that api) on Resource classes
    route them under the api's prefix and the namespace's path; the api's padding representation makes them
    endpoints and is itself a helper; another api's resources are not JSONP."""
    files = {
        "api.py": f"""
            import json
            from flask import request, make_response
            from {library} import Api, Resource

            api = Api(prefix="/v1")
            plain = Api(prefix="/v2")
            todos = api.namespace("todos", description="Todo operations")
            users = api.namespace("people", path="/users")

            @api.representation("application/json")
            def output_json(data, code, headers=None):
                body = json.dumps(data)
                cb = request.args.get("callback")
                if cb:
                    body = "%s(%s)" % (cb, body)
                return make_response(body, code)

            @api.route("/status")
            class Status(Resource):
                def get(self):
                    return {{"up": True}}

            @todos.route("/<int:todo_id>")
            class Todo(Resource):
                def get(self, todo_id):
                    return {{"id": todo_id}}

            @users.route("/")
            class Users(Resource):
                def get(self):
                    return {{"users": []}}

            @plain.route("/other")
            class Other(Resource):
                def get(self):
                    return {{"other": True}}
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["output_json"].role == "helper"
    assert found["Status.get"].route == "/v1/status"
    assert found["Todo.get"].route == "/v1/todos/<int:todo_id>"
    assert found["Users.get"].route == "/v1/users/"
    assert "Other.get" not in found


def test_a_pyramid_tween_that_pads_is_a_helper(tmp_path: Path) -> None:
    """A Pyramid tween factory (`handler, registry`) whose tween pads every response is reported as a helper,
    not as a handler of its own."""
    files = {
        "tweens.py": """
            def jsonp_tween_factory(handler, registry):
                def tween(request):
                    response = handler(request)
                    cb = request.GET.get("callback")
                    if cb and response.content_type == "application/json":
                        response.text = "%s(%s)" % (cb, response.text)
                    return response
                return tween

            def includeme(config):
                config.add_tween("myapp.tweens.jsonp_tween_factory")
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["jsonp_tween_factory"].role == "helper"


def test_a_wsgi_middleware_around_a_wsgi_function(tmp_path: Path) -> None:
    """Raw WSGI: `application = Middleware(simple_app)` whose `__call__` pads makes `simple_app` the handler
    (medium) and the middleware its helper, instead of a module-level handler at the installing line; a
    middleware that does not pad, around another app, leaves it alone."""
    files = {
        "wsgi_app.py": """
            import gzip
            import json
            from urllib.parse import parse_qs

            class CallbackWrapper:
                def __init__(self, app):
                    self.app = app

                def __call__(self, environ, start_response):
                    cb = parse_qs(environ.get("QUERY_STRING", "")).get("callback", [None])[0]
                    body = b"".join(self.app(environ, start_response))
                    return [cb.encode() + b"(" + body + b")"] if cb else [body]

            class Gzip:
                def __init__(self, app):
                    self.app = app

                def __call__(self, environ, start_response):
                    return [gzip.compress(b"".join(self.app(environ, start_response)))]

            def simple_app(environ, start_response):
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"a": 1}).encode()]

            def other_app(environ, start_response):
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"b": 2}).encode()]

            application = CallbackWrapper(simple_app)
            other_app = Gzip(other_app)
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"CallbackWrapper.__call__", "simple_app"}
    assert found["CallbackWrapper.__call__"].role == "helper"
    assert found["simple_app"].role == "handler" and found["simple_app"].confidence == "medium"


def test_login_required_on_the_class_means_credentials(tmp_path: Path) -> None:
    src = """
        import json
        from django.contrib.auth.decorators import login_required
        from django.http import HttpResponse
        from django.utils.decorators import method_decorator
        from django.views.generic import View

        @method_decorator(login_required, name="dispatch")
        class Profile(View):
            def get(self, request):
                cb = request.GET.get("callback")
                return HttpResponse("%s(%s)" % (cb, json.dumps({})), content_type="application/javascript")

        class Public(View):
            def get(self, request):
                cb = request.GET.get("callback")
                return HttpResponse("%s(%s)" % (cb, json.dumps({})), content_type="application/javascript")
        """
    found = by_function(run(tmp_path, {"views.py": src}))
    assert found["Profile.get"].credentials and "login" in (found["Profile.get"].credentials_reason or "")
    assert not found["Public.get"].credentials


def test_a_checked_callback_with_a_constant_fallback_is_still_padded(tmp_path: Path) -> None:
    """A name that holds the request's value on one path and a constant on another is still a value: the
    constant does not make `name + "("` fixed text. Two parameters read with `or`, or the second as the first's
    default (`get("callback", get("jsonp"))`), are both reported; a constant default is no parameter."""
    src = FLASK_HEAD + """
@app.route("/a")
def a():
    name = request.args.get("callback", "")
    if not name.isidentifier():
        name = "callback"
    return Response(name + "(" + json.dumps([]) + ")", mimetype="application/javascript")

@app.route("/b")
def b():
    cb = request.args.get("callback") or request.args.get("jsonp")
    return "".join([cb, "(", json.dumps([]), ")"])

@app.route("/c")
def c():
    name = "init"
    return name + "(" + json.dumps([request.args.get("callback")]) + ")"

@app.route("/d")
def d():
    cb = request.args.get("callback", request.args.get("jsonp"))
    return "%s(%s)" % (cb, json.dumps([]))

@app.route("/e")
def e():
    cb = request.args.get("callback", "fallback")
    return "%s(%s)" % (cb, json.dumps([]))
"""
    found = by_function(run(tmp_path, {"app.py": src}))
    assert set(found) == {"a", "b", "d", "e"}
    assert found["b"].callback_params == found["d"].callback_params == ("callback", "jsonp")
    assert found["e"].callback_params == ("callback",)


def test_standard_library_http_server_handlers(tmp_path: Path) -> None:
    """`BaseHTTPRequestHandler.do_GET` (http.server, or BaseHTTPServer in Python 2) is a GET handler."""
    src = """
        import json
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlparse

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                callback = parse_qs(urlparse(self.path).query).get("callback", [None])[0]
                self.send_response(200)
                self.end_headers()
                self.wfile.write(("%s(%s);" % (callback, json.dumps({}))).encode())

            def log_message(self, format, *args):
                print(format % args)
        """
    ep = by_function(run(tmp_path, {"server.py": src}))["Handler.do_GET"]
    assert (ep.framework, ep.methods, ep.confidence) == ("generic", ("GET",), "high")
    assert ep.callback_params == ("callback",)


def test_project_renderer_class_in_renderer_classes(tmp_path: Path) -> None:
    """A project's own DRF renderer whose render() pads is linked to the views listing it in `renderer_classes`
    (also from another module); the renderer itself is the helper."""
    files = {
        "__init__.py": "",
        "renderers.py": """
            from rest_framework.renderers import JSONRenderer

            class PaddedRenderer(JSONRenderer):
                media_type = "application/javascript"

                def render(self, data, accepted_media_type=None, renderer_context=None):
                    request = renderer_context.get("request")
                    name = request.query_params.get("callback", "callback")
                    return name.encode() + b"(" + super().render(data) + b");"
            """,
        "api.py": """
            from rest_framework.response import Response
            from rest_framework.views import APIView
            from .renderers import PaddedRenderer

            class Stats(APIView):
                renderer_classes = (PaddedRenderer,)

                def get(self, request):
                    return Response({"n": 1})

            class Plain(APIView):
                def get(self, request):
                    return Response({"n": 2})
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["Stats.get"].role == "handler" and found["Stats.get"].recognised_by == "renderer:PaddedRenderer"
    assert found["PaddedRenderer.render"].role == "helper"
    assert "Plain.get" not in found


def test_framework_comes_from_the_padding_module_when_the_handler_module_says_nothing(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "base.py": """
            from tornado.web import RequestHandler

            class Padded(RequestHandler):
                def finish(self, chunk=None):
                    name = self.get_argument("jsonp")
                    self._write_buffer.insert(0, name.encode() + b"(")
                    self._write_buffer.append(b")")
                    super().finish(chunk)
            """,
        "views.py": """
            from .base import Padded

            class Songs(Padded):
                def get(self):
                    self.write({"songs": []})
            """,
    }
    ep = by_function(run(tmp_path, files))["Songs.get"]
    assert (ep.framework, ep.recognised_by) == ("tornado", "base-class:Padded.finish")


@pytest.mark.parametrize(
    "expr",
    [
        'cb + "({})".format(json.dumps([1]))',
        'cb + f"({json.dumps([1])});"',
        'cb + "(%s)" % json.dumps([1])',
        'str(cb) + "(" + json.dumps([1]) + ")"',
    ],
)
def test_the_opening_parenthesis_built_at_run_time(tmp_path: Path, expr: str) -> None:
    src = FLASK_HEAD + f"""
@app.route("/x")
def x():
    cb = request.args.get("callback")
    return {expr}
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["x"]
    assert (ep.role, ep.recognised_by) == ("handler", "concat-padding")


def test_text_in_parentheses_after_a_request_value_is_not_padding(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
@app.route("/x")
def x():
    cb = request.args.get("callback")
    return "<p>" + cb + " (" + "returning" + ")</p>"
"""
    assert run(tmp_path, {"app.py": src}).endpoints == ()


def test_a_function_named_in_a_decorator_keyword_pads_for_the_handler(tmp_path: Path) -> None:
    """CherryPy's `@tools.json_out(handler=jsonp_handler)`: the handler answers through the named function;
    an exposed method of an object never mounted answers from the root."""
    src = """
        import json
        import cherrypy

        def jsonp_handler(*args, **kwargs):
            callback = cherrypy.serving.request.params.pop("callback", None)
            out = json.dumps(cherrypy.serving.request._json_inner_handler(*args, **kwargs))
            return "%s(%s)" % (callback, out) if callback else out

        class Root:
            @cherrypy.expose
            @cherrypy.tools.json_out(handler=jsonp_handler)
            def data(self):
                return {"a": 1}

            @cherrypy.expose
            @cherrypy.tools.json_out()
            def plain(self):
                return {"b": 2}
        """
    found = by_function(run(tmp_path, {"app.py": src}))
    assert found["jsonp_handler"].role == "helper"
    assert (found["Root.data"].route, found["Root.data"].recognised_by) == ("/data", "helper:jsonp_handler")
    assert "Root.plain" not in found


@pytest.mark.parametrize("style", ["class", "function"])
def test_bottle_plugin_pads_the_json_routes_of_its_app(tmp_path: Path, style: str) -> None:
    """A Bottle plugin (a class with `apply`, or a function) installed on an app wraps its routes: the JSON ones
    are endpoints (medium, like an after_request hook); an HTML route is not. `callback` there is Bottle's name
    for the route function, not a JSONP parameter."""
    plugin = (
        """
class JSONPPlugin(object):
    name = "jsonp"
    api = 2

    def apply(self, callback, route):
        def wrapper(*a, **ka):
            rv = callback(*a, **ka)
            cb = request.query.get("callback")
            if cb and isinstance(rv, dict):
                return "%s(%s)" % (cb, json.dumps(rv))
            return rv
        return wrapper

app.install(JSONPPlugin())
"""
        if style == "class"
        else """
def jsonp_plugin(callback):
    def wrapper(*a, **ka):
        rv = callback(*a, **ka)
        cb = request.query.get("callback")
        return "%s(%s)" % (cb, json.dumps(rv)) if cb else rv
    return wrapper

app.install(jsonp_plugin)
"""
    )
    src = f"""
import json
import bottle
from bottle import request
app = bottle.Bottle()
{plugin}
@app.route("/items")
def items():
    return {{"items": []}}

@app.route("/page")
def page():
    return "<h1>hello</h1>"
"""
    found = by_function(run(tmp_path, {"app.py": src}))
    assert (found["items"].route, found["items"].confidence) == ("/items", "medium")
    assert found["items"].recognised_by.startswith("plugin:")
    assert "page" not in found


def test_a_caller_naming_the_callback_parameter_of_a_helper(tmp_path: Path) -> None:
    """`def jsonp(data, param="callback"): request.args.get(param)`: a caller passing `param="cb"` (or the name
    positionally) serves ?cb=; a caller passing nothing serves the default."""
    files = {
        "__init__.py": "",
        "helpers.py": """
            import json
            from flask import request, Response

            def jsonp(data, param="callback"):
                name = request.args.get(param)
                return Response("%s(%s)" % (name, json.dumps(data)), mimetype="application/javascript")
            """,
        "views.py": """
            from flask import Flask
            from .helpers import jsonp
            app = Flask(__name__)

            @app.route("/a")
            def a():
                return jsonp({"a": 1})

            @app.route("/b")
            def b():
                return jsonp({"b": 2}, param="cb")

            @app.route("/c")
            def c():
                return jsonp({"c": 3}, "jsonp")
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["jsonp"].callback_params == ("callback",)
    assert found["a"].callback_params == ("callback",)
    assert found["b"].callback_params == ("cb",)
    assert found["c"].callback_params == ("jsonp",)


def test_python2_token_pass_names_methods_and_reads_the_imports(tmp_path: Path) -> None:
    """The token-level pass qualifies methods with their class, takes the framework from the imports, the
    method from a handler method's name, and counts `request.user` as a credential."""
    src = """
import json
from django.http import HttpResponse
from django.views.generic import View

class ProfileView(View):
    def get(self, request):
        cb = request.GET.get('callback')
        print "profile", cb
        return HttpResponse('%s(%s)' % (cb, json.dumps({'u': request.user.username})))

    def helper(self):
        print "not jsonp"
"""
    (ep,) = run(tmp_path, {"views.py": src}).endpoints
    assert (ep.function, ep.framework, ep.methods, ep.confidence) == ("ProfileView.get", "django", ("GET",), "low")
    assert ep.credentials


def test_drf_renderer_with_a_get_callback_method(tmp_path: Path) -> None:
    """The shape of the popular DRF JSONP renderer written in a project: `get_callback(renderer_context)` reads
    `getattr(request, "query_params", {})`, `render()` pads what it returns; class and function views list it."""
    files = {
        "__init__.py": "",
        "renderers.py": """
            from rest_framework.renderers import JSONRenderer

            class PaddedRenderer(JSONRenderer):
                callback_parameter = "callback"

                def get_callback(self, renderer_context):
                    request = renderer_context.get("request", None)
                    params = request and getattr(request, "query_params", {}) or {}
                    return params.get(self.callback_parameter, "callback")

                def render(self, data, accepted_media_type=None, renderer_context=None):
                    callback = self.get_callback(renderer_context or {})
                    body = super().render(data, accepted_media_type, renderer_context)
                    return callback.encode("utf-8") + b"(" + body + b");"
            """,
        "views.py": """
            from rest_framework.decorators import api_view, renderer_classes
            from rest_framework.response import Response
            from rest_framework.views import APIView
            from .renderers import PaddedRenderer

            class Feed(APIView):
                renderer_classes = [PaddedRenderer]

                def get(self, request):
                    return Response([1])

            @api_view(["GET"])
            @renderer_classes([PaddedRenderer])
            def stats(request):
                return Response({"n": 1})
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["PaddedRenderer.render"].role == "helper"
    assert found["PaddedRenderer.render"].callback_params == ("callback",)
    assert found["Feed.get"].recognised_by == found["stats"].recognised_by == "renderer:PaddedRenderer"


def test_a_helper_method_given_a_parameter_still_passes_it_on(tmp_path: Path) -> None:
    """`clean(name)` / `self.clean(name)` returning no request value: the parameter flows on to the padding, so
    the caller that passes the request's callback is the endpoint."""
    src = """
        import json

        def clean(value):
            return value.strip()

        def wrap(name, data):
            return "%s(%s)" % (clean(name), json.dumps(data))

        class Padder:
            def tidy(self, value):
                return value.strip()

            def wrap(self, name, data):
                return "%s(%s)" % (self.tidy(name), json.dumps(data))
        """
    files = {
        "padder.py": src,
        "app.py": FLASK_HEAD + """
from padder import wrap, Padder

@app.route("/x")
def x():
    return wrap(request.args.get("callback"), [])

class View:
    padder = Padder()

    def get(self):
        return self.padder.wrap(request.args.get("callback"), [])
""",
    }
    found = by_function(run(tmp_path, files))
    assert found["x"].recognised_by == "helper:wrap"


def test_pyramid_renderer_with_the_projects_own_factory(tmp_path: Path) -> None:
    """`config.add_renderer("padded", factory)` with a factory function or class of the project: views with
    `renderer="padded"` answer through what it returns; `renderer="json"` views do not."""
    src = """
        import json
        from pyramid.config import Configurator
        from pyramid.view import view_config

        def padded_factory(info):
            def _render(value, system):
                callback = system.get("request").GET.get("callback")
                return "%s(%s)" % (callback, json.dumps(value)) if callback else json.dumps(value)
            return _render

        class PaddedRenderer(object):
            def __init__(self, info):
                self.info = info

            def __call__(self, value, system):
                return "%s(%s)" % (system["request"].params.get("jsonp"), json.dumps(value))

        @view_config(route_name="items", renderer="padded")
        def items(request):
            return {"items": []}

        @view_config(route_name="more", renderer="padded2")
        def more(request):
            return {"more": []}

        @view_config(route_name="plain", renderer="json")
        def plain(request):
            return {"ok": True}

        def main():
            config = Configurator()
            config.add_renderer("padded", padded_factory)
            config.add_renderer("padded2", "app:PaddedRenderer")
            config.add_route("items", "/items")
            config.add_route("more", "/more")
            config.add_route("plain", "/plain")
            return config.make_wsgi_app()
        """
    found = by_function(run(tmp_path, {"app.py": src}))
    assert (found["items"].route, found["items"].recognised_by) == ("/items", "renderer:padded_factory")
    assert found["more"].callback_params == ("jsonp",)
    assert found["more"].recognised_by == "renderer:PaddedRenderer.__call__"
    assert "plain" not in found


def test_renderer_factory_views_in_files_the_prefilter_drops(tmp_path: Path) -> None:
    """The factory pads in one module, another registers it by name, a third names it in `view_config`: neither
    of the last two says "callback", so follow-up rounds bring them in (the registration through the factory's
    name, the views through the renderer's)."""
    files = {
        "app/__init__.py": "",
        "app/renderers.py": """
            import json

            class PaddedRendererFactory(object):
                def __init__(self, info):
                    self.info = info

                def __call__(self, value, system):
                    request = system.get("request")
                    callback = request.GET.get("callback")
                    return "%s(%s)" % (callback, json.dumps(value)) if callback else json.dumps(value)
            """,
        "app/main.py": """
            from pyramid.config import Configurator
            from app.renderers import PaddedRendererFactory

            def make_app():
                config = Configurator()
                config.add_renderer("padded", PaddedRendererFactory)
                config.add_route("items", "/items")
                config.scan("app.views")
                return config.make_wsgi_app()
            """,
        "app/views.py": """
            from pyramid.view import view_config

            @view_config(route_name="items", renderer="padded")
            def items(request):
                return {"items": []}

            @view_config(route_name="items", renderer="json", request_method="POST")
            def create(request):
                return {"ok": True}
            """,
    }
    found = by_function(run(tmp_path, files))
    assert (found["items"].route, found["items"].framework) == ("/items", "pyramid")
    assert found["items"].recognised_by == "renderer:PaddedRendererFactory.__call__"
    assert "create" not in found


def test_drf_default_renderer_makes_every_drf_view_answer_jsonp(tmp_path: Path) -> None:
    """djangorestframework-jsonp's documented set-up: the JSONP renderer in REST_FRAMEWORK's
    DEFAULT_RENDERER_CLASSES. Every APIView handler, viewset action and @api_view function then answers JSONP
    (their modules never say "callback": follow-up rounds read them and the urls routing to them), except views
    listing renderers of their own; plain Django views are not DRF views."""
    files = {
        "proj/__init__.py": "",
        "proj/api/__init__.py": "",
        "proj/settings.py": """
            REST_FRAMEWORK = {
                "DEFAULT_RENDERER_CLASSES": (
                    "rest_framework.renderers.JSONRenderer",
                    "rest_framework_jsonp.renderers.JSONPRenderer",
                ),
            }
            """,
        "proj/api/views.py": """
            from rest_framework import viewsets
            from rest_framework.decorators import action, api_view
            from rest_framework.renderers import JSONRenderer
            from rest_framework.response import Response
            from rest_framework.views import APIView

            class Stats(APIView):
                def get(self, request):
                    return Response({"n": 1})

            class Items(viewsets.ModelViewSet):
                def list(self, request):
                    return Response([])

                def retrieve(self, request, pk=None):
                    return Response({"pk": pk})

                @action(detail=True, methods=["get"], url_path="summary")
                def summary(self, request, pk=None):
                    return Response({"pk": pk})

                @action(detail=False)
                def recent(self, request):
                    return Response([])

                def helper(self):
                    return 1

            class JsonOnly(APIView):
                renderer_classes = (JSONRenderer,)

                def get(self, request):
                    return Response({})

            @api_view(["GET"])
            def ping(request):
                return Response({"pong": True})

            def plain(request):
                return None
            """,
        "proj/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter
            from proj.api import views

            router = DefaultRouter()
            router.register(r"items", views.Items, basename="item")

            urlpatterns = [
                path("stats/", views.Stats.as_view()),
                path("ping/", views.ping),
                path("api/", include(router.urls)),
            ]
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"Stats.get", "Items.list", "Items.retrieve", "Items.summary", "Items.recent", "ping"}
    assert (found["Stats.get"].route, found["ping"].route) == ("/stats/", "/ping/")
    # a DRF router under include(): list at the prefix, detail actions one segment below
    assert (found["Items.list"].route, found["Items.list"].methods) == ("/api/items/", ("GET",))
    assert found["Items.retrieve"].route == "/api/items/{pk}/"
    # extra actions: on the detail route or the list route, under their url_path
    assert found["Items.summary"].route == "/api/items/{pk}/summary/"
    assert found["Items.recent"].route == "/api/items/recent/"
    assert {e.recognised_by for e in found.values()} == {"drf-default-renderer"}
    assert found["Items.list"].callback_params == ("callback",)


def test_drf_defaults_without_jsonp_add_nothing(tmp_path: Path) -> None:
    files = {
        "settings.py": """
            JSONP_NOTE = "no jsonp here"
            REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",)}
            """,
        "views.py": """
            from rest_framework.response import Response
            from rest_framework.views import APIView

            class Stats(APIView):
                def get(self, request):
                    return Response({"n": 1})
            """,
    }
    assert run(tmp_path, files).endpoints == ()


@pytest.mark.parametrize(
    ("src", "handler", "helper"),
    [
        (
            """
            from aiohttp import web

            @web.middleware
            async def jsonp_mw(request, handler):
                response = await handler(request)
                callback = request.query.get("callback")
                if callback:
                    return web.Response(text="%s(%s)" % (callback, response.text))
                return response

            async def items(request):
                return web.json_response({"items": []})

            async def page(request):
                return web.Response(text="<h1>x</h1>", content_type="text/html")

            app = web.Application(middlewares=[jsonp_mw])
            app.router.add_get("/items", items)
            app.router.add_get("/page", page)
            """,
            "items",
            "jsonp_mw",
        ),
        (
            """
            from starlette.applications import Starlette
            from starlette.middleware import Middleware
            from starlette.middleware.base import BaseHTTPMiddleware
            from starlette.responses import HTMLResponse, JSONResponse, Response
            from starlette.routing import Route

            class Padding(BaseHTTPMiddleware):
                async def dispatch(self, request, call_next):
                    response = await call_next(request)
                    callback = request.query_params.get("callback")
                    body = b"".join([chunk async for chunk in response.body_iterator])
                    return Response(callback.encode() + b"(" + body + b")") if callback else response

            async def items(request):
                return JSONResponse({"items": []})

            async def page(request):
                return HTMLResponse("<h1>x</h1>")

            app = Starlette(routes=[Route("/items", items), Route("/page", page)], middleware=[Middleware(Padding)])
            """,
            "items",
            "Padding.dispatch",
        ),
        (
            """
            from fastapi import FastAPI, Request
            from fastapi.responses import HTMLResponse, Response

            app = FastAPI()

            @app.middleware("http")
            async def pad(request: Request, call_next):
                response = await call_next(request)
                cb = request.query_params.get("callback")
                body = b"".join([c async for c in response.body_iterator])
                return Response(cb.encode() + b"(" + body + b")") if cb else response

            @app.get("/items")
            def items():
                return {"items": []}

            @app.get("/page", response_class=HTMLResponse)
            def page():
                return "<h1>x</h1>"
            """,
            "items",
            "pad",
        ),
    ],
)
def test_app_middleware_pads_the_json_routes(tmp_path: Path, src: str, handler: str, helper: str) -> None:
    """Middleware installed on an app (aiohttp middlewares=[...], Starlette Middleware(...), FastAPI
    @app.middleware) pads the app's JSON routes: they are endpoints (medium), the middleware the helper; an
    HTML route is not."""
    found = by_function(run(tmp_path, {"app.py": src}))
    assert (found[handler].route, found[handler].confidence) == ("/items", "medium")
    assert found[handler].recognised_by == f"middleware:{helper}"
    assert found[helper].role == "helper"
    assert "page" not in found


@pytest.mark.parametrize("install", ["app.add_middleware(Padding)", "app.add_middleware(mw.Padding)",
                                     "app = Starlette(routes=ROUTES, middleware=[Middleware(Padding)])"])
def test_app_middleware_defined_in_another_module(tmp_path: Path, install: str) -> None:
    """The middleware class lives in another module of the repo (imported by name or through its module): its
    `dispatch` is still found and pads the app's JSON routes."""
    files = {
        "site/__init__.py": "",
        "site/mw.py": """
            from starlette.middleware.base import BaseHTTPMiddleware
            from starlette.responses import Response

            class Padding(BaseHTTPMiddleware):
                async def dispatch(self, request, call_next):
                    response = await call_next(request)
                    callback = request.query_params.get("callback")
                    body = b"".join([chunk async for chunk in response.body_iterator])
                    return Response(callback.encode() + b"(" + body + b")") if callback else response
            """,
        "site/app.py": f"""
            from starlette.applications import Starlette
            from starlette.middleware import Middleware
            from starlette.responses import JSONResponse
            from starlette.routing import Route
            from site import mw
            from site.mw import Padding

            async def items(request):
                return JSONResponse({{"items": []}})

            ROUTES = [Route("/items", items)]
            app = Starlette(routes=ROUTES)
            {install}
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["items"].route == "/items"
    assert found["items"].recognised_by == "middleware:Padding.dispatch"
    assert found["Padding.dispatch"].role == "helper"


def test_library_middleware_is_no_hook_and_no_crash(tmp_path: Path) -> None:
    """A middleware class from a library (here the shim of this very project, mounted on a test app that also
    pads) is not part of the repo: nothing to link, and the module is still read (no internal error)."""
    src = """
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route
        from starlette.middleware.cors import CORSMiddleware
        from jsonp2cors.shim import ASGIShim

        async def data(request):
            cb = request.query_params.get("callback")
            return Response(f"{cb}({{}})", media_type="application/javascript")

        async def plain(request):
            return JSONResponse({"ok": True})

        app = Starlette(routes=[Route("/data", data), Route("/plain", plain)])
        app.add_middleware(ASGIShim)
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example"])
        """
    result = run(tmp_path, {"app.py": src})
    assert not [e for e in result.errors if "internal error" in e.message]
    found = by_function(result)
    assert found["data"].route == "/data" and "plain" not in found


def test_drf_default_renderer_of_the_project_named_by_path(tmp_path: Path) -> None:
    """A project renderer named by its dotted path in DEFAULT_RENDERER_CLASSES, in a settings module that never
    says JSONP: the renderer's name brings the settings in, the settings bring the views in."""
    files = {
        "proj/__init__.py": "",
        "proj/api/__init__.py": "",
        "proj/settings.py": """
            REST_FRAMEWORK = {
                "DEFAULT_RENDERER_CLASSES": [
                    "rest_framework.renderers.JSONRenderer",
                    "proj.renderers.PaddedRenderer",
                ],
            }
            """,
        "proj/renderers.py": """
            from rest_framework.renderers import JSONRenderer

            class PaddedRenderer(JSONRenderer):
                def render(self, data, accepted_media_type=None, renderer_context=None):
                    callback = renderer_context["request"].query_params.get("callback")
                    body = super().render(data, accepted_media_type, renderer_context)
                    return callback.encode() + b"(" + body + b")" if callback else body
            """,
        "proj/api/views.py": """
            from rest_framework.response import Response
            from rest_framework.views import APIView

            class Stats(APIView):
                def get(self, request):
                    return Response({"n": 1})
            """,
    }
    found = by_function(run(tmp_path, files))
    assert found["Stats.get"].recognised_by == "renderer:PaddedRenderer"
    assert found["PaddedRenderer.render"].role == "helper"


def test_whole_repo_pass_reads_many_modules_in_a_pool_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Modules the whole-repo pass reads fully go through a process pool when there are many (a DRF project's
    views): the findings are those of reading them one by one."""
    import jsonp2cors.scan.python as python_analyzer

    files = {
        "proj/__init__.py": "",
        "proj/settings.py": 'REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": '
        '("rest_framework_jsonp.renderers.JSONPRenderer",)}\n',
    }
    for i in range(6):
        files[f"proj/views{i}.py"] = f"""
            from rest_framework.response import Response
            from rest_framework.views import APIView

            class View{i}(APIView):
                def get(self, request):
                    return Response({{"n": {i}}})
            """
    monkeypatch.setattr(python_analyzer, "COLLECT_POOL_MIN", 1000)
    one_by_one = run(tmp_path / "a", files, ScanConfig(jobs=2))
    monkeypatch.setattr(python_analyzer, "COLLECT_POOL_MIN", 2)
    pooled = run(tmp_path / "b", files, ScanConfig(jobs=2))
    assert len(one_by_one.endpoints) == 6
    assert [(e.file, e.function, e.recognised_by) for e in pooled.endpoints] == [
        (e.file, e.function, e.recognised_by) for e in one_by_one.endpoints
    ]


def test_flask_view_base_overriding_dispatch_request(tmp_path: Path) -> None:
    src = FLASK_HEAD + """
from flask.views import MethodView

class PaddedView(MethodView):
    def dispatch_request(self, *args, **kwargs):
        data = super().dispatch_request(*args, **kwargs)
        cb = request.args.get("callback")
        return "%s(%s)" % (cb, json.dumps(data)) if cb else json.dumps(data)

class Users(PaddedView):
    def get(self):
        return {"users": []}

app.add_url_rule("/users", view_func=Users.as_view("users"))
"""
    ep = by_function(run(tmp_path, {"app.py": src}))["Users.get"]
    assert (ep.route, ep.recognised_by) == ("/users", "base-class:PaddedView.dispatch_request")


@pytest.mark.parametrize(
    ("own", "mounted", "route"),
    [("/items", "/api", "/api/items/{item_id}"), ("", "/api", "/api/{item_id}"), ("/items", None, "/items/{item_id}")],
)
def test_fastapi_include_router_prefix_goes_in_front_of_the_routers(
    tmp_path: Path, own: str, mounted: str | None, route: str
) -> None:
    """FastAPI joins `include_router(router, prefix=...)` with the router's own `APIRouter(prefix=...)` (Flask's
    `register_blueprint(url_prefix=...)` replaces the blueprint's instead; tested with the Flask fixture)."""
    own_arg = f"prefix={own!r}" if own else ""
    include = f"app.include_router(router, prefix={mounted!r})" if mounted else "app.include_router(router)"
    files = {
        "main.py": f"""
            from fastapi import APIRouter, FastAPI, Response
            router = APIRouter({own_arg})

            @router.get("/{{item_id}}")
            def item(item_id: int, callback: str = None):
                return Response(f"{{callback}}({{item_id}})", media_type="application/javascript")

            app = FastAPI()
            {include}
            """,
    }
    assert by_function(run(tmp_path, files))["item"].route == route


@pytest.mark.parametrize(
    ("src", "handler"),
    [
        (
            """
            import json
            import tornado.web

            class ScoreHandler(tornado.web.RequestHandler):
                def get(self):
                    cb = self.get_argument("callback")
                    self.write("%s(%s)" % (cb, json.dumps([])))

            class Application(tornado.web.Application):
                def __init__(self):
                    handlers = [(r"/api/scores", ScoreHandler)]
                    tornado.web.Application.__init__(self, handlers, debug=True)
            """,
            "ScoreHandler.get",
        ),
        (
            """
            import json
            import tornado.web

            class ScoreHandler(tornado.web.RequestHandler):
                def get(self):
                    self.write("%s(%s)" % (self.get_argument("callback"), json.dumps([])))

            handlers = [(r"/api/scores", ScoreHandler)]
            app = tornado.web.Application(handlers)
            """,
            "ScoreHandler.get",
        ),
        (
            """
            import json
            import webapp2

            class Scores(webapp2.RequestHandler):
                def get(self):
                    cb = self.request.get("callback")
                    self.response.write("%s(%s)" % (cb, json.dumps([])))

            routes = [("/api/scores", Scores)]
            app = webapp2.WSGIApplication(routes, debug=True)
            """,
            "Scores.get",
        ),
    ],
    ids=["tornado-subclass-init", "tornado-variable", "webapp2-variable"],
)
def test_handler_table_bound_to_a_name_first(tmp_path: Path, src: str, handler: str) -> None:
    """The Tornado demos' layout (`handlers = [...]` then `Application.__init__(self, handlers)`) and a route
    list bound to a name before the application is built give the handlers their routes."""
    assert by_function(run(tmp_path, {"app.py": src}))[handler].route == "/api/scores"


def test_flask_class_views_bound_to_a_name_and_plain_views(tmp_path: Path) -> None:
    """`feed_view = FeedAPI.as_view("feed")` registered under two rules, and a plain `View` answering through
    `dispatch_request`: both get their routes."""
    result = run(tmp_path, {"app.py": """
        import json
        from flask import Flask, Response, request
        from flask.views import MethodView, View

        app = Flask(__name__)

        class FeedAPI(MethodView):
            def get(self, item_id=None):
                cb = request.args.get("callback")
                return Response("%s(%s)" % (cb, json.dumps({"id": item_id})), mimetype="application/javascript")

        feed_view = FeedAPI.as_view("feed")
        app.add_url_rule("/feed/", view_func=feed_view, methods=["GET"])
        app.add_url_rule("/feed/<int:item_id>", view_func=feed_view)

        class Legacy(View):
            def dispatch_request(self):
                cb = request.args.get("jsonp")
                return Response(cb + "(" + json.dumps([1]) + ")", mimetype="text/javascript")

        app.add_url_rule("/legacy", view_func=Legacy.as_view("legacy"))
    """})
    eps = by_function(result)
    assert (eps["FeedAPI.get"].route, eps["FeedAPI.get"].routes) == ("/feed/", ("/feed/", "/feed/<int:item_id>"))
    assert (eps["Legacy.dispatch_request"].route, eps["Legacy.dispatch_request"].confidence) == ("/legacy", "high")


def test_django_class_view_bound_to_a_name_in_urls(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "news/__init__.py": "",
        "news/views.py": """
            import json
            from django.http import HttpResponse
            from django.views import View

            class FeedView(View):
                def get(self, request):
                    cb = request.GET.get("callback")
                    return HttpResponse("%s(%s)" % (cb, json.dumps([1])), content_type="application/javascript")
        """,
        "news/urls.py": """
            from django.urls import path
            from news.views import FeedView

            feed = FeedView.as_view()
            urlpatterns = [path("feed/", feed)]
        """,
    })
    assert by_function(result)["FeedView.get"].route == "/feed/"


def test_flask_restful_api_prefix_and_api_on_a_blueprint(tmp_path: Path) -> None:
    """`Api(app, prefix="/api/v1")` puts its resources under the prefix; `Api(bp)` under the blueprint's own."""
    result = run(tmp_path, {"app.py": """
        import json
        from flask import Blueprint, Flask, make_response, request
        from flask_restful import Api, Resource

        app = Flask(__name__)
        api = Api(app, prefix="/api/v1")
        bp = Blueprint("legacy", __name__, url_prefix="/legacy")
        legacy = Api(bp)

        class Feed(Resource):
            def get(self):
                cb = request.args.get("callback")
                resp = make_response("%s(%s)" % (cb, json.dumps([1])))
                resp.headers["Content-Type"] = "application/javascript"
                return resp

        api.add_resource(Feed, "/feed")
        legacy.add_resource(Feed, "/feed.js")
        app.register_blueprint(bp)
    """})
    feed = by_function(result)["Feed.get"]
    assert (feed.route, feed.routes) == ("/api/v1/feed", ("/api/v1/feed", "/legacy/feed.js"))


def test_bottle_app_mounted_under_a_prefix(tmp_path: Path) -> None:
    result = run(tmp_path, {"app.py": """
        import json
        from bottle import Bottle, request, response

        root = Bottle()
        api = Bottle()

        @api.route("/feed")
        def feed():
            cb = request.query.callback
            response.content_type = "application/javascript"
            return "%s(%s)" % (cb, json.dumps([1]))

        root.mount("/api", api)
    """})
    assert by_function(result)["feed"].route == "/api/feed"


def test_subclass_setting_the_callback_parameter_attribute_reads_that_name(tmp_path: Path) -> None:
    """A base handler reads `self.get_argument(self.callback_param)`; a subclass setting `callback_param`
    answers to that name, the others to the base's."""
    result = run(tmp_path, {"handlers.py": """
        import json
        import tornado.web

        class JSONPHandler(tornado.web.RequestHandler):
            callback_param = "callback"

            def write_jsonp(self, data):
                cb = self.get_argument(self.callback_param, None)
                self.set_header("Content-Type", "application/javascript")
                self.write("%s(%s)" % (cb, json.dumps(data)))

        class FeedHandler(JSONPHandler):
            callback_param = "jsoncallback"

            def get(self):
                self.write_jsonp({"items": []})

        class NewsHandler(JSONPHandler):
            def get(self):
                self.write_jsonp({"news": []})

        class LatestHandler(FeedHandler):
            def get(self):
                self.write_jsonp({"latest": []})

        app = tornado.web.Application([(r"/feed", FeedHandler), (r"/news", NewsHandler), (r"/latest", LatestHandler)])
    """})
    eps = by_function(result)
    assert {name: e.callback_params for name, e in eps.items()} == {
        "JSONPHandler.write_jsonp": ("callback",),
        "FeedHandler.get": ("jsoncallback",),
        "NewsHandler.get": ("callback",),
        "LatestHandler.get": ("jsoncallback",),
    }


GAE_WEBAPP_APP = """
from django.utils import simplejson
from google.appengine.ext import webapp
from google.appengine.ext.webapp.util import run_wsgi_app

class FeedHandler(webapp.RequestHandler):
    def get(self):
        callback = self.request.get("callback")
        self.response.headers["Content-Type"] = "text/javascript"
        self.response.out.write("%s(%s)" % (callback, simplejson.dumps({"items": []})))

application = webapp.WSGIApplication([("/feed", FeedHandler)], debug=True)

def main():
    run_wsgi_app(application)
"""


@pytest.mark.parametrize("python2", [False, True])
def test_google_app_engine_original_webapp(tmp_path: Path, python2: bool) -> None:
    """The original App Engine `webapp` (webapp2's API, reported as webapp2), whose apps imported Django's
    simplejson: not a Django app. Its Python 2 form is read at token level (no route there, low confidence)."""
    source = GAE_WEBAPP_APP + ('    print "started"\n' if python2 else "")
    (feed,) = run(tmp_path, {"main.py": source}).endpoints
    assert (feed.function, feed.framework, feed.callback_params) == ("FeedHandler.get", "webapp2", ("callback",))
    assert (feed.route, feed.confidence) == ((None, "low") if python2 else ("/feed", "high"))


def test_flask_g_set_from_the_request_in_a_hook_and_padded_elsewhere(tmp_path: Path) -> None:
    """`g.callback = request.args.get("callback")` in a before_request hook, padded by a helper of the module:
    the helper and the view calling it are reported; a `g` attribute set from anything else is not."""
    result = run(tmp_path, {"app.py": """
        import json
        from flask import Flask, Response, g, request

        app = Flask(__name__)

        @app.before_request
        def remember_callback():
            g.callback = request.args.get("callback")
            g.user = "anonymous"

        def reply(data):
            body = json.dumps(data)
            if g.callback:
                return Response("%s(%s)" % (g.callback, body), mimetype="application/javascript")
            return Response(body, mimetype="application/json")

        def greet(data):
            return Response("%s(%s)" % (g.user, json.dumps(data)), mimetype="text/plain")

        @app.route("/feed")
        def feed():
            return reply({"items": []})

        @app.route("/hello")
        def hello():
            return greet({})
    """})
    rows = {e.function: (e.role, e.route, e.callback_params) for e in result.endpoints}
    assert rows == {"reply": ("helper", None, ("callback",)), "feed": ("handler", "/feed", ("callback",))}


def test_padding_written_piece_by_piece(tmp_path: Path) -> None:
    """The callback written by one output call and the argument list opened by the next (`self.write(cb)`,
    `self.write("(")`; list appends on one line; a CGI script's `sys.stdout.write`); writing the name followed by
    text that opens no argument list is not padding."""
    result = run(tmp_path, {
        "handlers.py": """
            import json
            import tornado.web

            class FeedHandler(tornado.web.RequestHandler):
                def get(self):
                    cb = self.get_argument("callback")
                    self.set_header("Content-Type", "application/javascript")
                    self.write(cb)
                    self.write("(")
                    self.write(json.dumps({"items": []}))
                    self.write(");")

            class ListHandler(tornado.web.RequestHandler):
                def get(self):
                    cb = self.get_argument("jsonp")
                    out = []
                    out.append(cb); out.append("(" + json.dumps([1]) + ")")
                    self.write("".join(out))

            class EchoHandler(tornado.web.RequestHandler):
                def get(self):
                    name = self.get_argument("callback")
                    self.write(name)
                    self.write(" is not a function name here")

            app = tornado.web.Application([(r"/feed", FeedHandler), (r"/list", ListHandler), (r"/echo", EchoHandler)])
        """,
        "cgi-bin/feed.py": """
            import cgi
            import json
            import sys

            form = cgi.FieldStorage()
            callback = form.getfirst("callback", "cb")
            sys.stdout.write("Content-Type: application/javascript\\r\\n\\r\\n")
            sys.stdout.write(callback)
            sys.stdout.write("(%s)" % json.dumps({"ok": True}))
        """,
    })
    rows = {(e.file, e.function): (e.route, e.callback_params, e.recognised_by) for e in result.endpoints}
    assert rows == {
        ("handlers.py", "FeedHandler.get"): ("/feed", ("callback",), "piecewise-padding"),
        ("handlers.py", "ListHandler.get"): ("/list", ("jsonp",), "piecewise-padding"),
        ("cgi-bin/feed.py", "<module>"): (None, ("callback",), "piecewise-padding"),
    }


def test_python2_token_pass_takes_methods_and_leaves_defaults_out(tmp_path: Path) -> None:
    """At token level: the route decorator's `methods=[...]` (or its verb) gives the methods; a default value
    such as `get('callback', ['cb'])` is no parameter name, a subscript `args['jsonp']` is."""
    result = run(tmp_path, {"app.py": """
        import json
        from urlparse import parse_qs
        from flask import Flask, request, Response

        app = Flask(__name__)

        @app.route('/a', methods=['GET', 'POST'])
        def a():
            qs = parse_qs(request.query_string)
            cb = qs.get('callback', ['cb'])[0]
            print "a"
            return Response('%s(%s)' % (cb, json.dumps([1])), mimetype='application/javascript')

        @app.post('/b')
        def b():
            cb = request.args['jsonp']
            return Response(cb + '(' + json.dumps([2]) + ')', mimetype='application/javascript')
    """})
    rows = {e.function: (e.route, e.methods, e.callback_params, e.confidence) for e in result.endpoints}
    assert rows == {
        "a": ("/a", ("GET", "POST"), ("callback",), "low"),
        "b": ("/b", ("POST",), ("jsonp",), "low"),
    }


def test_module_level_lambdas_that_pad_are_helpers(tmp_path: Path) -> None:
    """`pad = lambda cb, data: ...` is a padding helper like a `def`, in the handler's module or in another one
    the prefilter drops (nothing there names a callback); a lambda that builds HTML is not."""
    files = {
        "app.py": """
            import json
            from flask import Flask, request, Response
            from pkg.util import wrap, bold

            app = Flask(__name__)
            pad = lambda cb, data: "%s(%s)" % (cb, json.dumps(data))

            @app.route("/x")
            def x():
                return Response(pad(request.args.get("callback"), {"a": 1}), mimetype="application/javascript")

            @app.route("/w")
            def w():
                return wrap(request.args.get("callback"), {"a": 1})

            @app.route("/b")
            def b():
                return bold(request.args.get("callback"))
            """,
        "pkg/__init__.py": "",
        "pkg/util.py": """
            import json

            wrap = lambda name, payload: name + "(" + json.dumps(payload) + ")"
            bold = lambda text: "<b>%s</b>" % text
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"pad", "x", "wrap", "w"}
    assert (found["pad"].file, found["pad"].line, found["pad"].role) == ("app.py", 6, "helper")
    assert (found["x"].route, found["x"].role, found["x"].recognised_by) == ("/x", "handler", "helper:pad")
    assert (found["wrap"].file, found["wrap"].line, found["wrap"].role) == ("pkg/util.py", 3, "helper")
    assert (found["w"].route, found["w"].recognised_by) == ("/w", "helper:wrap")


def test_a_module_read_fully_reaches_a_helper_in_a_dropped_module(tmp_path: Path) -> None:
    """The view's module is read with libcst for its own padding; the helper it hands a request value to lives
    in a module the prefilter dropped (no needle there): the follow-up round reads it and the whole-repo pass
    links the two."""
    files = {
        "app.py": """
            import json
            from flask import Flask, request
            from pkg.util import wrap

            app = Flask(__name__)

            @app.route("/x")
            def x():
                cb = request.args.get("callback")
                return "%s(%s)" % (cb, json.dumps({"a": 1}))

            @app.route("/w")
            def w():
                return wrap(request.args.get("callback"), {"a": 1})
            """,
        "pkg/__init__.py": "",
        "pkg/util.py": """
            import json

            def wrap(name, payload):
                return name + "(" + json.dumps(payload) + ")"
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"x", "w", "wrap"}
    assert (found["w"].route, found["w"].recognised_by) == ("/w", "helper:wrap")
    assert (found["wrap"].file, found["wrap"].role) == ("pkg/util.py", "helper")


def test_a_response_class_padding_its_constructor_argument_in_init(tmp_path: Path) -> None:
    """`JSONPResponse(data, callback)` whose `__init__` pads the argument right away (not kept as `self.x`): the
    views constructing it with a request value are the endpoints, the class is their helper."""
    files = {
        "views.py": """
            import json
            from django.http import HttpResponse

            class JSONPResponse(HttpResponse):
                def __init__(self, data, callback, **kwargs):
                    content = "%s(%s)" % (callback, json.dumps(data))
                    super().__init__(content, content_type="application/javascript", **kwargs)

            def feed(request):
                return JSONPResponse({"a": 1}, request.GET.get("callback", "cb"))

            def page(request):
                return JSONPResponse({"a": 1}, "render")
            """,
    }
    found = by_function(run(tmp_path, files))
    assert set(found) == {"JSONPResponse.__init__", "feed"}
    assert (found["feed"].role, found["feed"].recognised_by) == ("handler", "response-class:JSONPResponse")
    assert found["feed"].callback_params == ("callback",)
    assert found["JSONPResponse.__init__"].role == "helper"
