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
