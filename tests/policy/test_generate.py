"""`policy generate`: routes, credentials and callback parameters from a scan, origins from usage records."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jsonp2cors.cli import app
from jsonp2cors.findings import Consumer, Endpoint, ScanResult
from jsonp2cors.policy import Policy
from jsonp2cors.policy.generate import generate, route_prefix
from jsonp2cors.policy.lint import lint_text
from jsonp2cors.policy.origin import OriginError
from jsonp2cors.shim.usage import read_usage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

RESULT = ScanResult(
    endpoints=(
        Endpoint("app/views.py", 12, "weather", "flask", "/api/weather", ("GET",), ("callback",)),
        Endpoint("app/views.py", 42, "account", "flask", "/api/account/<int:id>", ("GET", "post"),
                 ("callback", "cb"), credentials=True, credentials_reason="reads the session"),
        Endpoint("app/views.py", 50, "account_short", "flask", "/api/account", ("GET",), ("cb",)),
        Endpoint("app/util.py", 3, "pad", "flask", None, ("GET",), ("jsonp",), role="helper"),
        Endpoint("app/raw.py", 7, "raw_view", "wsgi", None, ("GET",), ("callback",)),
        Endpoint("tests/test_x.py", 3, "fake", "wsgi", "/fake", ("GET",), ("testcb",), test_code=True),
        Endpoint("news/views.py", 8, "story", "django", r"^api/story/(?P<id>[0-9]+)/$", ("GET",),
                 ("callback",)),
    ),
    consumers=(
        Consumer("templates/a.html", 5, "script-tag", callback_param="callback"),
        Consumer("templates/a.html", 9, "script-tag", callback_param="onload", migratable=False),
        Consumer("static/b.js", 2, "jquery-ajax", callback_param="jsoncallback"),
    ),
)

USAGE_LINES = [
    {"time": "2026-11-18T10:00:00Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
     "callback": "show", "origin": "https://news.example.com", "sec_fetch_site": "cross-site",
     "sec_fetch_dest": "script", "user_agent": "UA", "status": 200},
    {"time": "2026-11-20T09:00:00Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
     "callback": "show", "origin": "https://news.example.com", "sec_fetch_site": "cross-site",
     "sec_fetch_dest": "script", "user_agent": "UA", "status": 200},
    {"time": "2026-11-19T09:00:00Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
     "callback": "show", "origin": "https://blog.partner.example", "sec_fetch_site": None,
     "sec_fetch_dest": None, "user_agent": None, "status": 200},
    {"time": "2026-11-19T09:00:00Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
     "callback": "show", "origin": "https://api.example.com", "sec_fetch_site": "same-origin",
     "sec_fetch_dest": "script", "user_agent": "UA", "status": 200},
    {"time": "2026-11-19T09:00:00Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
     "callback": "show", "origin": None, "sec_fetch_site": None, "sec_fetch_dest": None, "user_agent": None,
     "status": 200},
]


def _usage_file(tmp_path: Path) -> Path:
    path = tmp_path / "usage.jsonl"
    lines = [json.dumps(r) for r in USAGE_LINES] + ['{"time": "2026-11-1', ""]  # a line cut short, a blank
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("route", "prefix", "cut"), [
    ("/api/weather", "/api/weather", False),
    ("/api/stocks/<symbol>", "/api/stocks", True),
    ("/api/{id:int}/x", "/api", True),
    (r"^api/story/(?P<story_id>[0-9]+)/$", "/api/story", True),
    (r"^legacy/weather\.js$", "/legacy/weather.js", False),
    ("api/top/", "/api/top", False),
    ("/items/:id", "/items", True),
    ("/", "/", False),
])
def test_route_prefix(route: str, prefix: str, cut: bool) -> None:
    assert route_prefix(route) == (prefix, cut)


def test_routes_credentials_and_params_from_the_scan() -> None:
    generated = generate(RESULT, origins=["https://news.example.com"])
    policy = generated.policy
    assert [r.path for r in policy.routes] == ["/api/account", "/api/story", "/api/weather"]
    account = policy.routes[0]
    assert account.allow_methods == ("GET", "POST") and account.allow_credentials is True
    assert policy.routes[2].allow_credentials is False
    # every parameter name the scan saw, most used first; test code and SDK loaders left out
    assert policy.jsonp.callback_params == ("callback", "cb", "jsoncallback", "jsonp")
    assert policy.cors.allow_origins == ("https://news.example.com",)
    assert not policy.cors.allow_credentials
    assert generated.notes == ("app/raw.py:7 raw_view: no route known; covered by [cors] only",)


def test_comments_say_where_each_entry_comes_from() -> None:
    text = generate(RESULT, origins=["https://news.example.com"], source="app").to_toml()
    assert ("# app/views.py:42 account() (flask route '/api/account/<int:id>', variable part cut to a "
            "prefix)") in text
    assert "# app/views.py:50 account_short() (flask route '/api/account')" in text
    assert "allow_credentials = true  # app/views.py:42 reads the session" in text
    assert '"https://news.example.com",  # given with --origin' in text
    assert '"jsoncallback",  # seen 1x: static/b.js:2' in text
    assert "Scan of app: 5 JSONP endpoint(s), 3 consumer(s), 3 route(s)." in text
    assert "# Note: app/raw.py:7 raw_view: no route known; covered by [cors] only" in text


def test_usage_records_add_origins_with_counts(tmp_path: Path) -> None:
    records = read_usage([_usage_file(tmp_path)])
    generated = generate(RESULT, origins=["https://news.example.com/"], usage=records)
    assert generated.policy.cors.allow_origins == ("https://blog.partner.example", "https://news.example.com")
    text = generated.to_toml()
    assert ('"https://news.example.com",  # given with --origin; 2 JSONP calls from this origin, '
            "last 2026-11-20") in text
    assert '"https://blog.partner.example",  # 1 JSONP call from this origin, last 2026-11-19' in text
    assert "api.example.com" not in text.split("[cors]")[1]  # same-origin calls need no CORS
    assert "1 JSONP call(s) without a Referer origin, 1 same-origin call(s)" in text


def test_usage_origins_under_a_declared_pattern_are_folded_into_it(tmp_path: Path) -> None:
    records = read_usage([_usage_file(tmp_path)])
    generated = generate(RESULT, origins=["https://*.partner.example"], usage=records)
    assert generated.policy.cors.allow_origins == ("https://*.partner.example", "https://news.example.com")
    assert ('"https://*.partner.example",  # given with --origin; 1 JSONP call from '
            "https://blog.partner.example, last 2026-11-19") in generated.to_toml()


def test_generated_policy_is_deterministic_and_passes_its_own_lint(tmp_path: Path) -> None:
    records = read_usage([_usage_file(tmp_path)])
    first = generate(RESULT, origins=["https://*.partner.example"], usage=records,
                     sunset=datetime.date(2027, 6, 30)).to_toml()
    shuffled = ScanResult(endpoints=RESULT.endpoints[::-1], consumers=RESULT.consumers[::-1])
    second = generate(shuffled, origins=["https://*.partner.example"], usage=list(reversed(records)),
                      sunset=datetime.date(2027, 6, 30)).to_toml()
    assert first == second
    # passes its own lint: no error; the one warning is the POST the account endpoint accepts (CSRF note)
    findings = lint_text(first, today=datetime.date(2026, 11, 25))
    assert [(f.code, f.key) for f in findings] == [("CP104", "route[0].allow_methods")]
    again = Policy.from_toml(first)
    assert again.jsonp.sunset == datetime.date(2027, 6, 30)
    assert again.to_toml() == Policy.from_toml(again.to_toml()).to_toml()


def test_bad_origin_is_named() -> None:
    with pytest.raises(OriginError, match="public suffix"):
        generate(RESULT, origins=["https://*.co.uk"])


def test_no_endpoints_keeps_defaults() -> None:
    generated = generate(ScanResult())
    assert generated.policy.routes == () and generated.policy.jsonp.callback_params == ("callback", "jsonp")
    assert "no origin given" in generated.to_toml()


# ------------------------------------------------------------------------------------------- fixtures

EXPECTED = {
    "flask": {
        "routes": {"/api/weather": (("GET",), False), "/api/news": (("GET", "HEAD"), False),
                   "/api/profile": (("GET",), True), "/api/quote": (("GET",), False),
                   "/api/stocks": (("GET",), False), "/widgets/ticker": (("GET",), False),
                   "/widgets/cities": (("GET",), False)},
        "params": {"callback", "cb", "jsoncallback"},
    },
    "django": {
        "routes": {"/api/headlines": (("GET",), False), "/api/story": (("GET",), False),
                   "/legacy/weather.js": (("GET",), False), "/api/profile": (("GET",), True),
                   "/api/top": (("GET",), False)},
        "params": {"callback", "jsonp"},
    },
    "starlette": {
        "routes": {"/api/weather": (("GET",), False), "/api/account": (("GET",), True)},
        "params": {"callback", "jsonp"},
    },
}


@pytest.mark.parametrize("framework", sorted(EXPECTED))
def test_generate_on_the_fixture_apps(framework: str) -> None:
    from jsonp2cors.scan import scan

    result = scan([FIXTURES / framework])
    generated = generate(result, origins=["https://news.example.com"])
    policy = generated.policy
    got = {r.path: (r.allow_methods, r.allow_credentials) for r in policy.routes}
    assert got == EXPECTED[framework]["routes"]
    assert set(policy.jsonp.callback_params) >= EXPECTED[framework]["params"]
    text = generated.to_toml()
    assert [f for f in lint_text(text) if f.severity == "error"] == []
    for path, (_, credentials) in EXPECTED[framework]["routes"].items():
        assert policy.for_path(path + "/x").cors.allow_credentials is credentials


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_prints_to_stdout_and_writes_files(tmp_path: Path) -> None:
    runner = CliRunner()
    scan_file = tmp_path / "scan.json"
    scan_file.write_text(RESULT.to_json(), encoding="utf-8")
    usage = _usage_file(tmp_path)
    args = ["policy", "generate", "--from-scan", str(scan_file), "--origin", "https://news.example.com",
            "--from-usage", str(usage), "--sunset", "2027-06-30"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "[[route]]" in result.stdout and 'sunset = "2027-06-30"' in result.stdout
    out = tmp_path / "cors-policy.toml"
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0
    assert Policy.from_file(out).routes[0].path == "/api/account"
    assert runner.invoke(app, ["policy", "lint", str(out)]).exit_code == 0


@pytest.mark.parametrize(("extra", "says"), [
    (["--origin", "https://*.com"], "public suffix"),
    (["--origin", "https://x.example/app"], "no path"),
    (["--sunset", "next year"], "YYYY-MM-DD"),
    (["--from-usage", "/nonexistent/usage.jsonl"], "--from-usage"),
])
def test_cli_usage_errors_exit_2(tmp_path: Path, extra: list[str], says: str) -> None:
    scan_file = tmp_path / "scan.json"
    scan_file.write_text(RESULT.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "generate", "--from-scan", str(scan_file), *extra])
    assert result.exit_code == 2
    assert says in result.output


def test_a_handler_with_two_routes_gets_both() -> None:
    twice = Endpoint("app/views.py", 12, "weather", "flask", "/api/weather", ("GET",), ("callback",),
                     credentials=True, routes=("/api/weather", "/v1/weather"))
    generated = generate(ScanResult(endpoints=(twice,)), origins=["https://news.example.com"])
    routes = {r.path: r for r in generated.policy.routes}
    assert set(routes) == {"/api/weather", "/v1/weather"}
    assert routes["/v1/weather"].allow_credentials is True
    assert "route '/v1/weather'" in generated.to_toml()
