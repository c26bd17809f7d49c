"""Hypothesis: arbitrary and mutated Python sources never crash the Python analyzer."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsonp2cors.findings import Endpoint
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.python import analyze_python, finish

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SOURCES = sorted(p.read_bytes() for p in FIXTURES.rglob("*.py") if "expected" not in p.parts)
CONFIG = ScanConfig()
# Fragments that steer generated text towards what the detectors look at.
TOKENS = [
    "def ", "class ", "(", ")", ":", "\n", "    ", "=", "+", "%", "'%s(%s)'", '"{}({})"', "f'{cb}('", "'('",
    "request.args.get('callback')", "return ", "@app.route('/x')\n", "import json\n", "json.dumps(d)", "cb",
    ".format(", "self.", "print ", "lambda", "async ", "await ", "[", "]", ",", "#", '"""', "\\", "\t", "\x00",
    # shapes the later detectors look at: templates, aliases, containers, renderers, class decorators
    "render_template('x.js', callback=cb)", "Template('$cb($d)').substitute(cb=cb)", "% locals()", "**locals()",
    "Query(None, alias='callback')", "getattr(request, 'query_params', {})", "renderer_classes = [R]",
    "config.add_renderer('p', F)", "@method_decorator(jsonp, name='dispatch')\n", "def do_GET(self):",
    "app.install(P())", "request.vars.callback", "request.match_info['cb']", "args = (cb, d)\n",
    # this session's shapes: Python 2 views behind imported decorators, flask g, piecewise writes, Django 1.x
    "from app.utils import jsonp as j\n", "@j\n", "@app.route('/y', methods=['GET', 'POST'])\n", "print 'x'\n",
    "g.callback = request.args.get('callback')\n", "g.callback", "self.write(cb)\n", "self.write('(')\n",
    "out.append(cb); out.append('(')\n", "urlpatterns = patterns('app.views', url(r'^x/$', 'feed'))\n",
    "FeedAPI.as_view('feed')", "callback_param = 'jsoncallback'\n", "self.get_argument(self.callback_param)",
    "class V(JSONPMixin, TemplateView):\n", "def render_to_response(self, context):\n",
]


def _check(data: bytes) -> None:
    found = analyze_python("fuzz/app.py", data, CONFIG)
    for e in found.endpoints:
        assert isinstance(e, Endpoint) and e.line >= 0
    for err in found.errors:
        assert "\n" not in err.message and "internal error" not in err.message
    finish([("fuzz/app.py", found.facts)], CONFIG)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup(parts: list[str]) -> None:
    _check("".join(parts).encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(SOURCES), st.data())
def test_mutated_fixture_sources(source: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(source)))
    end = data.draw(st.integers(cut, min(len(source), cut + 40)))
    insert = data.draw(st.sampled_from([b"", b"(", b")", b":", b"\n    ", b"'", b"print x\n", b"\xff", b"%s("]))
    _check(source[:cut] + insert + source[end:])
