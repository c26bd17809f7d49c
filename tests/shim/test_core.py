"""The shim's decision table, without a server: JSONP, legacy padding, transition headers, CORS, preflight."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import zlib

import pytest

from jsonp2cors.shim.core import (
    Forward,
    Respond,
    escape_for_script,
    find_callback,
    media_kind,
    split_legacy,
    validate_callback,
    wrap_jsonp,
)
from jsonp2cors.shim.usage import UsageRecord

from .helpers import AFTER_SUNSET, EVIL, NEWS, NOW, PARTNER, core, facts, gz, make_policy, simulate

WRAP_RE = re.compile(rb"\A/\*\*/ typeof ([\w$.\[\]]+) === 'function' && \1\((.*)\);\Z", re.S)


def unwrap(body: bytes) -> tuple[str, object]:
    m = WRAP_RE.match(body)
    assert m, body
    return m.group(1).decode(), json.loads(m.group(2))


def epoch(y: int, m: int, d: int) -> int:
    return int(dt.datetime(y, m, d, tzinfo=dt.timezone.utc).timestamp())


# ------------------------------------------------------------------------------------------- JSONP


def test_jsonp_wraps_json_with_hardened_form_and_transition_headers() -> None:
    records: list[UsageRecord] = []
    r = simulate(core(usage=records.append), facts(query="callback=show", headers=[
        ("Referer", "https://news.example.com/front?x=1"), ("User-Agent", "UA/1"),
        ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Dest", "script")]))
    assert r.status == 200 and r.called
    assert r.body == b"/**/ typeof show === 'function' && show({\"temp\": 21});"
    assert r.h("content-type") == "application/javascript; charset=utf-8"
    assert r.h("x-content-type-options") == "nosniff"
    assert r.h("content-length") == str(len(r.body))
    assert r.h("deprecation") == f"@{epoch(2026, 11, 1)}"
    assert r.h("sunset") == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert r.h("link") == '<https://docs.example.com/jsonp-retired>; rel="deprecation"; type="text/html"'
    assert r.h("vary") == "Origin"
    assert r.h("access-control-allow-origin") is None
    assert len(records) == 1
    rec = records[0]
    assert (rec.method, rec.path, rec.callback_param, rec.callback, rec.origin, rec.status) == (
        "GET", "/api/weather", "callback", "show", NEWS, 200)
    assert (rec.sec_fetch_site, rec.sec_fetch_dest, rec.user_agent) == ("cross-site", "script", "UA/1")
    assert rec.time == dt.datetime.fromtimestamp(NOW, dt.timezone.utc)


@pytest.mark.parametrize("name", [
    "fn", "$cb", "_", "$", "ns.handlers.onData", "jQuery1124045_1500000000000", "angular.callbacks._0",
    "__ng_jsonp__.__req0.finished", "cbs[3]", "a.default", "a.b[0].c", "x" * 64,
])
def test_valid_callbacks(name: str) -> None:
    r = simulate(core(), facts(query=f"jsonp={name}&_=1"))
    assert r.status == 200
    assert unwrap(r.body) == (name, {"temp": 21})


@pytest.mark.parametrize("query", [
    "callback=alert(1)", "callback=a%20b", "callback=1abc", "callback=a..b", "callback=a.", "callback=.a",
    "callback=a-b", "callback=%3Cscript%3E", "callback=function", "callback=this.x", "callback=new",
    "callback=" + "x" * 65, "callback=%ff", "callback=a%E2%80%A8", "callback=a[b]", "callback=a[]",
    "callback=a%3Balert(1)", "callback=a%0a", "callback=%2566n", "callback=%C3%A9t%C3%A9", "callback=a/**/",
    "callback=+fn",
])
def test_invalid_callbacks_get_fixed_400_without_calling_app(query: str) -> None:
    r = simulate(core(), facts(query=query))
    assert r.status == 400 and not r.called
    assert r.body == b"Bad Request: the JSONP callback parameter is not a valid function name.\n"
    assert r.h("content-type") == "text/plain; charset=utf-8"
    assert r.h("x-content-type-options") == "nosniff"


@pytest.mark.parametrize("query", [
    "callback=a&callback=b", "callback=a&callback=a", "callback=a&jsonp=b", "callback=&callback=b",
    "callback=a;callback=b", "callback=f;alert(1)//", "call%62ack=a&callback=b",
])
def test_several_callback_parameters_are_refused(query: str) -> None:
    r = simulate(core(), facts(query=query))
    assert r.status == 400 and not r.called
    assert r.body == b"Bad Request: more than one JSONP callback parameter.\n"


def test_percent_encoding_decoded_once_in_key_and_value() -> None:
    assert unwrap(simulate(core(), facts(query="callback=%66n")).body)[0] == "fn"
    assert unwrap(simulate(core(), facts(query="call%62ack=fn")).body)[0] == "fn"
    assert unwrap(simulate(core(), facts(query="x=1;callback=fn")).body)[0] == "fn"


@pytest.mark.parametrize("query", ["callback=", "callback", "jsonp=&x=1"])
def test_empty_callback_is_a_plain_request(query: str) -> None:
    d = core().decide(facts(query=query))
    assert isinstance(d, Forward) and d.callback is None
    r = simulate(core(), facts(query=query))
    assert r.body == b'{"temp": 21}' and r.h("x-content-type-options") == "nosniff"


def test_other_parameters_and_methods_are_not_jsonp() -> None:
    for query in ("callbacks=fn", "xcallback=fn", "Callback=fn", "q=callback", "q=jsonp%3Dx"):
        d = core().decide(facts(query=query))
        assert isinstance(d, Forward) and d.callback is None, query
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        d = core().decide(facts(method, query="callback=fn"))
        assert isinstance(d, Forward) and d.callback is None, method


def test_head_is_served_as_get_and_reports_the_wrapped_length() -> None:
    d = core().decide(facts("HEAD", query="callback=fn"))
    assert isinstance(d, Forward) and d.method == "GET"
    r = simulate(core(), facts("HEAD", query="callback=fn"))
    assert r.body == b""
    get = simulate(core(), facts("GET", query="callback=fn"))
    assert r.h("content-length") == str(len(get.body))


def test_escaping_u2028_u2029_and_script_end() -> None:
    payload = {"s": "a\u2028b\u2029c</script><!--x", "t": "<\\/ok"}
    raw = json.dumps(payload, ensure_ascii=False).encode()
    r = simulate(core(), facts(query="callback=f"), body=raw)
    assert b"\xe2\x80\xa8" not in r.body and b"\xe2\x80\xa9" not in r.body
    assert b"</" not in r.body and b"<!--" not in r.body
    assert unwrap(r.body) == ("f", payload)


@pytest.mark.parametrize(("ctype", "body"), [
    ("text/html; charset=utf-8", b"<html><body>Not found</body></html>"),
    ("image/png", b"\x89PNG\r\n\x1a\n...."),
    ("text/plain", b"plain words"),
    ("text/css", b"body{}"),
    (None, b'{"no": "type"}'),
])
def test_non_json_passes_through_untouched_for_jsonp(ctype: str | None, body: bytes) -> None:
    headers = [("Content-Type", ctype)] if ctype else []
    r = simulate(core(), facts(query="callback=f"), headers=headers, body=body)
    assert r.body == body
    assert r.h("content-type") == ctype
    assert "javascript" not in (r.h("content-type") or "")


@pytest.mark.parametrize("ctype", ["application/json", "application/problem+json", "text/json",
                                   "application/vnd.api+json; charset=utf-8", "Application/JSON"])
def test_json_types_are_wrapped_and_status_kept(ctype: str) -> None:
    r = simulate(core(), facts(query="callback=f"), status=404, headers=[("Content-Type", ctype)],
                 body=b'{"error": "missing"}')
    assert r.status == 404
    assert unwrap(r.body) == ("f", {"error": "missing"})


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_are_not_wrapped(status: int) -> None:
    r = simulate(core(), facts(query="callback=f"), status=status, body=b"")
    assert r.status == status and r.body == b""
    assert r.h("content-type") == "application/json"


def test_streamed_chunks_are_wrapped_whole() -> None:
    chunks = [b'{"items": [', b"1, 2, ", b"3]}"]
    r = simulate(core(), facts(query="callback=f"), chunks=chunks)
    assert unwrap(r.body) == ("f", {"items": [1, 2, 3]})


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate-raw"])
def test_compressed_json_is_decoded_then_wrapped(encoding: str) -> None:
    data = b'{"zipped": true}'
    if encoding in ("gzip", "x-gzip"):
        body = gz(data)
    elif encoding == "deflate":
        body = zlib.compress(data)
    else:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = c.compress(data) + c.flush()
        encoding = "deflate"
    r = simulate(core(), facts(query="callback=f"),
                 headers=[("Content-Type", "application/json"), ("Content-Encoding", encoding)], body=body)
    assert unwrap(r.body) == ("f", {"zipped": True})
    assert r.h("content-encoding") is None


def test_undecodable_encoding_passes_through_unwrapped_with_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jsonp2cors.shim"):
        r = simulate(core(), facts(query="callback=f"),
                     headers=[("Content-Type", "application/json"), ("Content-Encoding", "zstd")],
                     body=b"\x28")
        r2 = simulate(core(), facts(query="callback=f"),
                      headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
                      body=b"not gzip")
    assert r.body == b"\x28" and r.h("content-encoding") == "zstd"
    assert r.h("content-type") == "application/json" and r.h("x-content-type-options") == "nosniff"
    assert r2.body == b"not gzip"
    messages = " ".join(rec.getMessage() for rec in caplog.records)
    assert "zstd cannot be decoded" in messages and "gzip is corrupt" in messages


def test_oversized_body_passes_through_unwrapped(caplog: pytest.LogCaptureFixture) -> None:
    big = b'{"x": "' + b"a" * 2000 + b'"}'
    with caplog.at_level(logging.WARNING, logger="jsonp2cors.shim"):
        r = simulate(core(max_body=1000), facts(query="callback=f"), body=big)
    assert r.body == big
    assert r.h("content-type") == "application/json" and r.h("x-content-type-options") == "nosniff"
    assert "larger than 1000 bytes" in caplog.text


def test_gzip_bomb_is_not_inflated_past_the_limit() -> None:
    bomb = gz(b'{"x": "' + b"a" * 5_000_000 + b'"}')
    r = simulate(core(max_body=100_000), facts(query="callback=f"),
                 headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body=bomb)
    assert r.body == bomb and r.h("content-encoding") == "gzip"


def test_latin1_json_is_transcoded() -> None:
    r = simulate(core(), facts(query="callback=f"),
                 headers=[("Content-Type", "application/json; charset=iso-8859-1")],
                 body='{"city": "Zürich"}'.encode("latin-1"))
    assert unwrap(r.body) == ("f", {"city": "Zürich"})


def test_bom_is_dropped() -> None:
    r = simulate(core(), facts(query="callback=f"), body=b'\xef\xbb\xbf{"a": 1}')
    assert unwrap(r.body) == ("f", {"a": 1})


# ----------------------------------------------------------------------------------- legacy padding

LEGACY_SPELLINGS = [
    b'cb({"a": 1});',
    b'cb({"a": 1})',
    b'  cb ( {"a": 1} ) ;  \n',
    b'/**/cb({"a": 1});',
    b"/**/ typeof cb === 'function' && cb({\"a\": 1});",
    b'typeof cb == "function" && cb({"a": 1})',
    b'cb && cb({"a": 1});',
    b'ns.api.cb({"a": 1});',
    b'jQuery1124_15({"a": 1});\n',
    b'/* legacy */\ncb(\n{"a": 1}\n);',
]


@pytest.mark.parametrize("body", LEGACY_SPELLINGS)
@pytest.mark.parametrize("ctype", ["application/javascript", "text/javascript; charset=utf-8", "text/html",
                                   "application/json", "text/plain"])
def test_legacy_padding_is_rewrapped_for_jsonp_never_double_wrapped(body: bytes, ctype: str) -> None:
    r = simulate(core(), facts(query="callback=show"), headers=[("Content-Type", ctype)], body=body)
    assert unwrap(r.body) == ("show", {"a": 1})
    assert r.body.count(b"(") == 1  # never show(cb(...))
    assert r.h("content-type") == "application/javascript; charset=utf-8"


@pytest.mark.parametrize("body", LEGACY_SPELLINGS)
def test_legacy_padding_is_removed_for_cors_callers(body: bytes) -> None:
    r = simulate(core(), facts(headers=[("Origin", NEWS)]),
                 headers=[("Content-Type", "application/javascript")], body=body)
    assert json.loads(r.body) == {"a": 1}
    assert r.h("content-type") == "application/json"
    assert r.h("x-content-type-options") == "nosniff"
    assert r.h("access-control-allow-origin") == NEWS
    assert r.h("content-length") == str(len(r.body))
    assert r.h("vary") == "Origin, Sec-Fetch-Dest"


def test_legacy_padding_for_plain_callers_but_not_for_script_loaders() -> None:
    body = b'cb({"a": 1});'
    plain = simulate(core(), facts(), headers=[("Content-Type", "text/javascript")], body=body)
    assert plain.body == b'{"a": 1}' and plain.h("content-type") == "application/json"
    script = simulate(core(), facts(headers=[("Sec-Fetch-Dest", "script")]),
                      headers=[("Content-Type", "text/javascript")], body=body)
    assert script.body == body and script.h("content-type") == "text/javascript"
    off = simulate(core(unwrap_legacy=False), facts(), headers=[("Content-Type", "text/javascript")],
                   body=body)
    assert off.body == body


@pytest.mark.parametrize("body", [
    b"(function(){ var x = 1; })();", b"var config = {\"a\": 1};", b"jQuery(function($){ $('a').hide(); });",
    b'cb({a: 1});', b'cb({"a": 1}); alert(1);', b'cb({"a": 1}, 2);', b"alert(document.cookie)",
    b"/*! lib v1 */ !function(){}();", b"",
])
def test_scripts_that_are_not_padded_json_are_left_alone(body: bytes) -> None:
    for request in (facts(), facts(headers=[("Origin", NEWS)])):
        r = simulate(core(), request, headers=[("Content-Type", "application/javascript")], body=body)
        assert r.body == body and r.h("content-type") == "application/javascript"


def test_split_legacy_edge_cases() -> None:
    assert split_legacy(b'cb("a)b");') == (b"cb", b'"a)b"')
    assert split_legacy(b"cb([1,2]);;") is None
    assert split_legacy(b"cb(1)") == (b"cb", b"1")
    assert split_legacy(b"cb(null)") == (b"cb", b"null")
    assert split_legacy(b"cb()") is None
    assert split_legacy(b'{"a": 1}') is None


# ------------------------------------------------------------------------------------ sunset, referer


def test_after_sunset_jsonp_is_gone_but_cors_still_works() -> None:
    records: list[UsageRecord] = []
    c = core(clock=lambda: AFTER_SUNSET, usage=records.append)
    r = simulate(c, facts(query="callback=show", headers=[("Referer", "https://news.example.com/")]))
    assert r.status == 410 and not r.called
    assert r.body.startswith(b"/* Gone") and r.body.endswith(b"*/\n") and r.body.count(b"*/") == 1
    assert b"2027-06-30" in r.body and b"https://docs.example.com/jsonp-retired" in r.body
    assert r.h("content-type") == "application/javascript; charset=utf-8"
    assert r.h("sunset") == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert [x.status for x in records] == [410]
    cors = simulate(c, facts(headers=[("Origin", NEWS)]))
    assert cors.status == 200 and cors.h("access-control-allow-origin") == NEWS
    head = simulate(c, facts("HEAD", query="callback=show"))
    assert head.status == 410 and head.body == b"" and head.h("content-length") == str(len(r.body))


def test_sunset_starts_at_midnight_utc() -> None:
    day = epoch(2027, 6, 30)
    assert simulate(core(clock=lambda: day - 1), facts(query="callback=f")).status == 200
    assert simulate(core(clock=lambda: day), facts(query="callback=f")).status == 410
    when = dt.datetime(2027, 6, 30, tzinfo=dt.timezone.utc)
    assert simulate(core(clock=lambda: when), facts(query="callback=f")).status == 410


def test_deprecation_defaults_to_the_day_the_shim_started() -> None:
    policy = make_policy(jsonp__deprecation=None)
    r = simulate(core(policy), facts(query="callback=f"))
    assert r.h("deprecation") == f"@{epoch(2026, 11, 25)}"


@pytest.mark.parametrize(("headers", "status"), [
    ([], 403),
    ([("Referer", "https://news.example.com/account")], 200),
    ([("Referer", "https://app.partner.example/x")], 200),
    ([("Referer", "https://evil.example.net/steal")], 403),
    ([("Referer", "https://news.example.com.evil.example.net/")], 403),
    ([("Referer", "http://news.example.com/")], 403),
    ([("Sec-Fetch-Site", "same-origin")], 200),
    ([("Sec-Fetch-Site", "none")], 200),
    ([("Sec-Fetch-Site", "cross-site")], 403),
    ([("Sec-Fetch-Site", "same-site"), ("Referer", "https://evil.example.net/")], 403),
    ([("Sec-Fetch-Site", "cross-site"), ("Referer", "https://news.example.com/")], 200),
    ([("Host", "api.example.com"), ("Referer", "https://api.example.com/page")], 200),
    ([("Host", "api.example.com"), ("Referer", "https://api.example.com/page"),
      ("Sec-Fetch-Site", "cross-site")], 403),
    ([("Referer", "not a url")], 403),
])
def test_credentialed_routes_check_the_referer(headers: list[tuple[str, str]], status: int) -> None:
    r = simulate(core(), facts(path="/api/account/me", query="callback=f", headers=headers))
    assert r.status == status
    assert r.called == (status == 200)
    if status == 403:
        assert b"Forbidden" in r.body and r.h("content-type") == "text/plain; charset=utf-8"


def test_referer_check_off_by_route_and_absent_without_credentials() -> None:
    assert simulate(core(), facts(path="/api/nocheck", query="callback=f")).status == 200
    assert simulate(core(), facts(path="/api/weather", query="callback=f")).status == 200
    off = make_policy(jsonp__check_referer=False)
    assert simulate(core(off), facts(path="/api/account", query="callback=f")).status == 200


# -------------------------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(("origin", "allowed"), [
    (NEWS, True), (PARTNER, True), ("https://a.b.partner.example", True),
    ("https://partner.example", False), ("http://app.partner.example", False),
    ("https://app.partner.example:8443", False), ("https://evilpartner.example", False),
    ("https://app.partner.example.evil.com", False), ("HTTPS://NEWS.EXAMPLE.COM", False),
    ("https://news.example.com:443", False), ("https://news.example.com/", False), ("null", False),
    (EVIL, False), ("", False), ("*", False), ("https://news.example.com, https://evil.example.net", False),
])
def test_actual_request_origins(origin: str, allowed: bool) -> None:
    r = simulate(core(), facts(headers=[("Origin", origin)]))
    assert r.called and r.status == 200
    assert r.h("vary") == "Origin"
    if allowed:
        assert r.h("access-control-allow-origin") == origin
        assert r.h("access-control-expose-headers") == "X-Total-Count"
        assert r.h("access-control-allow-credentials") is None
    else:
        assert not any(k.startswith(b"access-control-") for k, _ in r.headers)


def test_credentials_route_reflects_origin_never_star() -> None:
    r = simulate(core(), facts(path="/api/account", headers=[("Origin", NEWS)]))
    assert r.h("access-control-allow-origin") == NEWS
    assert r.h("access-control-allow-credentials") == "true"


def test_wildcard_route_answers_star_without_vary() -> None:
    r = simulate(core(), facts(path="/api/open/list", headers=[("Origin", EVIL)]))
    assert r.h("access-control-allow-origin") == "*" and r.h("vary") is None
    # "null" is refused unless allowed by name, even under "*" (sandboxed frames, file: pages)
    null = simulate(core(), facts(path="/api/open/list", headers=[("Origin", "null")]))
    assert null.h("access-control-allow-origin") is None


def test_null_origin_only_when_allowed() -> None:
    assert simulate(core(), facts(headers=[("Origin", "null")])).h("access-control-allow-origin") is None
    allowing = make_policy(cors__allow_null=True)
    assert simulate(core(allowing), facts(headers=[("Origin", "null")])).h(
        "access-control-allow-origin") == "null"


def test_no_origin_still_varies_on_cors_routes_and_nothing_without_cors() -> None:
    assert simulate(core(), facts()).h("vary") == "Origin"
    bare = make_policy(cors__allow_origins=[])
    r = simulate(core(bare), facts(headers=[("Origin", NEWS)]))
    assert r.h("vary") is None and r.h("access-control-allow-origin") is None


def test_two_origin_lines_are_refused() -> None:
    r = simulate(core(), facts(headers=[("Origin", NEWS), ("Origin", NEWS)]))
    assert r.h("access-control-allow-origin") is None and r.h("vary") == "Origin"


def test_app_cors_headers_are_replaced_and_vary_merged() -> None:
    app_headers = [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*"),
                   ("Access-Control-Allow-Credentials", "true"), ("Vary", "Accept-Encoding"),
                   ("vary", "origin")]
    r = simulate(core(), facts(headers=[("Origin", EVIL)]), headers=app_headers)
    assert r.h("access-control-allow-origin") is None and r.h("access-control-allow-credentials") is None
    assert r.h("vary") == "Accept-Encoding, origin"
    star = simulate(core(), facts(headers=[("Origin", NEWS)]),
                    headers=[("Content-Type", "application/json"), ("Vary", "*")])
    assert star.h("vary") == "*"


def test_plain_json_gets_nosniff_once() -> None:
    r = simulate(core(), facts(), headers=[("Content-Type", "application/json"),
                                           ("X-Content-Type-Options", "nosniff")])
    assert r.h("x-content-type-options") == "nosniff"
    html = simulate(core(), facts(), headers=[("Content-Type", "text/html")], body=b"<p>")
    assert html.h("x-content-type-options") is None


# --------------------------------------------------------------------------------------- preflight


def preflight(path: str = "/api/weather", origin: str | None = NEWS, method: str | None = "POST",
              extra: list[tuple[str, str]] | None = None) -> tuple[object, object]:
    headers = [("Origin", origin)] if origin is not None else []
    if method is not None:
        headers.append(("Access-Control-Request-Method", method))
    headers.extend(extra or [])
    c = core()
    request = facts("OPTIONS", path, headers=headers)
    return c.decide(request), simulate(c, request)


def test_preflight_allowed_is_answered_without_the_app() -> None:
    d, r = preflight(extra=[("Access-Control-Request-Headers", "X-Requested-With"),
                            ("Access-Control-Request-Headers", "content-type")])
    assert isinstance(d, Respond)
    assert r.status == 204 and not r.called and r.body == b""  # type: ignore[attr-defined]
    assert r.h("access-control-allow-origin") == NEWS  # type: ignore[attr-defined]
    assert r.h("access-control-allow-methods") == "GET, HEAD, POST"  # type: ignore[attr-defined]
    assert r.h("access-control-allow-headers") == "x-requested-with, content-type"  # type: ignore[attr-defined]
    assert r.h("access-control-max-age") == "600"  # type: ignore[attr-defined]
    assert r.h("vary") == ("Origin, Access-Control-Request-Method, "  # type: ignore[attr-defined]
                           "Access-Control-Request-Headers")
    assert r.h("access-control-allow-credentials") is None  # type: ignore[attr-defined]
    assert r.h("content-length") is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kwargs", "status", "reason"), [
    ({"origin": EVIL}, 403, b"origin not allowed"),
    ({"origin": "null"}, 403, b"origin not allowed"),
    ({"method": "PUT"}, 403, b"method not allowed"),
    ({"method": "GET POST"}, 403, b"method not allowed"),
    ({"extra": [("Access-Control-Request-Headers", "x-evil")]}, 403, b"headers not allowed"),
    ({"extra": [("Access-Control-Request-Headers", "x-requested-with, authorization")]}, 403,
     b"headers not allowed"),
    ({"extra": [("Access-Control-Request-Headers", "x y")]}, 400, b"malformed"),
    ({"extra": [("Access-Control-Request-Headers", "a," * 2100)]}, 400, b"too long"),
    ({"extra": [("Access-Control-Request-Private-Network", "true")]}, 403, b"private network"),
])
def test_preflight_refusals_have_no_allow_headers(kwargs: dict[str, object], status: int,
                                                  reason: bytes) -> None:
    _, r = preflight(**kwargs)  # type: ignore[arg-type]
    assert r.status == status and not r.called  # type: ignore[attr-defined]
    assert reason in r.body  # type: ignore[attr-defined]
    assert not any(k.startswith(b"access-control-") for k, _ in r.headers)  # type: ignore[attr-defined]
    assert "Origin" in (r.h("vary") or "")  # type: ignore[attr-defined]


def test_options_without_request_method_or_origin_goes_to_the_app() -> None:
    d, r = preflight(method=None)
    assert isinstance(d, Forward) and r.called  # type: ignore[attr-defined]
    assert r.h("access-control-allow-origin") == NEWS  # type: ignore[attr-defined]
    d, r = preflight(origin=None)
    assert isinstance(d, Forward) and r.called  # type: ignore[attr-defined]


def test_preflight_route_overrides_credentials_and_private_network() -> None:
    _, r = preflight("/api/account/x", method="GET")
    assert r.h("access-control-allow-credentials") == "true"  # type: ignore[attr-defined]
    c = core()
    local = simulate(c, facts("OPTIONS", "/api/local", headers=[
        ("Origin", "http://intranet.example"), ("Access-Control-Request-Method", "GET")]))
    assert local.status == 204 and local.h("access-control-max-age") == "60"
    pna = make_policy(cors__allow_private_network=True)
    r2 = simulate(core(pna), facts("OPTIONS", headers=[
        ("Origin", NEWS), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Private-Network", "true")]))
    assert r2.status == 204 and r2.h("access-control-allow-private-network") == "true"
    assert "Access-Control-Request-Private-Network" in (r2.h("vary") or "")


def test_error_response_carries_cors_headers() -> None:
    c = core()
    d = c.decide(facts(headers=[("Origin", NEWS)]))
    assert isinstance(d, Forward)
    err = c.error_response(d)
    assert err.status == 500
    assert dict(err.headers)[b"access-control-allow-origin"] == NEWS.encode()


# ----------------------------------------------------------------------------------------- helpers


def test_media_kind() -> None:
    assert media_kind(b"application/json; charset=utf-8") == 1
    assert media_kind(b"application/hal+json") == 1
    assert media_kind(b"application/javascript") == 2
    assert media_kind(b"text/html") == 3
    assert media_kind(b"application/octet-stream") == 0
    assert media_kind(None) == 0


def test_find_callback_and_validate() -> None:
    params = (b"callback", b"jsonp")
    assert find_callback(b"a=1&b=2", params) is None
    assert find_callback(b"callback=f", params) == (b"callback", b"f")
    assert find_callback(b"jsonp=a+b", params) == (b"jsonp", b"a b")
    assert find_callback(b"callback=a&jsonp=b", params) == (None, None)
    assert find_callback(b"callback=%ff", params) == (b"callback", None)
    assert validate_callback(b"a.b", 3) and not validate_callback(b"a.bc", 3)
    assert escape_for_script("\u2028</".encode()) == b"\\u2028<\\/"
    assert wrap_jsonp(b"f", b"1") == b"/**/ typeof f === 'function' && f(1);"


def test_no_jsonp_prefixes_leave_other_callback_parameters_alone() -> None:
    c = core(no_jsonp=["/accounts/", "/sso"])
    for path in ("/accounts/login/", "/accounts", "/sso/callback/"):
        d = c.decide(facts(path=path, query="callback=/next/page"))
        assert isinstance(d, Forward) and d.callback is None, path
    d = c.decide(facts(path="/accountsx", query="callback=/next"))
    assert isinstance(d, Respond) and d.status == 400


def test_brotli_without_a_decoder_passes_through(caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonp2cors.shim.core as core_module

    monkeypatch.setattr(core_module, "_brotli", None)
    with caplog.at_level(logging.WARNING, logger="jsonp2cors.shim"):
        r = simulate(core(), facts(query="callback=f"),
                     headers=[("Content-Type", "application/json"), ("Content-Encoding", "br")], body=b"\x0b")
    assert r.body == b"\x0b" and r.h("content-encoding") == "br"
    assert "content-encoding br cannot be decoded" in caplog.text


def test_deeply_nested_padding_is_not_an_error() -> None:
    body = b"cb(" + b"[" * 100_000 + b"]" * 100_000 + b");"
    assert split_legacy(body) is None
    r = simulate(core(), facts(headers=[("Origin", NEWS)]), headers=[("Content-Type", "text/javascript")],
                 body=body)
    assert r.status == 200 and r.body == body
