"""Project-wide steps of the plan: Pyramid's JSONP renderer registration, helpers in other modules, --only."""

from __future__ import annotations

from pathlib import Path

from jsonp2cors.findings import Consumer, Endpoint, ScanResult
from jsonp2cors.rewrite import plan
from jsonp2cors.rewrite.render import diff_text

INIT = '''from pyramid.config import Configurator
from pyramid.renderers import JSONP


def main(global_config=None, **settings):
    config = Configurator(settings=settings)
    config.add_renderer("jsonp", JSONP(param_name="callback"))
    config.add_route("headlines", "/api/headlines")
    config.scan(".views")
    return config.make_wsgi_app()
'''
VIEWS = '''from pyramid.view import view_config


@view_config(route_name="headlines", renderer="jsonp")
def headlines(request):
    return {"headlines": ["a"]}
'''
OTHER = '''from pyramid.view import view_config


@view_config(route_name="legacy", renderer="jsonp")
def legacy(request):
    return {"legacy": True}
'''


def _pyramid(tmp_path: Path, *, extra_view: bool) -> ScanResult:
    package = tmp_path / "newsroom"
    package.mkdir()
    (package / "__init__.py").write_text(INIT, encoding="utf-8")
    (package / "views.py").write_text(VIEWS, encoding="utf-8")
    if extra_view:
        (package / "other.py").write_text(OTHER, encoding="utf-8")
    return ScanResult(endpoints=(Endpoint("newsroom/views.py", 5, "headlines", "pyramid",
                                          recognised_by="pyramid-jsonp-renderer"),))


def test_unused_jsonp_renderer_registration_is_removed(tmp_path: Path) -> None:
    rewrite = plan(_pyramid(tmp_path, extra_view=False), tmp_path)
    after = {e.rel: e.after.decode() for e in rewrite.edits}
    assert 'renderer="json"' in after["newsroom/views.py"]
    init = after["newsroom/__init__.py"]
    assert "add_renderer" not in init and "JSONP" not in init
    assert 'config.add_route("headlines", "/api/headlines")' in init
    compile(init, "__init__.py", "exec")


def test_registration_stays_while_another_view_uses_it(tmp_path: Path) -> None:
    rewrite = plan(_pyramid(tmp_path, extra_view=True), tmp_path)
    assert [e.rel for e in rewrite.edits] == ["newsroom/views.py"]


def test_helper_in_another_module_covers_its_callers(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "import json\nfrom flask import Response, request\n\n\ndef jsonp(payload):\n"
        "    cb = request.args.get('callback')\n    body = json.dumps(payload)\n    if cb:\n"
        "        return Response(cb + '(' + body + ')', mimetype='application/javascript')\n"
        "    return Response(body, mimetype='application/json')\n", encoding="utf-8")
    views = "from flask import Flask\n\nfrom helpers import jsonp\n\napp = Flask(__name__)\n\n\n" \
            "@app.route('/w')\ndef weather():\n    return jsonp({'city': 'Berlin'})\n"
    (tmp_path / "views.py").write_text(views, encoding="utf-8")
    result = ScanResult(endpoints=(
        Endpoint("helpers.py", 5, "jsonp", "flask", role="helper"),
        Endpoint("views.py", 9, "weather", "flask", recognised_by="helper:jsonp"),
    ))
    rewrite = plan(result, tmp_path)
    assert [e.rel for e in rewrite.edits] == ["helpers.py"]
    assert {m.what for m in rewrite.endpoints_migrated()} == {"endpoint jsonp", "endpoint weather"}
    assert not rewrite.declined


def test_only_and_colour(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text('<script src="/w?callback=show"></script>\n', encoding="utf-8")
    (tmp_path / "app.js").write_text('$.getJSON("/q?callback=?", show);\n', encoding="utf-8")
    result = ScanResult(consumers=(
        Consumer("page.html", 1, "script-tag", url="/w?callback=show", callback="show", callback_param="callback"),
        Consumer("app.js", 1, "jquery-getjson", url="/q?callback=?", callback="?", callback_param="callback"),
    ))
    assert [e.rel for e in plan(result, tmp_path, only={"js"}).edits] == ["app.js"]
    assert [e.rel for e in plan(result, tmp_path, only={"markup"}).edits] == ["page.html"]
    assert not plan(result, tmp_path, only={"python"}).edits
    edits = plan(result, tmp_path).edits
    coloured = diff_text(edits, color=True)
    assert "\x1b[32m+" in coloured and "\x1b[31m-" in coloured
    assert "\x1b[" not in diff_text(edits)


def test_minified_and_not_migratable_are_never_edited(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.js").write_text('$.getJSON("/q?callback=?", f);\n', encoding="utf-8")
    (tmp_path / "app.min.js").write_text('$.getJSON("/q?callback=?", f);\n', encoding="utf-8")
    (tmp_path / "page.html").write_text(
        '<script src="https://maps.googleapis.com/maps/api/js?callback=initMap"></script>\n', encoding="utf-8")
    result = ScanResult(consumers=(
        Consumer("vendor/lib.js", 1, "jquery-getjson", callback_param="callback"),
        Consumer("app.min.js", 1, "jquery-getjson", callback_param="callback"),
        Consumer("page.html", 1, "script-tag", callback="initMap", migratable=False, detail="Google Maps loader"),
    ))
    rewrite = plan(result, tmp_path)
    assert not rewrite.edits
    assert sorted(d.file for d in rewrite.declined) == ["app.min.js", "page.html", "vendor/lib.js"]


def test_wrapper_call_sites_wait_for_their_wrapper(tmp_path: Path) -> None:
    (tmp_path / "lib.js").write_text(
        'function getRemoteData(url, onData) {\n  var s = document.createElement("script");\n'
        '  s.src = url + "?callback=cb";\n  s.onerror = function () {};\n  document.head.appendChild(s);\n}\n',
        encoding="utf-8")
    (tmp_path / "use.js").write_text(
        'getRemoteData("/api/a?jsoncallback=", show);\n$.getJSON("/api/q?callback=?", show);\n', encoding="utf-8")
    result = ScanResult(consumers=(
        Consumer("lib.js", 2, "dynamic-script", detail="inside JSONP wrapper getRemoteData"),
        Consumer("use.js", 1, "dynamic-script", callback_param="jsoncallback",
                 detail="call of JSONP wrapper getRemoteData (lib.js:1)"),
        Consumer("use.js", 2, "jquery-getjson", callback_param="callback"),
    ))
    rewrite = plan(result, tmp_path)
    assert [e.rel for e in rewrite.edits] == ["use.js"]
    after = rewrite.edits[0].after.decode()
    assert 'getRemoteData("/api/a?jsoncallback=", show);' in after  # the wrapper still pads: keep its URL
    assert '$.getJSON("/api/q", show);' in after
    reasons = {(d.file, d.line): d.reason for d in rewrite.declined}
    assert "not rewritten" in reasons[("use.js", 1)]
    assert "onerror" in reasons[("lib.js", 2)]


def test_handlers_of_a_declined_helper_are_declined_too(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "from flask import Response, request\n\n\ndef jsonp(text):\n    cb = request.args.get('callback')\n"
        "    if len(cb or '') > 3 and cb.isidentifier():\n"
        "        return Response(cb + '(' + text + ')', mimetype='application/javascript')\n"
        "    return Response(text, mimetype='application/json')\n", encoding="utf-8")
    (tmp_path / "views.py").write_text("from helpers import jsonp\n\n\ndef weather():\n    return jsonp('{}')\n",
                                       encoding="utf-8")
    result = ScanResult(endpoints=(
        Endpoint("helpers.py", 4, "jsonp", "flask", role="helper"),
        Endpoint("views.py", 4, "weather", "flask", recognised_by="helper:jsonp"),
    ))
    rewrite = plan(result, tmp_path)
    assert not rewrite.edits and not rewrite.endpoints_migrated()
    assert sorted(d.file for d in rewrite.declined) == ["helpers.py", "views.py"]


def test_same_helper_name_elsewhere_does_not_decline_a_covered_handler(tmp_path: Path) -> None:
    helper = ("import json\nfrom flask import Response, request\n\n\ndef jsonp(payload):\n"
              "    cb = request.args.get('callback')\n    body = json.dumps(payload)\n    if cb:\n"
              "        return Response(cb + '(' + body + ')', mimetype='application/javascript')\n"
              "    return Response(body, mimetype='application/json')\n")
    for folder in ("app", "tests"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "helpers.py").write_text(helper, encoding="utf-8")
    (tmp_path / "app" / "views.py").write_text(
        "from helpers import jsonp\n\n\ndef weather():\n    return jsonp({})\n", encoding="utf-8")
    result = ScanResult(endpoints=(
        Endpoint("app/helpers.py", 5, "jsonp", "flask", role="helper"),
        Endpoint("tests/helpers.py", 5, "jsonp", "flask", role="helper", test_code=True),
        Endpoint("app/views.py", 4, "weather", "flask", recognised_by="helper:jsonp"),
    ))
    rewrite = plan(result, tmp_path)
    assert [e.rel for e in rewrite.edits] == ["app/helpers.py"]
    assert ("app/views.py", "endpoint weather") in {(m.file, m.what) for m in rewrite.endpoints_migrated()}
    assert [d.file for d in rewrite.declined] == ["tests/helpers.py"]
