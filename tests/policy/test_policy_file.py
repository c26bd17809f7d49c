"""The policy file (contract 2): loading, errors that name the key, defaults, round trip, route resolution."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.policy import CORSSettings, JSONPSettings, Policy, PolicyError, Route

CONTRACT_EXAMPLE = """
version = 1
[cors]
allow_origins = ["https://news.example.com", "https://*.partner.example"]
allow_methods = ["GET", "HEAD"]
allow_headers = []
expose_headers = []
allow_credentials = false
max_age = 600
[jsonp]
callback_params = ["callback", "jsonp"]
sunset = "2027-06-30"     # optional; from that day JSONP requests get 410 Gone
[[route]]                 # optional overrides; the longest matching path prefix wins
path = "/api/account"
allow_credentials = true
"""


def test_contract_example_loads() -> None:
    policy = Policy.from_toml(CONTRACT_EXAMPLE)
    assert policy.cors.allow_origins == ("https://news.example.com", "https://*.partner.example")
    assert policy.jsonp.sunset == datetime.date(2027, 6, 30)
    assert policy.routes == (Route(path="/api/account", allow_credentials=True),)
    eff = policy.for_path("/api/account/x")
    assert eff.cors.allow_credentials and eff.route == policy.routes[0]
    assert eff.matcher.matches("https://a.partner.example")
    assert not policy.for_path("/api/weather").cors.allow_credentials


def test_defaults_are_documented_values() -> None:
    policy = Policy.from_toml("")
    assert policy.cors == CORSSettings()
    assert policy.cors.allow_origins == () and policy.cors.allow_methods == ("GET", "HEAD")
    assert policy.cors.max_age == 600 and not policy.cors.allow_credentials and not policy.cors.allow_null
    assert policy.jsonp == JSONPSettings()
    assert policy.jsonp.callback_params == ("callback", "jsonp") and policy.jsonp.check_referer
    assert policy.jsonp.max_callback_length == 128 and policy.jsonp.sunset is None
    assert not policy.for_path("/").matcher.matches("https://example.com")


def test_normalisation_methods_headers_origins() -> None:
    policy = Policy.from_toml("""
[cors]
allow_origins = ["HTTPS://News.Example.com:443", "https://news.example.com", "https://bücher.example"]
allow_methods = ["get", "Put", "GET"]
allow_headers = ["X-Requested-With", "x-requested-with", "Content-Type"]
""")
    assert policy.cors.allow_origins == ("https://news.example.com", "https://xn--bcher-kva.example")
    assert policy.cors.allow_methods == ("GET", "PUT")
    assert policy.cors.allow_headers == ("X-Requested-With", "Content-Type")
    eff = policy.for_path("/x")
    assert eff.allows_method("put") and not eff.allows_method("DELETE")
    assert eff.allows_method("POST")  # CORS-safelisted: browsers allow it whatever the list says
    assert eff.allows_headers(["content-type", "X-REQUESTED-WITH"])
    assert not eff.allows_headers(["x-other"])


def test_python_construction_normalises_too() -> None:
    cors = CORSSettings(allow_origins=["https://A.example"], allow_methods=["post"])  # type: ignore[arg-type]
    assert cors.allow_origins == ("https://a.example",) and cors.allow_methods == ("POST",)


ERRORS = [
    ('[cors]\nallow_origins = ["https://x.example/"]', "cors.allow_origins[0]", "no path"),
    ('[cors]\nallow_origins = ["https://*.com"]', "cors.allow_origins[0]", "public suffix"),
    ('[cors]\nallow_origins = ["null"]', "cors.allow_origins[0]", "allow_null"),
    ('[cors]\nallow_origins = "https://x.example"', "cors.allow_origins", "a list of strings"),
    ("[cors]\nallow_origins = [1]", "cors.allow_origins[0]", "a string"),
    ('[cors]\nmax_age = "600"', "cors.max_age", "whole number"),
    ("[cors]\nmax_age = -1", "cors.max_age", "whole number"),
    ("[cors]\nallow_credentials = 1", "cors.allow_credentials", "true or false"),
    ("[cors]\nallow_credential = true", "cors.allow_credential", "unknown key"),
    ('[cors]\nallow_methods = ["GET POST"]', "cors.allow_methods[0]", "HTTP method"),
    ('[cors]\nallow_headers = ["X Bad"]', "cors.allow_headers[0]", "header name"),
    ('[cors]\nallow_origins = ["*"]\nallow_credentials = true', "cors.allow_origins", "'*' cannot"),
    ("corss = 1", "corss", "unknown key"),
    ("version = 2", "version", "expected 1"),
    ('[jsonp]\nsunset = "30.06.2027"', "jsonp.sunset", "YYYY-MM-DD"),
    ("[jsonp]\nsunset = 2027-06-30T10:00:00", "jsonp.sunset", "no time of day"),
    ('[jsonp]\ncallback_params = ["cb;x"]', "jsonp.callback_params[0]", "query parameter"),
    ('[jsonp]\ndocs_url = "ftp://x"', "jsonp.docs_url", "http(s) URL"),
    ("[jsonp]\nmax_callback_length = 0", "jsonp.max_callback_length", ">= 1"),
    ("[[route]]\nallow_credentials = true", "route[0].path", "missing"),
    ('[[route]]\npath = "api"', "route[0].path", "starting with '/'"),
    ('[[route]]\npath = "/api/*"', "route[0].path", "wildcard"),
    ('[[route]]\npath = "/a"\n[[route]]\npath = "/a/"', "route[1].path", "listed twice"),
    ('[[route]]\npath = "/a"\nallow_origins = ["https://*.co.uk"]', "route[0].allow_origins[0]",
     "public suffix"),
    ('[[route]]\npath = "/a"\nmax_age = "x"', "route[0].max_age", "whole number"),
    ('[[route]]\npath = "/a"\nallow_null = true', "route[0].allow_null", "unknown key"),
    ('[cors]\nallow_origins = ["*"]\n[[route]]\npath = "/a"\nallow_credentials = true',
     "route[0].allow_origins", "'*' cannot"),
    ("[cors\n", "", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "key", "says"), ERRORS)
def test_errors_name_the_key_and_the_expectation(text: str, key: str, says: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_toml(text)
    assert info.value.key == key
    assert says in str(info.value)


def test_from_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cors-policy.toml"
    path.write_text("[cors]\nmax_age = true\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cors.max_age: .*cors-policy.toml"):
        Policy.from_file(path)
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.from_file(tmp_path / "missing.toml")


ROUTED = Policy.from_toml("""
[cors]
allow_origins = ["https://a.example"]
[[route]]
path = "/api"
max_age = 1
[[route]]
path = "/api/account/"
allow_credentials = true
[[route]]
path = "/static"
allow_origins = ["*"]
""")


@pytest.mark.parametrize(("path", "route"), [
    ("/api", "/api"),
    ("/api/", "/api"),
    ("/api/weather", "/api"),
    ("/api/account", "/api/account"),
    ("/api/account/", "/api/account"),
    ("/api/account/42/edit", "/api/account"),
    ("/api/accounts", "/api"),
    ("/api/account?x=1", "/api/account"),
    ("/apix", None),
    ("/", None),
    ("", None),
    ("/static/app.js", "/static"),
    ("/Static/app.js", None),
])
def test_longest_prefix_on_segment_boundaries(path: str, route: str | None) -> None:
    eff = ROUTED.for_path(path)
    assert (eff.route.path if eff.route else None) == route


def test_route_inherits_unset_fields() -> None:
    eff = ROUTED.for_path("/api/account/x")
    assert eff.cors.allow_credentials and eff.cors.max_age == 600
    assert eff.cors.allow_origins == ("https://a.example",)
    assert ROUTED.for_path("/static/x").matcher.allows_any
    assert ROUTED.for_path("/api/x").cors.max_age == 1


def test_root_route_overrides_the_default() -> None:
    policy = Policy(routes=(Route(path="/", max_age=5), Route(path="/api", max_age=7)))
    assert policy.for_path("/x").cors.max_age == 5
    assert policy.for_path("/api/x").cors.max_age == 7


def test_round_trip_is_stable(tmp_path: Path) -> None:
    policy = Policy.from_toml(CONTRACT_EXAMPLE)
    text = policy.to_toml()
    again = Policy.from_toml(text)
    assert again == policy
    assert again.to_toml() == text
    path = tmp_path / "p.toml"
    policy.to_file(path)
    assert Policy.from_file(path) == policy


def test_to_toml_writes_comments_deterministically() -> None:
    policy = Policy.from_toml(CONTRACT_EXAMPLE)
    comments = {
        "cors.allow_origins:https://news.example.com": "1,204 JSONP calls from this origin, last 2026-11-20",
        "route:/api/account": "app/views.py:42 account()",
        "route:/api/account.allow_credentials": "app/views.py:42 reads the session",
        "jsonp": "JSONP settings\nsecond line",
    }
    text = policy.to_toml(comments=comments, header="generated")
    assert text.startswith("# generated\nversion = 1\n")
    assert '    "https://news.example.com",  # 1,204 JSONP calls from this origin, last 2026-11-20\n' in text
    assert "# app/views.py:42 account()\n[[route]]\n" in text
    assert "allow_credentials = true  # app/views.py:42 reads the session\n" in text
    assert "# JSONP settings\n# second line\n[jsonp]\n" in text
    assert Policy.from_toml(text) == policy
    assert policy.to_toml(comments=comments, header="generated") == text


header_name = st.sampled_from(["X-Requested-With", "Content-Type", "X-Total", "Authorization", "x-api-key"])
origin_entry = st.sampled_from(["https://a.example", "https://*.b.example", "http://localhost:3000",
                                "https://c.example:8443", "https://bücher.example"])
method = st.sampled_from(["GET", "HEAD", "PUT", "delete", "PATCH"])
segment = st.text(alphabet="abcdefghij-_", min_size=1, max_size=6)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    creds = draw(st.booleans())
    origins = draw(st.lists(origin_entry, max_size=4))
    if not creds and draw(st.booleans()):
        origins.append("*")
    paths = draw(st.lists(st.lists(segment, min_size=1, max_size=3).map(lambda s: "/" + "/".join(s)),
                          max_size=4, unique=True))
    routes = [Route(path=p, allow_credentials=draw(st.one_of(st.none(), st.just(False))),
                    max_age=draw(st.one_of(st.none(), st.integers(0, 90000))),
                    allow_headers=draw(st.one_of(st.none(), st.lists(header_name, max_size=2))),
                    check_referer=draw(st.one_of(st.none(), st.booleans())))
              for p in paths]
    sunset = draw(st.one_of(st.none(), st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 1, 1))))
    return Policy(
        cors=CORSSettings(allow_origins=tuple(origins),
                          allow_methods=tuple(draw(st.lists(method, max_size=4))),
                          allow_headers=tuple(draw(st.lists(header_name, max_size=3))),
                          expose_headers=tuple(draw(st.lists(header_name, max_size=2))),
                          allow_credentials=creds, max_age=draw(st.integers(0, 100000)),
                          allow_null=draw(st.booleans()), allow_private_network=draw(st.booleans())),
        jsonp=JSONPSettings(callback_params=tuple(draw(st.lists(st.sampled_from(["callback", "cb", "jsonp"]),
                                                                 min_size=1, max_size=3))),
                            sunset=sunset, docs_url=draw(st.one_of(st.none(), st.just("https://d.example/x"))),
                            check_referer=draw(st.booleans())),
        routes=tuple(routes),
    )


@settings(max_examples=60, deadline=None)
@given(policies())
def test_round_trip_property(policy: Policy) -> None:
    text = policy.to_toml()
    again = Policy.from_toml(text)
    assert again == policy
    assert again.to_toml() == text
    for route in policy.routes:
        assert again.for_path(route.path + "/x").route == route
