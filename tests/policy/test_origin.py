"""Origins: parsing and normalisation as browsers do it, allowlist entries, and the one matcher."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jsonp2cors.policy.origin import (
    NULL_ORIGIN,
    Origin,
    OriginError,
    OriginMatcher,
    OriginPattern,
    is_public_suffix,
    parse_allow_entry,
)

# ------------------------------------------------------------------------------------------- parsing

NORMALISED = [
    ("https://example.com", "https://example.com"),
    ("HTTPS://EXAMPLE.COM", "https://example.com"),
    ("https://Example.com:443", "https://example.com"),
    ("http://example.com:80", "http://example.com"),
    ("http://example.com:443", "http://example.com:443"),
    ("https://example.com:80", "https://example.com:80"),
    ("https://example.com:08443", "https://example.com:8443"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("https://BÜCHER.example", "https://xn--bcher-kva.example"),
    ("https://straße.de", "https://xn--strae-oqa.de"),  # UTS #46 non-transitional, as browsers
    ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://127.0.0.1.:8000", "http://127.0.0.1:8000"),
    ("http://[::1]:8080", "http://[::1]:8080"),
    ("http://[0:0:0:0:0:0:0:1]", "http://[::1]"),
    ("http://[::1]:80", "http://[::1]"),
    ("https://my_host.example", "https://my_host.example"),
    ("chrome-extension://abcdefghijklmnop", "chrome-extension://abcdefghijklmnop"),
    ("null", "null"),
]


@pytest.mark.parametrize(("text", "serialised"), NORMALISED)
def test_parse_normalises_like_a_browser(text: str, serialised: str) -> None:
    origin = Origin.parse(text)
    assert str(origin) == serialised
    assert Origin.parse(serialised) == origin


def test_null_is_its_own_value() -> None:
    assert Origin.parse("null") is NULL_ORIGIN
    assert NULL_ORIGIN.is_null
    assert not Origin.parse("https://null").is_null
    assert Origin.parse("https://example.com").port is None
    assert Origin.parse("https://example.com").effective_port == 443


BAD_ORIGINS = [
    ("https://example.com/", "path"),
    ("https://example.com/app", "path"),
    ("https://example.com?x=1", "query"),
    ("https://example.com#top", "fragment"),
    ("https://user:pw@example.com", "userinfo"),
    ("https://user@example.com", "userinfo"),
    ("example.com", "syntax"),
    ("//example.com", "syntax"),
    ("://example.com", "scheme"),
    ("https://", "host"),
    ("https://exa mple.com", "whitespace"),
    (" https://example.com", "whitespace"),
    ("https://example.com:99999", "port"),
    ("https://example.com:", "port"),
    ("https://example.com:abc", "port"),
    ("https://ex%61mple.com", "host"),
    ("https://a..example.com", "host"),
    ("https://*.example.com", "wildcard"),
    ("https://127.1", "host"),
    ("http://[::1", "host"),
    ("http://[fe80::1%25eth0]", "host"),
    ("file:///etc/passwd", "scheme"),
    ("https://a:b:c", "host"),
    ("https://xn--zz.example", "host"),
]


@pytest.mark.parametrize(("text", "kind"), BAD_ORIGINS)
def test_parse_rejects_what_is_not_an_origin(text: str, kind: str) -> None:
    with pytest.raises(OriginError) as info:
        Origin.parse(text)
    assert info.value.kind == kind
    assert repr(text) in str(info.value)  # the message names the entry


# ------------------------------------------------------------------------------------------ entries

BAD_ENTRIES = [
    ("*", "any"),
    ("null", "null"),
    ("NULL", "null"),
    ("https://example.com/", "path"),
    ("https://example.com/api/*", "path"),
    ("https://example.com?a", "query"),
    ("https://u@example.com", "userinfo"),
    ("^https://example\\.com$", "regex"),
    ("https://.*\\.example\\.com", "regex"),
    ("https://(www|api).example.com", "regex"),
    ("https://[a-z]+.example.com", "regex"),
    ("https://example.com.", "host"),
    ("https://*example.com", "wildcard"),
    ("https://a*.example.com", "wildcard"),
    ("https://api.*.example.com", "wildcard"),
    ("https://*.*.example.com", "wildcard"),
    ("https://*.example.com:*", "wildcard"),
    ("*://example.com", "wildcard"),
    ("https://*", "wildcard"),
    ("https://*.com", "public-suffix"),
    ("https://*.co.uk", "public-suffix"),
    ("https://*.github.io", "public-suffix"),
    ("https://*.s3.amazonaws.com", "public-suffix"),
    ("https://*.xn--p1ai", "public-suffix"),
    ("https://*.рф", "public-suffix"),
    ("https://*.localhost", "public-suffix"),
    ("http://*.10.0.0.1", "host"),
    ("ftp://*.example.com", "scheme"),
]


@pytest.mark.parametrize(("text", "kind"), BAD_ENTRIES)
def test_bad_allowlist_entries_name_the_entry(text: str, kind: str) -> None:
    with pytest.raises(OriginError) as info:
        parse_allow_entry(text)
    assert info.value.kind == kind, str(info.value)
    assert info.value.entry == text


def test_good_entries() -> None:
    assert parse_allow_entry("https://*.Partner.Example") == OriginPattern("https", "partner.example", None)
    assert parse_allow_entry("https://*.example.com:8443") == OriginPattern("https", "example.com", 8443)
    assert parse_allow_entry("https://*.example.com:443") == OriginPattern("https", "example.com", None)
    assert parse_allow_entry("https://*.foo.github.io") == OriginPattern("https", "foo.github.io", None)
    idn = OriginPattern("https", "xn--bcher-kva.example", None)
    assert parse_allow_entry("https://*.bücher.example") == idn
    assert parse_allow_entry("https://App.Example.com") == Origin("https", "app.example.com", None)
    assert str(parse_allow_entry("https://*.example.co.uk")) == "https://*.example.co.uk"


def test_public_suffix_list_is_the_bundled_one() -> None:
    assert is_public_suffix("com") and is_public_suffix("co.uk") and is_public_suffix("github.io")
    assert not is_public_suffix("example.com") and not is_public_suffix("foo.github.io")


# ------------------------------------------------------------------------------------------ matching

ALLOW = ["https://news.example.com", "https://*.partner.example", "http://localhost:3000",
         "https://*.ports.example:8443", "https://xn--bcher-kva.example"]

MATCHES = [
    ("https://news.example.com", True),
    ("https://a.partner.example", True),
    ("https://a.b.c.partner.example", True),
    ("http://localhost:3000", True),
    ("https://x.ports.example:8443", True),
    ("https://xn--bcher-kva.example", True),
    # look-alikes
    ("https://evilnews.example.com", False),
    ("https://news.example.com.evil.org", False),
    ("https://news.example.comevil.org", False),
    ("https://partner.example", False),
    ("https://evilpartner.example", False),
    ("https://a.partner.example.evil.org", False),
    ("https://a.partner.examplex", False),
    ("https://a-partner.example", False),
    ("https://.partner.example", False),
    # scheme and port
    ("http://news.example.com", False),
    ("https://news.example.com:8443", False),
    ("http://a.partner.example", False),
    ("https://a.partner.example:8443", False),
    ("https://x.ports.example", False),
    ("https://x.ports.example:443", False),
    ("https://x.ports.example:8444", False),
    ("http://localhost:3001", False),
    ("http://localhost", False),
    # not what a browser sends: upper case, default ports, paths, trailing dots, Unicode
    ("HTTPS://NEWS.EXAMPLE.COM", False),
    ("https://News.example.com", False),
    ("https://A.partner.example", False),
    ("https://news.example.com:443", False),
    ("https://news.example.com/", False),
    ("https://news.example.com.", False),
    ("https://a.partner.example.", False),
    ("https://bücher.example", False),
    ("https://xn--nws-8ma.example.com", False),  # homograph of news. in punycode
    ("https://nеws.example.com", False),  # Cyrillic е
    # garbage
    ("", False),
    ("null", False),
    ("*", False),
    ("https://news.example.com\r\n", False),
    ("https://a.partner.example\n", False),
    ("https://user@a.partner.example", False),
]


@pytest.mark.parametrize(("origin", "allowed"), MATCHES)
def test_matcher_table(origin: str, allowed: bool) -> None:
    assert OriginMatcher(ALLOW).matches(origin) is allowed


def test_matcher_null_only_when_asked() -> None:
    assert not OriginMatcher(ALLOW).matches("null")
    assert OriginMatcher(ALLOW, allow_null=True).matches("null")
    with pytest.raises(OriginError):
        OriginMatcher(["null"])


def test_matcher_any() -> None:
    m = OriginMatcher(["*"])
    assert m.allows_any
    assert m.matches("https://anything.example") and m.matches("http://localhost:1")
    assert not m.matches("null")  # the opaque origin only with allow_null, never by default
    assert OriginMatcher(["*"], allow_null=True).matches("null")
    assert not m.matches("not an origin") and not m.matches("HTTPS://X.COM")
    assert not OriginMatcher(ALLOW).allows_any


def test_matcher_rejects_bad_entries_and_never_raises_on_input() -> None:
    with pytest.raises(OriginError, match="public suffix"):
        OriginMatcher(["https://*.co.uk"])
    m = OriginMatcher(ALLOW)
    for junk in [None, 42, b"https://news.example.com", "\x00", "https://" + "a." * 300 + "partner.example"]:
        assert m.matches(junk) in (True, False)  # type: ignore[arg-type]


def test_matcher_normalises_entries() -> None:
    m = OriginMatcher(["HTTPS://News.Example.COM:443", "https://bücher.example", "https://news.example.com"])
    assert m.entries == ("https://news.example.com", "https://xn--bcher-kva.example")
    assert m.matches("https://news.example.com") and m.matches("https://xn--bcher-kva.example")
    assert m == OriginMatcher(["https://xn--bcher-kva.example", "https://news.example.com"])


# ---------------------------------------------------------------------------------------- properties

label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
unicode_label = st.text(alphabet="abcdeäöüßéñçøåкирилица", min_size=1, max_size=10)
domain = st.lists(label, min_size=2, max_size=4).map(".".join)
scheme = st.sampled_from(["http", "https"])
port = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))


def _origin_text(s: str, host: str, p: int | None) -> str:
    return f"{s}://{host}" + ("" if p is None else f":{p}")


@given(scheme, st.one_of(domain, st.lists(unicode_label, min_size=2, max_size=3).map(".".join)), port,
       st.booleans())
def test_serialise_parse_is_stable(s: str, host: str, p: int | None, upper: bool) -> None:
    text = _origin_text(s, host.upper() if upper else host, p)
    try:
        origin = Origin.parse(text)
    except OriginError:
        assume(False)
        return
    assert Origin.parse(str(origin)) == origin
    assert str(Origin.parse(str(origin))) == str(origin)
    if origin.port is not None:
        assert origin.port != {"http": 80, "https": 443}[s]
    # what a browser sends (the serialisation) matches an allowlist holding the entry as written
    assert OriginMatcher([text]).matches(str(origin))


@given(scheme, domain, port, st.lists(label, min_size=1, max_size=3), scheme, port, domain)
def test_pattern_never_matches_outside_its_domain(
    s: str, d: str, p: int | None, sub: list[str], other_s: str, other_p: int | None, other_d: str
) -> None:
    last = d.rsplit(".", 1)[-1]
    # a last label that is a number (decimal or WHATWG's 0x hex) makes an IPv4 host, refused under a wildcard
    assume(not is_public_suffix(d) and not last.isdigit() and not last.startswith("0x"))
    pattern_text = _origin_text(s, "*." + d, p)
    m = OriginMatcher([pattern_text])
    inside = _origin_text(s, ".".join([*sub, d]), p)
    assert m.matches(str(Origin.parse(inside)))
    # the domain itself, look-alikes, other scheme or port never match
    assert not m.matches(_origin_text(s, d, p))
    assert not m.matches(_origin_text(s, sub[0] + d, p))
    assert not m.matches(_origin_text(s, ".".join([*sub, d, "evil", "org"]), p))
    assert not m.matches(_origin_text(s, ".".join([*sub, d]) + "x", p))
    default = {"http": 80, "https": 443}
    if (other_s, None if other_p == default[other_s] else other_p) != (s, None if p == default[s] else p):
        assert not m.matches(str(Origin.parse(_origin_text(other_s, ".".join([*sub, d]), other_p))))
    candidate = _origin_text(s, other_d, p)
    if m.matches(candidate):
        assert other_d.endswith("." + d)


@given(st.text(max_size=60))
def test_matcher_never_raises(text: str) -> None:
    m = OriginMatcher([*ALLOW, "*"])
    result = m.matches(text)
    assert result is True or result is False
    if result and text != "null":
        # anything accepted is a canonical origin that parses back to itself
        assert str(Origin.parse(text)) == text
