"""The adapters' JSONP fast paths answer, and record, exactly what their general paths do."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.shim import ASGIShim, WSGIShim
from jsonp2cors.shim.usage import FileSink, UsageRecord

from .helpers import NEWS, NOW, POLICY
from .test_equivalence import responses, via_asgi, via_wsgi

Reply = tuple[int, list[tuple[str, str]], bytes]

requests = st.fixed_dictionaries({
    "origin": st.sampled_from([None, NEWS, "https://evil.example", [NEWS, NEWS]]),
    "query": st.sampled_from(["callback=cb", "jsonp=a.b&_=1700000000", "callback=jQuery1124_15&x=%20",
                              "callback=cb;x=1"]),
    "referer": st.sampled_from([None, "https://news.example.com/p?q=1"]),
    "agent": st.sampled_from([None, "Mozilla/5.0 (X11) caf\xe9"]),
    "site": st.sampled_from([None, "cross-site"]),
    "dest": st.sampled_from([None, "script"]),
    "path": st.sampled_from(["/api/weather", "/api/open/x"]),
})


def request_headers(req: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("Host", "api.example.com")]
    origins = req["origin"] if isinstance(req["origin"], list) else [req["origin"]]
    out += [("Origin", o) for o in origins if o is not None]
    for name, key in (("Referer", "referer"), ("User-Agent", "agent"), ("Sec-Fetch-Site", "site"),
                      ("Sec-Fetch-Dest", "dest")):
        if req[key] is not None:
            out.append((name, req[key]))
    return out


def general_only(shim: ASGIShim | WSGIShim) -> None:
    for rules in shim.core._by_route.values():
        rules.fast_jsonp = False


def asgi(req: dict[str, Any], resp: dict[str, Any], *, fast: bool) -> tuple[Reply, list[UsageRecord]]:
    records: list[UsageRecord] = []
    reply = via_asgi(req, resp, headers=request_headers, shim_options={"usage": records.append},
                     tweak=None if fast else general_only)
    return reply, records


def wsgi(req: dict[str, Any], resp: dict[str, Any], *, fast: bool,
         app: Callable[..., Any] | None = None) -> tuple[Reply, list[UsageRecord]]:
    records: list[UsageRecord] = []
    reply = via_wsgi(req, resp, headers=request_headers, shim_options={"usage": records.append},
                     tweak=None if fast else general_only, app=app)
    return reply, records


@settings(max_examples=200, deadline=None)
@given(requests, responses)
def test_fast_and_general_paths_agree(req: dict[str, Any], resp: dict[str, Any]) -> None:
    assert asgi(req, resp, fast=True) == asgi(req, resp, fast=False)
    assert wsgi(req, resp, fast=True) == wsgi(req, resp, fast=False)


REQ = {"origin": None, "query": "callback=cb", "referer": "https://news.example.com/p", "agent": "UA",
       "site": "cross-site", "dest": "script", "path": "/api/weather"}
JSON_RESP = {"status": 200, "ctype": "application/json", "vary": None, "acao": None, "nosniff": False,
             "body": "json", "split": False, "gzip": False}


def test_the_fast_path_records_usage() -> None:
    (status, _headers, body), records = asgi(REQ, JSON_RESP, fast=True)
    assert status == 200 and body.startswith(b"/**/ typeof cb === 'function' && cb(")
    [record] = records
    assert (record.method, record.path, record.callback_param, record.callback) == ("GET", "/api/weather",
                                                                                    "callback", "cb")
    assert (record.origin, record.sec_fetch_site, record.sec_fetch_dest, record.user_agent, record.status) == (
        "https://news.example.com", "cross-site", "script", "UA", 200)
    assert wsgi(REQ, JSON_RESP, fast=True)[1] == records


def test_file_sink_decodes_header_bytes(tmp_path: Any) -> None:
    sink = FileSink(tmp_path / "u.jsonl", interval=0.01)
    sink.emit_fields((NOW, "GET", "/x", "callback", b"cb", b"https://a.example/p", b"cross-site", None,
                      "Mozilla caf\xe9".encode("latin-1"), 200))
    sink.close()
    line = json.loads((tmp_path / "u.jsonl").read_text(encoding="utf-8"))
    assert (line["callback"], line["origin"], line["sec_fetch_site"], line["user_agent"]) == (
        "cb", "https://a.example", "cross-site", "Mozilla caf\xe9")


# ------------------------------------------------------------------------------- WSGI apps of every shape
def lazy_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """start_response called when the body is first iterated (allowed by PEP 3333)."""
    start_response("200 OK", [("Content-Type", "application/json")])
    yield b'{"a": '
    yield b"1}"


def write_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    write = start_response("200 OK", [("Content-Type", "application/json")])
    write(b'{"a": ')
    return [b"1}"]


def html_stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/html")])
    yield b"<p>"
    yield b"hi</p>"


def boom(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("kaboom")


def late_boom(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    yield b"{"
    raise RuntimeError("kaboom")


@pytest.mark.parametrize("app", [lazy_app, write_app, html_stream, boom, late_boom])
def test_wsgi_app_shapes_agree(app: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    req = {**REQ, "origin": NEWS}
    assert wsgi(req, JSON_RESP, fast=True, app=app) == wsgi(req, JSON_RESP, fast=False, app=app)


def test_wsgi_lazy_and_write_apps_are_wrapped() -> None:
    for app in (lazy_app, write_app):
        (_status, headers, body), _ = wsgi(REQ, JSON_RESP, fast=True, app=app)
        assert body == b"/**/ typeof cb === 'function' && cb({\"a\": 1});"
        assert ("content-type", "application/javascript; charset=utf-8") in headers


def test_the_fast_paths_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The agreement above means something only if the fast paths ran: count them."""
    from jsonp2cors.shim import asgi as asgi_mod
    from jsonp2cors.shim import wsgi as wsgi_mod

    taken: list[str] = []
    for module, name in ((asgi_mod, "asgi"), (wsgi_mod, "wsgi")):
        original = module._FastJSONP.__init__

        def spy(self: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> None:
            taken.append(_name)
            _original(self, *args, **kwargs)

        monkeypatch.setattr(module._FastJSONP, "__init__", spy)
    for path in ("/api/weather", "/api/open/x"):
        asgi({**REQ, "path": path}, JSON_RESP, fast=True)
        wsgi({**REQ, "path": path}, JSON_RESP, fast=True)
    assert taken == ["asgi", "wsgi", "asgi", "wsgi"]
    asgi(REQ, JSON_RESP, fast=False)
    wsgi(REQ, JSON_RESP, fast=False)
    assert len(taken) == 4


def test_wsgi_write_after_the_head_went_out_is_not_lost() -> None:
    """An app that overflows max_body and then calls write() while its body is iterated: nothing is dropped."""
    written: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        write = start_response("200 OK", [("Content-Type", "application/json")])
        yield b'{"a": "' + b"x" * 64
        write(b"y" * 8)
        yield b'"}'

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return written.append

    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/weather", "QUERY_STRING": "callback=cb",
                               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    for fast in (True, False):
        written.clear()
        shim = WSGIShim(app, policy=POLICY, clock=lambda: NOW, max_body=16)
        if not fast:
            general_only(shim)
        result = shim(environ, start_response)
        body = b"".join(result)
        getattr(result, "close", lambda: None)()
        assert body.startswith(b'{"a": "x') and body.endswith(b'"}')  # too big to wrap: passed through
        assert written == [b"y" * 8]
