"""The cheap stages in front of the parsers: the two-tier Python prefilter, parsing only the definitions that hold
a hint, the `<script>`-in-Python-strings gate, the single minified rule, and lazy loading of the parsers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.findings import Endpoint, ScanResult
from jsonp2cors.scan import files as fs
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.python import (
    _READ_HINT,
    _has_pad,
    _name_forms,
    _pad_positions,
    _padding_defs_of_text,
    _parse_units,
    _text_imports,
    _unit_bounds,
    analyze_python,
    candidate_for,
    in_a_name_form,
    signals,
)
from jsonp2cors.scan.web import analyze_python_strings, script_tag_with_query

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, src in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src).lstrip("\n"), encoding="utf-8")
    return tmp_path


def by_function(result: ScanResult) -> dict[str, Endpoint]:
    return {e.function: e for e in result.endpoints}


# ------------------------------------------------------------------------------------ two-tier prefilter
@pytest.mark.parametrize(
    "source",
    [
        'cb = request.args.get("callback")',
        "cb = request.args.get('jsoncallback')",
        "name = request.query.callback",
        "def index(self, callback=None): ...",
        "async def data(callback: str | None = None): ...",
        '@app.route("/data/<callback>")',
        'TEMPLATE = "{callback}({data})"',
        'TEMPLATE = "%(callback)s(%(data)s)"',
        "cb = request.GET['cb']",
        "def jsonp_view(f): ...",
        "x = call_back",
    ],
)
def test_callback_named_the_way_a_request_reads_it_is_a_candidate(source: str) -> None:
    assert candidate_for(ScanConfig())(source.lower().encode())


@pytest.mark.parametrize(
    "source",
    [
        "def add_done_callback(self, fn): self._callbacks.append(fn)",
        "def run(callback): return callback(1)",
        "mime = 'application/javascript'",
        "data = cbor.loads(raw)  # cb only inside other words",
        "self._callbacks.append(callback)",
    ],
)
def test_the_bare_word_alone_is_not_a_candidate(source: str) -> None:
    assert not candidate_for(ScanConfig())(source.lower().encode())


@pytest.mark.parametrize(
    "source",
    [
        "def run(callback):\n    return callback(request.args.get(KEY))",
        "resp.mimetype = 'application/javascript'\nfn = request.GET.get(PARAM)",
        "def handler(environ, callback):\n    qs = parse_qs(environ['QUERY_STRING'])",
    ],
)
def test_the_bare_word_and_a_request_read_make_a_candidate(source: str) -> None:
    assert candidate_for(ScanConfig())(source.lower().encode())


def test_configured_names_join_the_prefilter() -> None:
    config = ScanConfig(callback_params=(*ScanConfig().callback_params, "fn"), helper_names=("pad_it",))
    test = candidate_for(config)
    assert test(b'name = request.args.get("fn")')
    assert test(b"@pad_it\ndef view(): ...")
    assert not candidate_for(ScanConfig())(b'name = request.args.get("fn")')


def test_helper_whose_only_needle_is_the_bare_word_is_found_through_its_caller(tmp_path: Path) -> None:
    """helpers.py has `callback` only as a parameter name, so the prefilter drops it; the view hands it a
    request value, so the follow-up round reads it."""
    root = write(
        tmp_path,
        {
            "helpers.py": """
                import json
                def wrap(callback, payload):
                    return "%s(%s)" % (callback, json.dumps(payload))
            """,
            "views.py": """
                from flask import Flask, request
                from helpers import wrap
                app = Flask(__name__)
                @app.route("/w")
                def w():
                    return wrap(request.args.get("callback"), {"a": 1})
            """,
        },
    )
    eps = by_function(scan([root]))
    assert (eps["wrap"].file, eps["wrap"].role) == ("helpers.py", "helper")
    assert (eps["w"].route, eps["w"].role) == ("/w", "handler")


def test_library_code_with_callbacks_is_not_parsed(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            f"lib{i}.py": f"""
                class Future{i}:
                    def add_done_callback(self, callback):
                        self._callbacks.append(callback)
                    def _run(self):
                        for callback in self._callbacks:
                            callback(self)
            """
            for i in range(3)
        },
    )
    result = scan([root])
    assert result.endpoints == () and result.stats.files_parsed == 0
    assert result.stats.files_prefiltered_out == 3


@pytest.mark.parametrize(
    ("line", "reads"),
    [
        ("out = buf.getvalue()", False),
        ('cb = form.getvalue("callback")', True),
        ("when = parser.parse(text)", False),
        ('args = parser.parse({"callback": fields.Str()}, request)', True),
        ('cb = self.get_argument("callback")', True),
        ('cb = req.get_param("callback")', True),
        ('names = req.get_param_as_list("callback")', True),
        ("for param in self.get_params(ctx):", False),
        ("'ps_get_parameter', 'stream_context_get_params',", False),
    ],
)
def test_read_hints_need_a_request(line: str, reads: bool) -> None:
    assert _READ_HINT.search(line) is reads


# ------------------------------------------------------------------------ parsing only hinted definitions
BIG_MODULE = '''
import json
from flask import Flask, request
app = Flask(__name__)
TEMPLATE = "%s(%s);"


class Api:
    """Many methods; one of them pads."""

    def plain(self):
        return json.dumps({"a": 1})

    @app.route("/data")
    def data(self):
        cb = request.args.get("callback")
        return TEMPLATE % (cb, json.dumps({"a": 1}))

    def other(self):
        return [x for x in range(10)]


def unrelated(a, b):
    return a + b


@app.route("/more")
def more():
    name = request.args.get("jsonp")
    return TEMPLATE % (name, "{}")
'''


def test_big_module_with_hinted_definitions_is_found(tmp_path: Path) -> None:
    filler = "\n".join(f"def f{i}(x):\n    return x * {i}\n" for i in range(300))
    root = write(tmp_path, {"app.py": BIG_MODULE + "\n" + filler})
    eps = by_function(scan([root]))
    assert eps["Api.data"].route == "/data" and eps["more"].route == "/more"


def test_only_hinted_units_and_template_users_are_parsed() -> None:
    text = textwrap.dedent(BIG_MODULE)
    hints = [text.index("request.args"), text.rindex("request.args")]
    pads = [text.index('"%s(%s);"')]
    tree = _parse_units(text, hints, pads)
    assert tree is not None
    import ast

    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {"data", "more", "plain", "other"} <= names  # stubs keep the method names
    assert "unrelated" not in names
    plain = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "plain")
    assert isinstance(plain.body[0], ast.Pass)  # a stub, not the method's code


def test_decorators_stay_with_their_definition() -> None:
    text = "import x\n\n@a\n@b(\n  1)\ndef f():\n    pass\n\nclass C:\n    pass\n"
    bounds = _unit_bounds(text)
    assert [text[b : b + 2] for b in bounds] == ["im", "@a", "cl"]


def test_layout_the_chunker_cannot_split_falls_back_to_the_whole_module() -> None:
    source = '''
import json
from flask import request
DOC = """
def not_really_a_function(:
"""
def view():
    cb = request.args.get("callback")
    return "%s(%s)" % (cb, json.dumps({}))
def other():
    pass
'''
    found = analyze_python("app.py", source.encode(), ScanConfig())
    assert [e.function for e in found.endpoints] == ["view"]


def test_python2_outside_the_hinted_definitions_is_still_reported() -> None:
    source = '''
import json
from flask import request
def legacy():
    print "hello"
def view():
    cb = request.args.get("callback")
    return "%s(%s)" % (cb, json.dumps({}))
'''
    found = analyze_python("old.py", source.encode(), ScanConfig())
    assert any("Python 2" in e.message for e in found.errors)
    assert [e.function for e in found.endpoints] == ["view"]


# --------------------------------------------------------------------------- <script> in Python strings
def test_script_tag_gate() -> None:
    assert script_tag_with_query(b'<script src="/api/x?callback=cb"></script>')
    assert script_tag_with_query(b"<script type='text/javascript'\n  src='%s?jsonp=f'>")
    assert not script_tag_with_query(b'<script src="/static/app.js"></script> callback=')
    assert not script_tag_with_query(b"<script>var q = '?';</script>")


def test_python_string_without_a_query_tag_is_not_tokenized() -> None:
    page = b'HTML = """<script src="/static/app.js"></script>"""\nx = "callback"\n'
    assert analyze_python_strings("a.py", page, ScanConfig()).consumers == []
    page = b'HTML = """<script src="/api/data?callback=show"></script>"""\n'
    [consumer] = analyze_python_strings("a.py", page, ScanConfig()).consumers
    assert (consumer.line, consumer.callback) == (1, "show")


# ------------------------------------------------------------------------------------- minified rule
def test_one_minified_rule() -> None:
    assert fs.looks_minified(b"var a=1;" * 1000) == 8000
    assert fs.looks_minified(b"var a = 1;\n" * 1000) is None
    banner = b"/* licence */\n" * 20 + b"x" * 6000 + b"\n" + (b"y" * 320 + b"\n") * 60
    assert fs.looks_minified(banner) == 6000  # one enormous line in a file of long lines
    assert fs.looks_minified(b"a" * 100) is None  # too small to judge


# -------------------------------------------------------------------------------------- lazy loading
def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout))


def test_a_scan_loads_parsers_only_for_files_that_reach_them(tmp_path: Path) -> None:
    write(tmp_path / "lib", {"a.py": "def f(x):\n    return x\n"})
    write(tmp_path / "app", {"views.py": 'import json\ncb = request.args.get("callback")\nprint("%s(%s)" % (cb, 1))\n'})
    probe = (
        "import json, sys\nfrom jsonp2cors.scan import scan\nscan([{path!r}])\n"
        "print(json.dumps([m for m in ('libcst', 'bs4', 'tree_sitter') if m in sys.modules]))"
    )
    assert _modules_after(probe.format(path=str(tmp_path / "lib"))) == set()
    assert _modules_after(probe.format(path=str(tmp_path / "app"))) == {"libcst"}


@pytest.mark.parametrize(
    ("signature", "hinted"),
    [
        ("def data(limit: int = Query(10, ge=1), callback: str = Query(None)):", True),
        ("def index(self, jsoncallback=None, **kw):", True),
        ("def run(self, fn, timeout=5):", False),
        ("def call_soon(self, callback: typing.Callable[..., None], *args):", False),  # holds a function
        ("def on(self, cb: Optional[Awaitable[None]] = None, jsonp=None):", True),  # jsonp is still one
        ("def data(request, callback):", True),  # Django: a URL keyword argument
    ],
)
def test_callback_parameter_hint_sees_past_nested_parentheses(signature: str, hinted: bool) -> None:
    from jsonp2cors.scan.python import _callback_param_hint

    assert bool(_callback_param_hint(ScanConfig()).search(signature)) is hinted


def test_text_hints_only_count_where_python_puts_them() -> None:
    """The literal-led patterns (fast) keep the line-anchored meaning: an import is a statement that starts its
    line, a unit starts at column 0 (a leading decorator included), padding is `%s(` or `(` after a quote/brace."""
    text = (
        "@app.route('/x')\n"
        "def view():\n"
        "    from flask import request  # indented import: still an import\n"
        "    doc = 'see from os import path in the docs'\n"
        "    return '%s(%s)' % (cb, data)\n"
        "class Resp:\n"
        "    pass\n"
        "import json, os as o\n"
        "x = 1; import sys\n"
    )
    assert _text_imports(text, "pkg/mod.py") == ["flask.request", "json", "os"]
    assert _unit_bounds(text) == [0, text.index("class Resp")]
    assert _padding_defs_of_text(text) == ["view"]
    pads = _pad_positions(text)
    assert pads == [text.index("%s(%s)")]  # the second `%s` closes, it opens nothing
    assert _pad_positions("f\"{cb}(\" + '(' + x") == [5, 11]
    assert not _has_pad("call(x) + [1](2)") and _has_pad("a = '}(' ", 4, 7) and not _has_pad("a = '}(' ", 0, 5)


def test_request_values_are_followed_in_source_order_through_nested_blocks() -> None:
    """A name assigned from the request inside a block, then read outside it, still taints the call it feeds
    (the walk follows source order; a breadth-first walk saw the outer assignment first and lost the chain)."""
    tree = ast.parse(
        "def view():\n"
        "    if request.method == 'GET':\n"
        "        params = request.args\n"
        "    name = params.get('callback')\n"
        "    return wrap(name, data)\n"
    )
    assert signals(tree, ScanConfig()).source_calls == {"wrap"}


_NOISE = st.lists(st.sampled_from([b"cb", b"callback", b"x", b" ", b"(", b")", b"'", b".", b"="]), max_size=4)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([b"cb", b"callback", b"jsoncallback", b"jsonp"]),
    _NOISE,
    st.sampled_from([b"", b"'", b'"', b".", b"<", b"{", b"%(", b"(", b"x", b"_", b"%"]),
    st.sampled_from([b"", b"'", b'"', b"=", b":", b">", b"}", b")", b"x", b"(", b"_"]),
    _NOISE,
)
def test_the_name_form_check_agrees_with_the_forms(
    name: bytes, head: list[bytes], before: bytes, after: bytes, tail: list[bytes]
) -> None:
    """One search plus a look around each occurrence says the same as searching for every form of the name."""
    low = b"".join(head) + before + name + after + b"".join(tail)
    assert in_a_name_form(low, name) == any(form in low for form in _name_forms(name))


_JSONP_PIECES = st.sampled_from(
    ["jsonp", "JSONP", "Jsonp", "JSonp", "sonp", "SONP", "jsonpify", "jsonpified", "jsonpath", "Provider", "ify",
     "a", "Z", "_", " ", "2", "j", "J", "(", "get", "x", "cors", "2cors"]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_JSONP_PIECES, max_size=6))
def test_the_jsonp_word_check_agrees_with_the_regex(pieces: list[str]) -> None:
    """Trying the word pattern only where "sonp"/"SONP" occurs says the same as searching the text with it."""
    from jsonp2cors.scan.python import _JSONP_WORD, mentions_jsonp

    text = "".join(pieces)
    assert mentions_jsonp(text) == (_JSONP_WORD.search(text) is not None)


@pytest.mark.parametrize(
    ("source", "full"),
    [
        ('JSONP_CONTENT_TYPE = "application/javascript"\n', True),
        ('def render(data):\n    return {"jsonp_callback": data}\n', True),
        ('def view(request):\n    return JSONPResponse(request.GET)\n', True),
        ('@view_config(route_name="feed", renderer="jsonp2")\ndef feed(request):\n    return {}\n', True),
        # an app mounting this tool's shim names the package, which is no JSONP code
        ('MIDDLEWARE = ["jsonp2cors.django.ShimMiddleware"]\n', False),
        ('from jsonp2cors import WSGIShim\napp.wsgi_app = WSGIShim(app.wsgi_app, usage="jsonp2cors.jsonl")\n', False),
    ],
)
def test_a_module_mentioning_jsonp_is_read_whole(source: str, full: bool) -> None:
    """A module saying JSONP (as a word: not jsonpath, not the jsonp2cors package) goes to libcst."""
    from jsonp2cors.scan.python import analyze_python

    found = analyze_python("app/settings.py", source.encode(), ScanConfig())
    assert (found.facts.get("stage") == "full") is full


_SIGNATURE_PIECES = st.sampled_from(
    ["def ", "def\t", "f", "view", " ", "(", ")", "(None)", "Query(", "callback", "cb", "jsonp", "jsoncallback",
     "self", ", ", "=", ":", "\n", "\")\"", "x_cb", "cb2", "**kw", "g(h())", "é", "(callback)", "(cb=1)", "def g(",
     "Callable", ": Callable", "[", "]", "Optional[", " Coroutine"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_SIGNATURE_PIECES, max_size=14))
def test_callback_param_defs_agree_with_the_pattern(pieces: list[str]) -> None:
    """Taking each definition's parameters once finds the same `def`s as the one-regex definition."""
    from jsonp2cors.scan.python import _callback_param_hint, callback_param_defs

    text = "".join(pieces)
    config = ScanConfig()
    assert callback_param_defs(text, config) == [m.start() for m in _callback_param_hint(config).finditer(text)]


_ROUTE_PIECES = st.sampled_from(
    ["add_", "add_route", "add_view", "add_get", "add_post", "include", "include_router", "Route", "APIRoute",
     "Mount", "re_path", "urlpattern", "s", "(", " ", "x", "register_blueprint", "Application", "quickstart", "ad"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_ROUTE_PIECES, max_size=6))
def test_the_route_hint_agrees_with_its_definition(pieces: list[str]) -> None:
    """Grouping the route calls into literal-led patterns answers as "some `name(` or `urlpatterns` is there"."""
    from jsonp2cors.scan.python import ROUTE_CALLS, _route_hint

    text = "".join(pieces)
    assert _route_hint(text) == ("urlpatterns" in text or any(name + "(" in text for name in ROUTE_CALLS))


def test_every_read_hint_starts_with_a_literal() -> None:
    """The read hints run over every candidate's text: each must start with a literal character, which the regex
    engine skips ahead to (one starting with a look-behind was forty times slower over site-packages)."""
    import re

    from jsonp2cors.scan.python import _READ_HINT_PARTS

    for part in _READ_HINT_PARTS:
        assert re.match(r"[A-Za-z_]", part), part
