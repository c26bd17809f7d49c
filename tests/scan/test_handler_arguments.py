"""Handlers given the callback as an argument: a URL path segment (Django URL keyword arguments, Tornado's regex
groups, Falcon's URI template fields) or a query parameter CherryPy hands to an exposed method (decorated, or
exposed the CherryPy 3.0 way). A function merely taking a `callback` is library code, not a handler."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jsonp2cors.findings import Endpoint
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import ScanConfig


def run(tmp_path: Path, files: dict[str, str]) -> dict[str, Endpoint]:
    for name, src in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src).lstrip("\n"), encoding="utf-8")
    result = scan([tmp_path])
    assert not result.errors
    return {f"{e.file}:{e.function}": e for e in result.endpoints}


def test_django_views_given_the_callback_by_the_url(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        {
            "shop/views.py": """
                import json
                from django.http import HttpResponse, HttpResponseRedirect

                def data(request, callback):
                    body = json.dumps({"items": []})
                    return HttpResponse("%s(%s)" % (callback, body), content_type="application/javascript")

                def feed(request, cb, page=1):
                    return HttpResponse(f"{cb}({json.dumps({'page': page})});")

                def finish(request, callback):
                    return HttpResponseRedirect(callback + "?done=1")  # an OAuth-style return URL
                """,
            "shop/urls.py": """
                from django.urls import path, re_path
                from . import views

                urlpatterns = [
                    path("data/<str:callback>/", views.data),
                    re_path(r"^feed/(?P<cb>\\w+)/(?P<page>\\d+)/$", views.feed),
                    path("finish/<path:callback>", views.finish),
                ]
                """,
        },
    )
    assert set(found) == {"shop/views.py:data", "shop/views.py:feed"}
    data = found["shop/views.py:data"]
    assert (data.line, data.route, data.framework, data.callback_params) == (
        4, "/data/<str:callback>/", "django", ("callback",)
    )
    assert data.confidence == "high" and data.role == "handler"
    assert found["shop/views.py:feed"].route == r"/feed/(?P<cb>\w+)/(?P<page>\d+)/"  # the anchors left out
    assert found["shop/views.py:feed"].callback_params == ("cb",)


def test_tornado_and_falcon_handlers_given_a_path_segment(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        {
            "tapp.py": """
                import json
                import tornado.web

                class DataHandler(tornado.web.RequestHandler):
                    def get(self, callback):
                        self.set_header("Content-Type", "application/javascript")
                        self.write("%s(%s)" % (callback, json.dumps({"a": 1})))

                application = tornado.web.Application([(r"/data/(\\w+)", DataHandler)])
                """,
            "fapp.py": """
                import json
                import falcon

                class Data:
                    def on_get(self, req, resp, callback):
                        resp.content_type = "application/javascript"
                        resp.text = callback + "(" + json.dumps({"a": 1}) + ")"

                app = falcon.App()
                app.add_route("/data/{callback}", Data())
                """,
        },
    )
    assert set(found) == {"tapp.py:DataHandler.get", "fapp.py:Data.on_get"}
    tornado_get = found["tapp.py:DataHandler.get"]
    assert (tornado_get.line, tornado_get.route, tornado_get.framework, tornado_get.methods) == (
        5, r"/data/(\w+)", "tornado", ("GET",)
    )
    falcon_get = found["fapp.py:Data.on_get"]
    assert (falcon_get.line, falcon_get.route, falcon_get.framework) == (5, "/data/{callback}", "falcon")


def test_cherrypy_methods_exposed_without_a_decorator(tmp_path: Path) -> None:
    """CherryPy 3.0 code exposes with `index.exposed = True` or `data = cherrypy.expose(data)`; a MethodDispatcher
    resource says `exposed = True` once and answers each HTTP method with a method of that name."""
    found = run(
        tmp_path,
        {
            "server.py": """
                import json
                import cherrypy

                class Root(object):
                    def data(self, callback=None):
                        cherrypy.response.headers["Content-Type"] = "application/javascript"
                        return "%s(%s)" % (callback, json.dumps({"a": 1}))
                    data.exposed = True

                    def feed(self, jsonp="cb"):
                        return "%s(%s)" % (jsonp, json.dumps([]))
                    feed = cherrypy.expose(feed)

                    def helper(self, callback):
                        return "%s(%s)" % (callback, "{}")

                class Items(object):
                    exposed = True

                    def GET(self, callback=None):
                        return "%s(%s)" % (callback, json.dumps([]))

                cherrypy.tree.mount(Root(), "/")
                dispatch = {"/": {"request.dispatch": cherrypy.dispatch.MethodDispatcher()}}
                cherrypy.tree.mount(Items(), "/items", dispatch)
                """,
        },
    )
    assert set(found) == {"server.py:Root.data", "server.py:Root.feed", "server.py:Items.GET"}
    assert found["server.py:Root.data"].route == "/data"
    assert found["server.py:Root.feed"].route == "/feed"
    assert found["server.py:Root.feed"].callback_params == ("jsonp",)
    items = found["server.py:Items.GET"]
    assert (items.route, items.methods, items.framework) == ("/items", ("GET",), "cherrypy")


@pytest.mark.parametrize(
    "source",
    [
        # a decorated method taking a function: no request value, whatever its name
        """
        import functools
        from typing import Callable

        class Loop:
            @functools.lru_cache
            def call_soon(self, callback: Callable[[], None], *args):
                return "%s(%s)" % (callback.__name__, args)
        """,
        # library code: a function taking a callback, formatting a message with `name(`
        """
        class Loop:
            def _check_callback(self, callback, method):
                if not callable(callback):
                    raise TypeError(f"a callable object was expected by {method}(), got {callback!r}")
        """,
    ],
)
def test_functions_merely_taking_a_callback_stay_in_the_cheap_stage(source: str) -> None:
    """Only a handler-shaped definition makes its callback parameter a request value; these modules are not even
    read with libcst (a 75 KB module of the standard library took a second there)."""
    from jsonp2cors.scan.python import analyze_python

    found = analyze_python("lib/loop.py", textwrap.dedent(source).encode(), ScanConfig())
    assert found.facts["stage"] == "cheap"
    assert not found.endpoints


def test_the_prefilter_keeps_a_view_whose_only_hint_is_its_callback_argument() -> None:
    from jsonp2cors.scan.python import candidate_for

    candidate = candidate_for(ScanConfig())
    view = b'def data(request, callback):\n    return HttpResponse("%s(%s)" % (callback, "{}"))\n'
    assert candidate(view.lower())
    library = b"def add_done_callback(self, fn):\n    self._callbacks.append(callback)\n"
    assert not candidate(library.lower())


def test_frameworks_without_a_contract_name_are_named_in_framework_detail(tmp_path: Path) -> None:
    """Quart (Flask's API, hooks included), Sanic, Twisted Web and TurboGears: found like their relatives, reported as
    `generic` with the framework in `framework_detail` (contract 1 has no value for them)."""
    found = run(
        tmp_path,
        {
            "quart_app.py": """
                import json
                from quart import Quart, request, jsonify

                app = Quart(__name__)

                @app.after_request
                async def pad(response):
                    cb = request.args.get("callback")
                    if cb:
                        response.set_data("%s(%s)" % (cb, await response.get_data(as_text=True)))
                    return response

                @app.route("/items")
                async def items():
                    return jsonify([1, 2])
                """,
            "sanic_app.py": """
                import json
                from sanic import Sanic
                from sanic.response import text

                app = Sanic("legacy")

                @app.get("/data")
                async def data(request):
                    cb = request.args.get("callback")
                    return text("%s(%s)" % (cb, json.dumps({"a": 1})), content_type="application/javascript")
                """,
            "tgroot.py": """
                import json
                from tg import expose, response, TGController

                class Root(TGController):
                    @expose()
                    def data(self, callback=None, **kw):
                        response.headers["Content-Type"] = "application/javascript"
                        return "%s(%s)" % (callback, json.dumps({"a": 1}))
                """,
            "tw.py": """
                import json
                from twisted.web import resource

                class Api(resource.Resource):
                    isLeaf = True

                    def render_GET(self, request):
                        cb = request.args.get(b"callback", [b"cb"])[0]
                        return cb + b"(" + json.dumps({"a": 1}).encode() + b")"
                """,
        },
    )
    assert set(found) == {
        "quart_app.py:pad", "quart_app.py:items", "sanic_app.py:data", "tw.py:Api.render_GET", "tgroot.py:Root.data"
    }
    records = scan([tmp_path]).to_dict()["endpoints"]  # contract 1, as `--format json` writes it
    details = {f"{r['file']}:{r['function']}": (r["framework"], r.get("framework_detail")) for r in records}
    assert details["quart_app.py:items"] == ("generic", "quart")
    assert details["sanic_app.py:data"] == ("generic", "sanic")
    assert details["tw.py:Api.render_GET"] == ("generic", "twisted")
    assert details["tgroot.py:Root.data"] == ("generic", "turbogears")  # not CherryPy, whose @expose it shares
    assert found["tgroot.py:Root.data"].route == "/data"
    assert found["quart_app.py:items"].route == "/items" and found["quart_app.py:items"].role == "handler"
    assert found["quart_app.py:pad"].role == "helper"
    assert found["sanic_app.py:data"].route == "/data"


def test_a_wsgi_app_returning_its_body_in_chunks(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        {
            "app.py": """
                import json
                from urllib.parse import parse_qs

                def application(environ, start_response):
                    cb = parse_qs(environ["QUERY_STRING"]).get("callback", ["cb"])[0]
                    start_response("200 OK", [("Content-Type", "application/javascript")])
                    return [cb.encode(), b"(", json.dumps({"a": 1}).encode(), b")"]

                def page(environ, start_response):
                    name = parse_qs(environ["QUERY_STRING"]).get("callback", [""])[0]
                    start_response("200 OK", [("Content-Type", "text/html")])
                    return [b"<p>", name.encode(), b"(", b"</p>"]
                """,
        },
    )
    assert set(found) == {"app.py:application"}
    app = found["app.py:application"]
    assert (app.line, app.framework, app.recognised_by) == (4, "wsgi", "chunk-padding")
