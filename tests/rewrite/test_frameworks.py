"""The rewritten case apps import and their endpoints answer application/json through each framework's client.

Old callers still send `?callback=`: without the shim in front, the rewritten endpoint answers plain JSON.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import sys
from collections.abc import Callable, Coroutine, Iterable
from types import ModuleType
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from tests.rewrite.cases_support import CASES


def load(case: str) -> ModuleType:
    path = CASES / case / "after.py"
    name = f"_rewritten_{case}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def wsgi_get(app: Callable[..., Iterable[bytes]], path: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"], _, environ["QUERY_STRING"] = path.partition("?")
    environ["wsgi.input"] = io.BytesIO(b"")
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, {k.lower(): v for k, v in headers}

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def run_async(factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """asyncio.run in a thread of its own: Playwright's sync API may already run a loop in this one."""
    import threading

    failures: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as exc:  # handed back to the test thread
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=120)
    if failures:
        raise failures[0]


def assert_json(content_type: str, body: bytes | str) -> Any:
    assert content_type.split(";")[0].strip() == "application/json", content_type
    return json.loads(body)


@pytest.mark.parametrize(("case", "paths"), [
    ("flask_if_callback", ["/api/weather?callback=show", "/api/weather"]),
    ("flask_always_padded", ["/api/news?callback=show", "/api/news"]),
    ("flask_local_helper", ["/api/weather?callback=show", "/api/quote"]),
    ("flask_decorator", ["/api/user?callback=show"]),
    ("flask_snippets", ["/json-data/?callback=show"]),
])
def test_flask_apps(case: str, paths: list[str]) -> None:
    app = load(case).app
    client = app.test_client()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        assert_json(response.content_type, response.data)


@pytest.mark.parametrize(("case", "path"), [("flask_after_request", "/widgets/cities?cb=show"),
                                            ("flask_jsonpify", "/quote?callback=show")])
def test_flask_blueprints(case: str, path: str) -> None:
    from flask import Flask

    app = Flask(case)
    app.register_blueprint(load(case).bp)
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert_json(response.content_type, response.data)


def test_django_views() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=True, SECRET_KEY="test", ALLOWED_HOSTS=["*"], INSTALLED_APPS=[])
    import django

    django.setup()
    from django.test import RequestFactory

    class Reader:
        def get_username(self) -> str:
            return ""

    module = load("django_views")
    factory = RequestFactory()
    assert assert_json(module.headlines(factory.get("/h", {"callback": "x"}))["Content-Type"],
                       module.headlines(factory.get("/h")).content) == ["Heatwave", "Bike lanes"]
    story = module.story(factory.get("/s", {"jsonp": "x"}), "1")
    assert assert_json(story["Content-Type"], story.content) == {"title": "Heatwave"}
    latest = module.latest(factory.get("/l", {"callback": "x"}))
    assert assert_json(latest["Content-Type"], latest.content) == {"title": "Heatwave"}
    request = factory.get("/p", {"callback": "x"})
    request.user = Reader()
    profile = module.ProfileView.as_view()(request)
    assert assert_json(profile["Content-Type"], profile.content) == {"name": ""}


def test_bottle_app() -> None:
    app = load("bottle_return_dict").app
    for path in ("/api/weather?callback=show", "/api/cities?callback=show"):
        status, headers, body = wsgi_get(app, path)
        assert status.startswith("200")
        assert_json(headers["content-type"], body)


def test_wsgi_app() -> None:
    status, headers, body = wsgi_get(load("wsgi_raw").application, "/?callback=show")
    assert status.startswith("200")
    assert assert_json(headers["content-type"], body)["city"] == "Berlin"


def test_pyramid_view() -> None:
    from pyramid.config import Configurator

    module = load("pyramid_renderer")
    with Configurator() as config:
        config.add_route("weather", "/api/weather")
        config.add_route("home", "/")
        config.scan(module)
        app = config.make_wsgi_app()
    status, headers, body = wsgi_get(app, "/api/weather?callback=show")
    assert status.startswith("200")
    assert assert_json(headers["content-type"], body)["city"] == "Berlin"


def test_falcon_resource() -> None:
    from falcon import testing

    client = testing.TestClient(load("falcon_media").app)
    result = client.simulate_get("/api/weather", params={"callback": "show"})
    assert result.status_code == 200
    assert assert_json(result.headers["content-type"], result.content)["city"] == "Berlin"


def test_starlette_app() -> None:
    from starlette.testclient import TestClient

    client = TestClient(load("starlette_json_response").app)
    for path in ("/api/weather?callback=show", "/api/account?callback=show"):
        response = client.get(path)
        assert response.status_code == 200
        assert_json(response.headers["content-type"], response.content)


def test_aiohttp_handlers() -> None:
    from aiohttp.test_utils import make_mocked_request

    module = load("aiohttp_json_response")

    async def run() -> None:
        for handler, path in ((module.weather, "/api/weather?callback=show"), (module.news, "/api/news")):
            response = await handler(make_mocked_request("GET", path))
            assert response.status == 200
            assert_json(response.content_type, response.text)

    run_async(run)


def test_cherrypy_handler() -> None:
    import cherrypy

    module = load("cherrypy_json_out")
    assert module.Api().weather(callback="show") == {"city": "Berlin", "high": 21}
    config = getattr(module.Api.weather, "_cp_config", {})
    assert config.get("tools.json_out.on") is True
    assert cherrypy.tools.json_out is not None


@pytest.mark.slow
def test_tornado_handler() -> None:
    from tornado.httpclient import AsyncHTTPClient

    module = load("tornado_write")

    async def run() -> None:
        app = module.make_app()
        server = app.listen(0, address="127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        try:
            response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/api/weather?callback=show")
            assert_json(response.headers["Content-Type"], response.body)
        finally:
            server.stop()

    run_async(run)
