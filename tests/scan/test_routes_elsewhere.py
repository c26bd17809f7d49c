"""Handlers whose route table lives in a module the prefilter drops (a urls.py or an app factory names no callback):
the whole-repo pass finds the handler, asks the scan for the framework's route modules, and links the route."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jsonp2cors.findings import Endpoint, ScanResult
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import ScanConfig


def run(tmp_path: Path, files: dict[str, str], jobs: int = 1) -> ScanResult:
    for name, src in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src).lstrip("\n"), encoding="utf-8")
    return scan([tmp_path], ScanConfig(jobs=jobs))


def handlers(result: ScanResult) -> dict[str, Endpoint]:
    return {e.function: e for e in result.endpoints if e.role == "handler"}


DJANGO_DECORATOR = """
import json
from functools import wraps
from django.http import HttpResponse

def padded(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        data = view(request, *args, **kwargs)
        cb = request.GET.get("callback")
        body = json.dumps(data)
        if cb:
            return HttpResponse("%s(%s)" % (cb, body), content_type="application/javascript")
        return HttpResponse(body, content_type="application/json")
    return wrapper
"""

DJANGO_VIEWS = """
from shop.decorators import padded

@padded
def products(request):
    return {"items": [1, 2]}

@padded
def product(request, pk):
    return {"id": pk}
"""

DJANGO_URLS = """
from django.urls import path
from shop import views

urlpatterns = [
    path("products/", views.products),
    path("products/<int:pk>/", views.product),
]
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_django_views_padded_by_a_decorator_elsewhere_get_their_urls(tmp_path: Path, jobs: int) -> None:
    """Neither views.py nor urls.py names a callback: the views come in through the decorator's name, their
    routes through the urls modules (the app's, and the site's that includes it)."""
    result = run(tmp_path, {
        "shop/__init__.py": "",
        "shop/decorators.py": DJANGO_DECORATOR,
        "shop/views.py": DJANGO_VIEWS,
        "shop/urls.py": DJANGO_URLS,
        "site/__init__.py": "",
        "site/urls.py": """
            from django.urls import include, path

            urlpatterns = [path("shop/", include("shop.urls"))]
        """,
    }, jobs)
    found = handlers(result)
    assert {name: (e.file, e.route) for name, e in found.items()} == {
        "products": ("shop/views.py", "/shop/products/"),
        "product": ("shop/views.py", "/shop/products/<int:pk>/"),
    }
    assert not result.errors


def test_without_a_route_table_anywhere_the_route_stays_unknown(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "shop/__init__.py": "",
        "shop/decorators.py": DJANGO_DECORATOR,
        "shop/views.py": DJANGO_VIEWS,
        "shop/admin.py": "from django.contrib import admin\n\nurlpatterns = []\n",
    })
    assert {name: e.route for name, e in handlers(result).items()} == {"products": None, "product": None}


def test_pyramid_add_route_in_the_package_init_names_the_view_route(tmp_path: Path) -> None:
    """Pyramid joins a view to its route by name (`route_name=`), not by import: the route table in the
    scaffold's __init__.py (no callback in it) is read for a view padding by hand."""
    result = run(tmp_path, {
        "shop/__init__.py": """
            from pyramid.config import Configurator

            def main(global_config, **settings):
                config = Configurator(settings=settings)
                config.add_route("feed", "/feed.js")
                config.scan()
                return config.make_wsgi_app()
        """,
        "shop/views.py": """
            import json
            from pyramid.response import Response
            from pyramid.view import view_config

            @view_config(route_name="feed")
            def feed(request):
                cb = request.params.get("callback")
                body = "%s(%s)" % (cb, json.dumps({"a": 1}))
                return Response(body, content_type="application/javascript")
        """,
    })
    assert {name: (e.file, e.route) for name, e in handlers(result).items()} == {"feed": ("shop/views.py", "/feed.js")}


def test_flask_view_registered_with_add_url_rule_in_an_app_factory(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "app/__init__.py": """
            from flask import Flask
            from app import views

            def create_app():
                app = Flask(__name__)
                app.add_url_rule("/api/weather", view_func=views.weather)
                return app
        """,
        "app/support.py": """
            import json
            from functools import wraps
            from flask import request, Response

            def padded(fn):
                @wraps(fn)
                def inner(*args, **kwargs):
                    cb = request.args.get("callback")
                    return Response(f"{cb}({json.dumps(fn(*args, **kwargs))})", mimetype="text/javascript")
                return inner
        """,
        "app/views.py": """
            from app.support import padded

            @padded
            def weather():
                return {"t": 21}
        """,
    })
    assert {name: (e.file, e.route) for name, e in handlers(result).items()} == {
        "weather": ("app/views.py", "/api/weather")
    }


FLASK_FACTORY = """
from flask import Flask

from app.api import api


def create_app():
    app = Flask(__name__)
    app.register_blueprint(api, url_prefix="/api/v1")
    return app
"""


def test_flask_blueprint_prefix_from_the_app_factory_for_a_handler_padding_by_hand(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "app/__init__.py": FLASK_FACTORY,
        "app/api.py": """
            import json
            from flask import Blueprint, Response, request

            api = Blueprint("api", __name__)

            @api.route("/weather")
            def weather():
                cb = request.args.get("callback")
                return Response("%s(%s)" % (cb, json.dumps({"t": 21})), mimetype="application/javascript")
        """,
    })
    assert {name: e.route for name, e in handlers(result).items()} == {"weather": "/api/v1/weather"}


def test_flask_blueprint_prefix_for_a_handler_padded_by_a_decorator_elsewhere(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "app/__init__.py": FLASK_FACTORY,
        "app/support.py": """
            import json
            from functools import wraps
            from flask import current_app, request

            def padded(fn):
                @wraps(fn)
                def inner(*args, **kwargs):
                    cb = request.args.get("callback", False)
                    body = json.dumps(fn(*args, **kwargs))
                    return current_app.response_class(str(cb) + "(" + body + ")", mimetype="application/javascript")
                return inner
        """,
        "app/api.py": """
            from flask import Blueprint
            from app.support import padded

            api = Blueprint("api", __name__)

            @api.route("/weather")
            @padded
            def weather():
                return {"t": 21}
        """,
    })
    assert {name: (e.file, e.route) for name, e in handlers(result).items()} == {
        "weather": ("app/api.py", "/api/v1/weather")
    }


def test_fastapi_router_included_with_a_prefix_by_the_main_module(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "service/__init__.py": "",
        "service/main.py": """
            from fastapi import FastAPI
            from service.routes import router

            app = FastAPI()
            app.include_router(router, prefix="/v2")
        """,
        "service/routes.py": """
            import json
            from fastapi import APIRouter, Response

            router = APIRouter(prefix="/feeds")

            @router.get("/latest")
            def latest(callback: str = ""):
                return Response(f"{callback}({json.dumps([1])})", media_type="application/javascript")
        """,
    })
    assert {name: e.route for name, e in handlers(result).items()} == {"latest": "/v2/feeds/latest"}


OLD_DJANGO_VIEWS = """
import json
from django.http import HttpResponse

def feed(request):
    cb = request.GET.get("callback")
    return HttpResponse("%s(%s)" % (cb, json.dumps([1])), content_type="application/javascript")

def latest(request):
    cb = request.GET.get("callback")
    return HttpResponse("%s(%s)" % (cb, json.dumps([2])), content_type="application/javascript")

def feed_js(request):
    cb = request.GET.get("callback")
    return HttpResponse("%s(%s)" % (cb, json.dumps([3])), content_type="application/javascript")
"""


@pytest.mark.parametrize("star", [False, True])
def test_django_1x_string_views_and_patterns_prefixes(tmp_path: Path, star: bool) -> None:
    """Django <= 1.9 named views by dotted strings, relative to the first argument of patterns(); entries were
    url() calls or plain tuples; the old `django.conf.urls.defaults` star import brought the names in."""
    head = "from django.conf.urls.defaults import *" if star else "from django.conf.urls import include, patterns, url"
    result = run(tmp_path, {
        "news/__init__.py": "",
        "news/views.py": OLD_DJANGO_VIEWS,
        "news/urls.py": f"""
{head}

urlpatterns = patterns('news.views',
    url(r'^feed/$', 'feed', name='feed'),
    (r'^latest/$', 'latest'),
)
""",
        "urls.py": f"""
{head}

urlpatterns = patterns('',
    (r'^news/', include('news.urls')),
    url(r'^api/feed\\.js$', 'news.views.feed_js'),
)
""",
    })
    assert {name: e.route for name, e in handlers(result).items()} == {
        "feed": "/news/feed/",
        "latest": "/news/latest/",
        "feed_js": "/api/feed.js",
    }


MIXIN_VIEWS = """
import json
from django.http import HttpResponse
from django.views.generic import DetailView, RedirectView, TemplateView

from news.models import Story


class JSONPResponseMixin(object):
    def render_to_response(self, context, **response_kwargs):
        callback = self.request.GET.get("callback", "callback")
        body = json.dumps(self.get_data(context))
        return HttpResponse("%s(%s)" % (callback, body), content_type="application/javascript", **response_kwargs)

    def get_data(self, context):
        return context


class HeadlinesView(JSONPResponseMixin, TemplateView):
    template_name = "unused.html"


class StoryView(JSONPResponseMixin, DetailView):
    model = Story


class Elsewhere(JSONPResponseMixin, RedirectView):
    url = "/"

"""


def test_django_generic_views_answering_through_a_jsonp_mixin(tmp_path: Path) -> None:
    """The Django docs' JSONResponseMixin pattern, padded: TemplateView/DetailView subclasses answer GET through the
    library's `get`, which calls the mixin's render_to_response. The views are the handlers (at their class line,
    with their urls.py routes); the mixin is their helper. A RedirectView never renders."""
    result = run(tmp_path, {
        "news/__init__.py": "",
        "news/models.py": "class Story:\n    pass\n",
        "news/views.py": MIXIN_VIEWS,
        "news/urls.py": """
            from django.urls import path
            from news.views import HeadlinesView, StoryView

            urlpatterns = [
                path("headlines/", HeadlinesView.as_view()),
                path("story/<int:pk>/", StoryView.as_view()),
            ]
        """,
    })
    rows = {(e.function, e.role): (e.line, e.route, e.confidence) for e in result.endpoints}
    assert rows == {
        ("JSONPResponseMixin.render_to_response", "helper"): (9, None, "medium"),
        ("HeadlinesView.get", "handler"): (18, "/headlines/", "high"),
        ("StoryView.get", "handler"): (22, "/story/<int:pk>/", "high"),
    }


def test_rewriting_the_mixin_migrates_the_views_inheriting_it(tmp_path: Path) -> None:
    from jsonp2cors.rewrite import plan

    result = run(tmp_path, {"news/__init__.py": "", "news/models.py": "class Story:\n    pass\n",
                            "news/views.py": MIXIN_VIEWS})
    rewrite = plan(result, tmp_path)
    assert not rewrite.declined
    assert sorted(m.what for m in rewrite.endpoints_migrated()) == [
        "endpoint HeadlinesView.get", "endpoint JSONPResponseMixin.render_to_response", "endpoint StoryView.get"
    ]
    (edit,) = rewrite.edits
    assert b"callback" not in edit.after and b"application/json" in edit.after


def test_django_urls_included_as_a_module_object_and_twice(tmp_path: Path) -> None:
    """`include(news_urls)` (the module imported) keeps its prefix, and a urls module included under two prefixes
    answers at both."""
    result = run(tmp_path, {
        "news/__init__.py": "",
        "news/views.py": """
            import json
            from django.http import HttpResponse

            def feed(request):
                cb = request.GET.get("callback")
                return HttpResponse("%s(%s)" % (cb, json.dumps([1])), content_type="application/javascript")
        """,
        "news/urls.py": """
            from django.urls import path
            from news import views

            urlpatterns = [path("feed/", views.feed)]
        """,
        "site/__init__.py": "",
        "site/urls.py": """
            from django.urls import include, path
            from news import urls as news_urls

            urlpatterns = [
                path("news/", include(news_urls)),
                path("v2/news/", include("news.urls")),
            ]
        """,
    })
    feed = handlers(result)["feed"]
    assert (feed.route, feed.routes) == ("/news/feed/", ("/news/feed/", "/v2/news/feed/"))


def test_python2_views_get_routes_from_readable_url_tables(tmp_path: Path) -> None:
    """Views only the token pass can read (Python 2) get their routes from the url modules Python 3 reads: a
    Django patterns() table under the site's include(), a Tornado Application naming a handler class."""
    result = run(tmp_path, {
        "news/__init__.py": "",
        "news/views.py": """
            from django.http import HttpResponse
            from django.utils import simplejson

            def feed(request):
                cb = request.GET.get('callback')
                print "feed requested"
                return HttpResponse('%s(%s)' % (cb, simplejson.dumps([1])), content_type='application/javascript')
        """,
        "news/urls.py": """
            from django.conf.urls import patterns, url

            urlpatterns = patterns('news.views',
                url(r'^feed/$', 'feed'),
            )
        """,
        "site/__init__.py": "",
        "site/urls.py": """
            from django.conf.urls import include, patterns

            urlpatterns = patterns('', (r'^news/', include('news.urls')))
        """,
        "live/__init__.py": "",
        "live/handlers.py": """
            import json
            import tornado.web

            class ScoreHandler(tornado.web.RequestHandler):
                def get(self):
                    cb = self.get_argument("callback")
                    print "score"
                    self.write("%s(%s)" % (cb, json.dumps({"home": 1})))
        """,
        "live/app.py": """
            import tornado.web
            from live.handlers import ScoreHandler

            application = tornado.web.Application([(r"/score", ScoreHandler)])
        """,
    })
    rows = {e.function: (e.route, e.confidence) for e in result.endpoints}
    assert rows == {"feed": ("/news/feed/", "low"), "ScoreHandler.get": ("/score", "low")}
    assert {e.file for e in result.errors} == {"news/views.py", "live/handlers.py"}


def test_python2_views_padded_by_a_decorator_of_a_readable_module(tmp_path: Path) -> None:
    """Python 2 views (token level) decorated with a padding decorator defined in a module Python 3 reads — also
    one that only passes the view on to it — are handlers, with the decorator's callback parameter, their route
    from urls.py and the decorator module's framework; an undecorated view and one with another decorator are
    not."""
    result = run(tmp_path, {
        "app/__init__.py": "",
        "app/utils.py": """
            import json
            from functools import wraps
            from django.http import HttpResponse

            def jsonp(view):
                @wraps(view)
                def wrapper(request, *args, **kwargs):
                    data = view(request, *args, **kwargs)
                    cb = request.GET.get("jsoncallback")
                    return HttpResponse("%s(%s)" % (cb, json.dumps(data)), content_type="application/javascript")
                return wrapper

            def api(view):
                return jsonp(view)
        """,
        "app/views.py": """
            from django.views.decorators.cache import never_cache
            from app.utils import jsonp as padded

            @padded
            def feed(request):
                print "feed"
                return {"items": []}

            from app.utils import api

            @api
            def items(request):
                print "items"
                return []

            @never_cache
            def page(request):
                print "page"
                return {}

            def plain(request):
                return {}
        """,
        "app/urls.py": """
            from django.conf.urls import patterns, url

            urlpatterns = patterns('app.views', url(r'^feed/$', 'feed'), url(r'^page/$', 'page'))
        """,
    })
    rows = {e.function: (e.route, e.callback_params, e.confidence, e.recognised_by, e.framework)
            for e in result.endpoints if e.file == "app/views.py"}
    assert rows == {
        "feed": ("/feed/", ("jsoncallback",), "low", "decorator:jsonp", "django"),
        "items": (None, ("jsoncallback",), "low", "decorator:api", "django"),
    }
    # the decorators are the helpers, `api` too (it only passes the view on)
    assert {e.function: e.role for e in result.endpoints if e.file == "app/utils.py"} == {
        "jsonp": "helper", "api": "helper"
    }


def test_flask_g_set_by_a_hook_in_another_module(tmp_path: Path) -> None:
    """`g.callback = request.args.get("jsonp")` in the package's before_request hook, `g.callback` padded by a
    helper module, the helper called by a view module: the view is the handler and the parameter is the hook's
    `jsonp` (not the attribute's name)."""
    result = run(tmp_path, {
        "app/__init__.py": """
            from flask import Flask, g, request

            app = Flask(__name__)

            @app.before_request
            def remember_callback():
                g.callback = request.args.get("jsonp")

            from app import views  # noqa
        """,
        "app/render.py": """
            import json
            from flask import Response, g

            def reply(data):
                body = json.dumps(data)
                if g.callback:
                    return Response("%s(%s)" % (g.callback, body), mimetype="application/javascript")
                return Response(body, mimetype="application/json")
        """,
        "app/views.py": """
            from app import app
            from app.render import reply

            @app.route("/feed")
            def feed():
                return reply({"items": []})
        """,
    })
    rows = {e.function: (e.file, e.role, e.route, e.callback_params) for e in result.endpoints}
    assert rows == {
        "reply": ("app/render.py", "helper", None, ("jsonp",)),
        "feed": ("app/views.py", "handler", "/feed", ("jsonp",)),
    }


_DJANGO_URLS = """
from django.urls import path
from shop import views

urlpatterns = [
    path("api/products/", views.products),
    path("api/orders/", views.Orders.as_view()),
    path("", views.home),
]
"""
_DJANGO_VIEWS = """
from django.http import JsonResponse
from django.shortcuts import render
from django.views import View


def products(request):
    return JsonResponse({"products": []})


class Orders(View):
    def get(self, request):
        return JsonResponse({"orders": []})


def home(request):
    return render(request, "home.html")
"""


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    ("setting", "middleware"),
    [
        (
            "MIDDLEWARE",
            """
            class Padding:
                def __init__(self, get_response):
                    self.get_response = get_response

                def __call__(self, request):
                    response = self.get_response(request)
                    cb = request.GET.get("callback")
                    if cb and response["Content-Type"].startswith("application/json"):
                        response.content = b"%s(%s)" % (cb.encode(), response.content)
                    return response
            """,
        ),
        (
            "MIDDLEWARE_CLASSES",
            """
            class Padding(object):
                def process_response(self, request, response):
                    cb = request.GET.get("cb")
                    if cb:
                        response.content = "%s(%s)" % (cb, response.content)
                    return response
            """,
        ),
    ],
)
def test_a_django_middleware_in_settings_pads_every_json_view(
    tmp_path: Path, setting: str, middleware: str, jobs: int
) -> None:
    """A padding middleware listed in the settings wraps every Django view: the JSON ones, found through the url
    tables although no file but the middleware names a callback, are endpoints (medium); an HTML view is not."""
    files = {
        "proj/__init__.py": "",
        "proj/settings.py": f'{setting} = [\n    "django.middleware.common.CommonMiddleware",\n'
        '    "proj.middleware.Padding",\n]\nROOT_URLCONF = "proj.urls"\n',
        "proj/middleware.py": middleware,
        "proj/urls.py": _DJANGO_URLS,
        "shop/__init__.py": "",
        "shop/views.py": _DJANGO_VIEWS,
    }
    result = run(tmp_path, files, jobs)
    found = {e.function: e for e in result.endpoints}
    assert found["products"].route == "/api/products/" and found["products"].confidence == "medium"
    assert found["Orders.get"].route == "/api/orders/"
    assert "home" not in found
    assert {e.role for e in result.endpoints if e.file == "proj/middleware.py"} == {"helper"}


def test_a_django_middleware_that_does_not_pad_leaves_the_views_alone(tmp_path: Path) -> None:
    files = {
        "proj/settings.py": 'MIDDLEWARE = ["proj.middleware.Timing"]\n',
        "proj/middleware.py": """
            import time

            class Timing:
                def __init__(self, get_response):
                    self.get_response = get_response

                def __call__(self, request):
                    started = time.monotonic()
                    response = self.get_response(request)
                    response["X-Callback-Time"] = "%s(%s)" % ("took", time.monotonic() - started)
                    return response
            """,
        "proj/urls.py": _DJANGO_URLS,
        "shop/views.py": _DJANGO_VIEWS,
    }
    assert run(tmp_path, files).endpoints == ()


def test_a_wsgi_middleware_around_the_django_app_pads_every_json_view(tmp_path: Path) -> None:
    """wsgi.py's `application = Middleware(get_wsgi_application())` with a padding `__call__` acts like
    middleware in the settings: the JSON views are endpoints, and the installing line is no handler of its own."""
    files = {
        "proj/__init__.py": "",
        "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
        "proj/wsgi.py": """
            import os
            from urllib.parse import parse_qs
            from django.core.wsgi import get_wsgi_application

            class Wrapper:
                def __init__(self, app):
                    self.app = app

                def __call__(self, environ, start_response):
                    cb = parse_qs(environ.get("QUERY_STRING", "")).get("callback", [None])[0]
                    body = b"".join(self.app(environ, start_response))
                    return [cb.encode() + b"(" + body + b")"] if cb else [body]

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            application = Wrapper(get_wsgi_application())
            """,
        "proj/urls.py": _DJANGO_URLS,
        "shop/__init__.py": "",
        "shop/views.py": _DJANGO_VIEWS,
    }
    found = {e.function: e for e in run(tmp_path, files).endpoints}
    assert found["products"].route == "/api/products/" and found["products"].confidence == "medium"
    assert found["Wrapper.__call__"].role == "helper"
    assert "<module>" not in found and "home" not in found
