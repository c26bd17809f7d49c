"""Hypothesis: whatever JSONP-ish Python goes in, the rewrite never hands back code that does not parse."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsonp2cors.findings import Endpoint
from jsonp2cors.rewrite.python import rewrite_python

PARAMS = st.sampled_from(["callback", "jsonp", "cb"])
NAMES = st.sampled_from(["callback", "cb", "fn", "jsonp_name"])
READS = st.sampled_from([
    'request.args.get("{p}")', 'request.args.get("{p}", "cb")', 'request.values["{p}"]',
    'request.args.get("{p}") or "x"', 'request.args.get("{p}", "").strip()', 'getattr(request.args, "{p}", None)',
])
DATA = st.sampled_from(["json.dumps(data)", "body", "str(data)", "data", "json.dumps(data, indent=2)"])
PADS = st.sampled_from([
    '"%s(%s)" % ({cb}, {d})', '{cb} + "(" + {d} + ")"', 'f"{{{cb}}}({{{d}}})"', '"{{}}({{}});".format({cb}, {d})',
    '"".join([{cb}, "(", {d}, ")"])', '"%s(%r)" % ({cb}, {d})', '"/**/ " + {cb} + "(" + {d} + ");"',
])
TESTS = st.sampled_from(["{cb}", "not {cb}", "{cb} is None", "{cb} and flag", "{cb} or flag", "len({cb}) > 2",
                         '"{p}" in request.args', "flag"])
RESPONSES = st.sampled_from(['Response({x}, mimetype="application/javascript")', "{x}",
                             'make_response({x})', 'Response(response={x}, status=200)'])
SHAPES = st.sampled_from(["if-return", "if-else", "always", "ifexp", "assign-then-return", "nested"])


def build(shape: str, read: str, name: str, pad: str, test: str, response: str) -> str:
    padded = response.format(x=pad)
    plain = response.format(x="json.dumps(data)")
    lines = [
        "import json",
        "from flask import Flask, Response, make_response, request",
        "app = Flask(__name__)",
        "flag = True",
        "",
        '@app.route("/api/x")',
        "def view():",
        '    data = {"a": 1}',
        "    body = json.dumps(data)",
        f"    {name} = {read}",
    ]
    if shape == "if-return":
        lines += [f"    if {test}:", f"        return {padded}", f"    return {plain}"]
    elif shape == "if-else":
        lines += [f"    if {test}:", f"        out = {padded}", "    else:", f"        out = {plain}", "    return out"]
    elif shape == "always":
        lines += [f"    return {padded}"]
    elif shape == "ifexp":
        lines += [f"    return {padded} if {test} else {plain}"]
    elif shape == "assign-then-return":
        lines += [f"    text = {pad}", "    return Response(text, mimetype='text/javascript')"]
    else:
        lines += ["    for _ in range(1):", f"        if {test}:", "            pass", f"        elif {test}:",
                  f"            return {padded}", f"    return {plain}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPES, READS, PARAMS, NAMES, PADS, DATA, TESTS, RESPONSES)
def test_rewrite_always_parses(shape: str, read: str, param: str, name: str, pad: str, data: str, test: str,
                               response: str) -> None:
    source = build(shape, read.format(p=param), name, pad.format(cb=name, d=data), test.format(cb=name, p=param),
                   response)
    ast.parse(source)
    result = rewrite_python(source, [Endpoint("app.py", 7, "view", "flask", callback_params=(param,))])
    ast.parse(result.text)
    if result.text == source:
        assert result.declined or result.covered, "an untouched endpoint must say why"
    else:
        assert result.changed


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400), st.integers(min_value=1, max_value=12))
def test_arbitrary_text_never_crashes(text: str, line: int) -> None:
    result = rewrite_python(text, [Endpoint("x.py", line, "view", "generic")])
    if result.text != text:
        ast.parse(result.text)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_mutated_fixture_sources_never_yield_broken_python(data: st.DataObject) -> None:
    source = build("if-return", 'request.args.get("callback")', "callback",
                   '"%s(%s)" % (callback, json.dumps(data))', "callback",
                   'Response({x}, mimetype="application/javascript")')
    lines = source.splitlines(keepends=True)
    index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    cut = data.draw(st.integers(min_value=0, max_value=len(lines[index])))
    mutated = "".join(lines[:index]) + lines[index][:cut] + data.draw(st.sampled_from(["", "(", ")", ":", " or x",
                                                                                        "\n    pass"])) + \
        lines[index][cut:] + "".join(lines[index + 1:])
    result = rewrite_python(mutated, [Endpoint("app.py", 7, "view", "flask")])
    if result.text != mutated:
        ast.parse(result.text)


# ---------------------------------------------------------------------------------- JavaScript / markup
from jsonp2cors.findings import Consumer  # noqa: E402
from jsonp2cors.rewrite.javascript import error_count, parser, rewrite_js  # noqa: E402
from jsonp2cors.rewrite.markup import rewrite_markup  # noqa: E402

JS_CALLS = st.sampled_from([
    '$.ajax({url: {u}, dataType: "jsonp"{extra}});',
    '$.getJSON({u}, function (d) {{ show(d); }});',
    '$http.jsonp({u}{cfg}).then(function (r) {{ show(r.data); }});',
    'var s = document.createElement("script"); s.src = {u}; document.head.appendChild(s);',
    'fetchJsonp({u}{cfg}).then((r) => r.json());',
])
URLS = st.sampled_from(['"/api/x?callback=?"', '"/api/x?a=1&callback=show"', '"/api/x?callback=show&b=2"',
                        'base + "/x?cb=" + name', '`/api/${id}?callback=show`', 'url', '"/api/x"',
                        'API + "/w?callback=JSON_CALLBACK"'])
EXTRAS = st.sampled_from(["", ', jsonp: "cb"', ', jsonpCallback: "show"', ', jsonp: "cb", success: fn',
                          ', xhrFields: {withCredentials: true}'])
CONFIGS = st.sampled_from(["", ", {}", ", { jsonpCallbackParam: 'callback' }", ", cfg", ", {timeout: 5}"])
KINDS = {"$.ajax": "jquery-ajax", "$.getJSON": "jquery-getjson", "$http": "angular-jsonp",
         "var s": "dynamic-script", "fetchJsonp": "other"}


@settings(max_examples=60, deadline=None)
@given(JS_CALLS, URLS, EXTRAS, CONFIGS, st.sampled_from([True, False, None]), st.integers(0, 3))
def test_js_rewrite_never_breaks_parsing(call: str, url: str, extra: str, cfg: str, creds: bool | None,
                                         pad: int) -> None:
    code = call.replace("{u}", url).replace("{extra}", extra).replace("{cfg}", cfg).replace("{{", "{").replace(
        "}}", "}")
    source = "\n" * pad + "(function () {\n  " + code + "\n})();\n"
    if error_count(parser().parse(source.encode())):
        return
    kind = next(v for k, v in KINDS.items() if code.startswith(k))
    detail = "fetch-jsonp" if kind == "other" else None
    consumer = Consumer("a.js", pad + 2, kind, callback_param="callback", credentials=creds, detail=detail,
                        endpoint=None)
    result = rewrite_js(source, [consumer])
    assert error_count(parser().parse(result.text.encode())) == 0, result.text
    assert bool(result.changed) != bool(result.declined or result.covered) or result.covered
    again = rewrite_js(result.text, [consumer])
    assert again.text == result.text or again.declined


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.integers(1, 6), st.sampled_from(["script-tag", "jquery-ajax", "dynamic-script"]))
def test_markup_rewrite_never_crashes(text: str, line: int, kind: str) -> None:
    page = "<html>\n" + text + '\n<script src="/api/x?callback=show"></script>\n<script>' + text + "</script>\n"
    result = rewrite_markup(page, [Consumer("p.html", line, kind, callback="show", callback_param="callback")])
    assert isinstance(result.text, str)
    if result.text != page:
        assert result.changed
