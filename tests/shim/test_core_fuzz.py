"""Hypothesis fuzzing of the core: callbacks, query strings, origins, header spellings, JSON bodies."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jsonp2cors.policy.origin import OriginMatcher
from jsonp2cors.shim.core import (
    RESERVED_WORDS,
    Forward,
    Respond,
    escape_for_script,
    split_legacy,
    validate_callback,
    wrap_jsonp,
)

from .helpers import NEWS, POLICY, core, facts, simulate

FUZZ = settings(max_examples=150, deadline=None)
REFERENCE_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*|\[[0-9]{1,9}\])*\Z")
SHIM = core()
MATCHER: OriginMatcher = POLICY.for_path("/api/weather").matcher

ident = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,8}", fullmatch=True)
callback_names = st.one_of(
    st.builds(lambda parts: ".".join(parts), st.lists(ident, min_size=1, max_size=4)),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
    st.text(alphabet="ab$_.[]0(); <>/\\'\"\u2028", max_size=20),
)


def reference_valid(name: str) -> bool:
    first = re.split(r"[.\[]", name, maxsplit=1)[0]
    return (0 < len(name.encode()) <= 64 and REFERENCE_RE.match(name) is not None
            and first.encode() not in RESERVED_WORDS)


@FUZZ
@given(callback_names)
def test_callback_validation_matches_reference_and_never_echoes(name: str) -> None:
    query = "callback=" + quote(name, safe="")
    r = simulate(SHIM, facts(query=query))
    if name == "":
        assert r.status == 200 and r.body == b'{"temp": 21}'
    elif reference_valid(name):
        assert r.status == 200
        assert r.body.startswith(b"/**/ typeof " + name.encode() + b" === 'function' && ")
    else:
        assert r.status == 400 and not r.called
        assert r.body in (b"Bad Request: the JSONP callback parameter is not a valid function name.\n",)
        assert name.encode() not in r.body or len(name) < 3
    expected = reference_valid(name) and name != ""
    assert validate_callback(name.encode("utf-8", "surrogatepass"), 64) == expected


pair_key = st.sampled_from(
    ["callback", "jsonp", "call%62ack", "%6Asonp", "x", "cb", "callbacks", "Callback", ""]
)
pair_val = st.one_of(st.just(""), ident, st.text(alphabet="a%2Bf;()=&", max_size=6))


@FUZZ
@given(st.lists(st.tuples(pair_key, pair_val, st.booleans()), max_size=5))
def test_query_strings_follow_the_model(pairs: list[tuple[str, str, bool]]) -> None:
    pieces = [f"{k}={v}" if has_eq else k for k, v, has_eq in pairs]
    query = "&".join(pieces)
    assume(";" not in query and "&" not in "".join(v for _, v, _ in pairs))
    decoded_keys = {"callback", "jsonp", "call%62ack", "%6Asonp"}
    hits = [(k, v if has_eq else "") for k, v, has_eq in pairs if k in decoded_keys]
    d = SHIM.decide(facts(query=query))
    if len(hits) > 1:
        assert isinstance(d, Respond) and d.status == 400 and b"more than one" in d.body
    elif not hits:
        assert isinstance(d, Forward) and d.callback is None
    else:
        raw_value = hits[0][1]
        try:
            from urllib.parse import unquote_to_bytes
            value = unquote_to_bytes(raw_value.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            value = None
        if value == "":
            assert isinstance(d, Forward) and d.callback is None
        elif value is not None and reference_valid(value):
            assert isinstance(d, Forward) and d.callback == value.encode()
        else:
            assert isinstance(d, Respond) and d.status == 400


origins = st.one_of(
    st.sampled_from([NEWS, "https://app.partner.example", "https://partner.example", "null", "*", ""]),
    st.builds(lambda s, h, p: f"{s}://{h}{p}", st.sampled_from(["http", "https", "HTTPS", "ftp"]),
              st.from_regex(r"[a-z0-9.-]{1,20}(\.partner\.example|\.example\.com)?", fullmatch=True),
              st.sampled_from(["", ":443", ":8443", "/", "/x"])),
    st.text(max_size=40),
)


@FUZZ
@given(origins)
def test_cors_headers_only_for_matching_origins(origin: str) -> None:
    assume("\n" not in origin and "\r" not in origin)
    r = simulate(SHIM, facts(headers=[("Origin", origin)]))
    acao = r.h("access-control-allow-origin")
    assert r.h("vary") == "Origin"
    if MATCHER.matches(origin):
        assert acao == origin
    else:
        assert acao is None and not any(k.startswith(b"access-control-") for k, _ in r.headers)


def _spell(name: str, flags: list[bool]) -> str:
    padded = flags + [False] * len(name)
    return "".join(c.upper() if f else c.lower() for c, f in zip(name, padded, strict=False))


@FUZZ
@given(st.lists(st.booleans(), min_size=40, max_size=40), st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       st.sampled_from(["x-requested-with", "X-Requested-With, Content-Type", "x-other", ""]))
def test_header_name_spelling_does_not_matter(flags: list[bool], method: str, acrh: str) -> None:
    base = [("origin", NEWS), ("access-control-request-method", method),
            ("access-control-request-headers", acrh)]
    spelled = [(_spell(k, flags[i * 10:]), v) for i, (k, v) in enumerate(base)]
    a = SHIM.decide(facts("OPTIONS", headers=base))
    b = SHIM.decide(facts("OPTIONS", headers=spelled))
    assert isinstance(a, Respond) and isinstance(b, Respond)
    assert (a.status, a.headers, a.body) == (b.status, b.headers, b.body)
    assert a.status == (204 if method in ("GET", "POST") and acrh != "x-other" else 403)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from("ab</>!-\u2028\u2029\"\\ é€😀")),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet="ab</\u2028", max_size=4), children, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(json_values, st.booleans())
def test_wrapped_json_keeps_its_value_and_never_breaks_out(value: object, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    wrapped = wrap_jsonp(b"cb", body)
    assert b"</" not in wrapped and b"<!--" not in wrapped
    assert b"\xe2\x80\xa8" not in wrapped and b"\xe2\x80\xa9" not in wrapped
    inner = wrapped[len(b"/**/ typeof cb === 'function' && cb("):-2]
    assert json.loads(inner) == value
    assert json.loads(escape_for_script(body)) == value
    # and a padded legacy body around the same JSON unwraps to exactly it
    assert split_legacy(b"cb(" + body + b");") == (b"cb", body.strip())


body_parts = st.sampled_from([b"cb(", b"/**/", b"typeof cb === 'function' && ", b")", b";", b"{", b"}", b"[",
                              b"]", b'"', b"\\", b"\xe2\x80\xa8", b"</", b"\xef\xbb\xbf", b" ", b"1", b"null",
                              b"\xff", b"a.b", b"&&", b"/*", b"*/", b"\n"])


@FUZZ
@given(st.lists(body_parts, max_size=12).map(b"".join),
       st.sampled_from(["application/json", "text/javascript", "text/html", "text/plain",
                        "application/json; charset=latin-1", "application/json; charset=bogus"]),
       st.sampled_from(["callback=cb", "", "jsonp=x.y"]),
       st.sampled_from([None, NEWS]),
       st.sampled_from([None, "gzip", "deflate", "br", "zstd"]))
def test_any_response_body_is_handled_without_error(body: bytes, ctype: str, query: str, origin: str | None,
                                                     encoding: str | None) -> None:
    headers = [("Content-Type", ctype)]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    request = facts(query=query, headers=[("Origin", origin)] if origin else [])
    r = simulate(SHIM, request, headers=headers, body=body)
    assert r.status == 200
    if r.body != body:  # transformed: our wrapper, or legacy padding removed
        m = re.match(rb"\A/\*\*/ typeof ([\w$.]+) === 'function' && \1\((.*)\);\Z", r.body, re.S)
        assert (m is not None) == bool(query)
        payload = m.group(2) if m else r.body
        if ctype.startswith("application/json") and m is not None and split_legacy(body) is None:
            # a JSON-typed body is trusted to be JSON (not parsed, for speed); only escaped
            assert b"</" not in payload and b"\xe2\x80\xa8" not in payload
        else:
            json.loads(payload)  # unwrapped padding was checked to be JSON
