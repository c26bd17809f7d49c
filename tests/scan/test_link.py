"""URL parsing of consumer URLs and linking consumers to endpoint routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from jsonp2cors.findings import Consumer, Endpoint, EndpointRef, ScanResult
from jsonp2cors.scan import scan
from jsonp2cors.scan.link import callback_in_query, jquery_placeholder, link_consumers, parse_url


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.Example.com/x", "https://api.example.com"),
        ("https://api.example.com:443/x", "https://api.example.com"),
        ("http://api.example.com:80", "http://api.example.com"),
        ("http://api.example.com:8080/?a=1", "http://api.example.com:8080"),
        ("https://user:pw@api.example.com/x", "https://api.example.com"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("//api.example.com/x", None),
        ("/api/x", None),
        ("{{ base }}/x", None),
        ("https://{{ host }}/x", None),
        ("https://api-{{ env }}.example.com/x", None),
        ("<?php echo $host ?>/x?callback=y", None),
    ],
)
def test_origin(url: str, origin: str | None) -> None:
    assert parse_url(url).origin == origin


def test_query_ignores_question_marks_inside_template_code() -> None:
    parts = parse_url("<?php echo $base ?>/api/x?cb=<?= $name ?>&amp;n=1")
    assert parts.path.endswith("/api/x") and parts.templated_prefix
    assert parts.query == (("cb", "<?= $name ?>"), ("n", "1"))
    assert callback_in_query(parts, ("callback", "cb")) == ("cb", "<?= $name ?>")


def test_jquery_placeholder() -> None:
    assert jquery_placeholder(parse_url("/x?a=1&jsoncallback=?")) == "jsoncallback"
    assert jquery_placeholder(parse_url("/x??")) == "callback"
    assert jquery_placeholder(parse_url("/x?callback=fn")) is None


ENDPOINTS = [
    Endpoint("flask/api.py", 10, "weather", "flask", "/api/weather"),
    Endpoint("flask/api.py", 20, "stocks", "flask", "/api/stocks/<symbol>"),
    Endpoint("flask/api.py", 30, "profile", "flask", "/api/profile", credentials=True),
    Endpoint("flask/api.py", 40, "files", "flask", "/api/files/<path:name>"),
    Endpoint("django/news/views.py", 5, "story", "django", "^api/story/(?P<story_id>[0-9]+)/$"),
    Endpoint("django/news/views.py", 9, "legacy", "django", r"^legacy/weather\.js$"),
    Endpoint("django/news/views.py", 12, "headlines", "django", "/api/headlines/"),
    Endpoint("svc/app.py", 3, "city", "starlette", "/v2/weather/{city}"),
    Endpoint("svc/app.py", 7, "item", "aiohttp", "/v2/items/{id:\\d+}"),
    Endpoint("svc/app.py", 9, "helper", "generic", None, role="helper"),
]


def link(url: str, file: str = "site/page.html", migratable: bool = True) -> EndpointRef | None:
    (c,) = link_consumers(ENDPOINTS, [Consumer(file, 1, "script-tag", url, migratable=migratable)])
    return c.endpoint


@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("/api/weather?callback=f", 10),
        ("https://api.example.com/api/weather/?callback=f", 10),
        ("/api/stocks/ACME?jsoncallback=f", 20),
        ("/api/stocks/{symbol}", 20),
        ("/api/files/a/b/c.txt", 40),
        ("/api/story/12/?jsonp=f", 5),
        ("/api/story/{id}/", 5),
        ("/legacy/weather.js?callback=f", 9),
        ("/v2/weather/paris", 3),
        ("/v2/weather/:city", 3),
        ("/v2/items/42", 7),
        ("{{ api_base }}/weather?callback=f", 10),
        ("{{ base }}/stocks/{{ s }}", 20),
        ("<%= base %>/headlines/?callback=f", 12),
    ],
)
def test_route_styles(url: str, line: int) -> None:
    ref = link(url)
    assert ref is not None and ref.line == line


@pytest.mark.parametrize(
    "url",
    [
        "/api/story/abc/",  # regex wants digits
        "/v2/items/abc",
        "/api/weather/extra",
        "/other/weather",
        "/{a}",  # nothing but holes proves nothing
        "{{ url }}?callback=f",
        "https://maps.googleapis.com/maps/api/js?callback=initMap",
    ],
)
def test_no_link(url: str) -> None:
    assert link(url) is None


def test_loaders_never_link() -> None:
    assert link("/api/weather?callback=f", migratable=False) is None


def test_credentials_are_inherited() -> None:
    (c,) = link_consumers(ENDPOINTS, [Consumer("p.html", 1, "script-tag", "/api/profile?callback=f")])
    assert c.endpoint == EndpointRef("flask/api.py", 30) and c.credentials is True


def test_reversed_url_names_link_within_their_framework() -> None:
    assert link("{{ url_for('api.weather') }}?callback=f") == EndpointRef("flask/api.py", 10)
    assert link("{% url 'news:headlines' %}?callback=f") == EndpointRef("django/news/views.py", 12)
    assert link("{% url 'weather' %}?callback=f") is None  # no Django view of that name


def test_ambiguous_matches_prefer_the_nearest_app_or_do_not_guess() -> None:
    endpoints = [
        Endpoint("a/app.py", 1, "w", "flask", "/api/w"),
        Endpoint("b/app.py", 2, "w", "flask", "/api/w"),
    ]
    near = link_consumers(endpoints, [Consumer("b/templates/x.html", 1, "script-tag", "/api/w?callback=f")])
    assert near[0].endpoint == EndpointRef("b/app.py", 2)
    far = link_consumers(endpoints, [Consumer("pages/x.html", 1, "script-tag", "/api/w?callback=f")])
    assert far[0].endpoint is None


def test_literal_match_beats_pattern_match() -> None:
    endpoints = [
        Endpoint("a.py", 1, "any", "flask", "/api/<name>"),
        Endpoint("a.py", 2, "w", "flask", "/api/w"),
    ]
    (c,) = link_consumers(endpoints, [Consumer("p.html", 1, "script-tag", "/api/w?callback=f")])
    assert c.endpoint == EndpointRef("a.py", 2)


@pytest.mark.parametrize(
    ("route", "path", "ok"),
    [
        ("/u/<int:uid>", "/u/12", True),
        ("/u/<int:uid>", "/u/ada", False),
        ("/u/<uid>", "/u/ada", True),
        ("/u/<slug:s>/x", "/u/a-b/x", True),
        ("/f/<path:p>", "/f/a/b", True),
        ("/f/{p:path}", "/f/a/b", True),
        ("/i/{id:\\d+}", "/i/7", True),
        ("/i/{id:\\d+}", "/i/x", False),
        ("/n/:name", "/n/x", True),
        ("/v{version}/w", "/v2/w", True),
        ("^item/(\\d+)$", "/item/3", True),
        ("/api/w.json", "/api/w.json", True),
    ],
)
def test_route_patterns(route: str, path: str, ok: bool) -> None:
    (c,) = link_consumers(
        [Endpoint("a.py", 1, "f", "flask", route)], [Consumer("p.html", 1, "script-tag", path)]
    )
    assert (c.endpoint is not None) is ok


def test_loader_table_lookup() -> None:
    from jsonp2cors.scan.loaders import LOADERS, find_loader, loader_for_global

    assert find_loader("maps.googleapis.com", "/maps/api/js") is not None
    assert find_loader("www.google.com", "/jsapi") is not None
    assert find_loader("www.google.com", "/search") is None
    assert find_loader(None, "/maps/api/js") is None
    assert loader_for_global("fbAsyncInit") is not None and loader_for_global("show") is None
    assert len({loader.name for loader in LOADERS}) == len(LOADERS)


def test_a_handler_answering_at_several_paths_links_through_any(tmp_path: Path) -> None:
    """Stacked route decorators: the scan keeps every path, and a consumer of the second one links."""
    (tmp_path / "app.py").write_text(
        "import json\nfrom flask import Flask, request\napp = Flask(__name__)\n\n"
        "@app.route('/api/weather')\n@app.route('/v1/weather/<city>')\n"
        "def weather(city=None):\n    cb = request.args.get('callback')\n"
        "    return '%s(%s)' % (cb, json.dumps({'city': city}))\n",
        encoding="utf-8",
    )
    (tmp_path / "page.html").write_text('<script src="/v1/weather/paris?callback=show"></script>\n',
                                        encoding="utf-8")
    result = scan([tmp_path])
    [endpoint] = result.endpoints
    assert endpoint.route == "/api/weather" and endpoint.routes == ("/api/weather", "/v1/weather/<city>")
    [consumer] = result.consumers
    assert consumer.endpoint == EndpointRef("app.py", endpoint.line)
    again = ScanResult.from_json(result.to_json())
    assert again.endpoints[0].routes == endpoint.routes
