"""The migration proven in headless Chromium: legacy JSONP pages and migrated fetch() pages through the shim.

Each scenario asserts what the page itself saw (text its scripts wrote into the DOM, console messages,
dialogs) and, where it proves the point, what reached the server. Run with `pytest tests/e2e`;
skip locally with `--skip-slow` or `-m "not browser"`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import SETTLED_JS, Api, Stack, Visit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BACKENDS = ["flask", "starlette"]
WEATHER = "Lyon 21 C"
NEWS = "Bridge reopens after repairs"
FETCH_BLOCKED = "blocked: TypeError: Failed to fetch"
HOSTILE_SLOTS = ["h-alert", "h-encoded", "h-newline", "h-breakout", "h-assign", "h-legacy"]


def _cors_errors(visit: Visit) -> list[str]:
    return [text for text in visit.probe.errors() if "blocked by CORS policy" in text]


def _wait_for_usage(api: Api, predicate: Callable[[dict[str, Any]], bool],
                    timeout: float = 10.0) -> list[Any]:
    """Usage records are written off the request path by a background thread: poll for them."""
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if api.usage_path.exists():
            lines = api.usage_path.read_text(encoding="utf-8").splitlines()
            records = [json.loads(line) for line in lines if line.strip()]
            if any(predicate(r) for r in records):
                return records
        time.sleep(0.1)
    return records


# -------------------------------------------------------------------------------------------- scenario 1
@pytest.mark.parametrize("kind", BACKENDS)
def test_legacy_jsonp_page_still_works_through_the_shim(stack: Stack, browse: Callable[..., Visit],
                                                        kind: str) -> None:
    api = stack.api(kind)
    visit = browse(stack.url(api, "legacy.html"))

    assert visit.text("weather") == WEATHER  # <script src=...?callback=showWeather>
    assert visit.text("account") == "user: none"  # credentialed route, caller on the allowlist
    assert visit.text("news") == NEWS  # jQuery $.ajax({dataType: "jsonp"})
    assert visit.text("weather-getjson") == WEATHER  # jQuery $.getJSON("...?callback=?")
    assert visit.probe.errors() == []
    assert visit.probe.dialogs == []

    # The page got hardened JSONP with the transition headers, not the app's own padding.
    headers = visit.probe.headers("/api/weather?callback=showWeather")
    assert headers["content-type"].startswith("application/javascript")
    assert headers["x-content-type-options"] == "nosniff"
    assert "deprecation" in headers
    assert "sunset" in headers
    assert "rel=\"deprecation\"" in headers.get("link", "")
    # The Flask view pads by hand (`showWeather({...});`); the shim re-wraps it as guarded, hardened JSONP.
    body = visit.page.request.get(f"{api.origin}/api/weather?callback=showWeather").text()
    assert "typeof showWeather === 'function' && showWeather(" in body, body
    assert "showWeather(showWeather(" not in body

    # The shim recorded the JSONP call, with the calling page's origin taken from the Referer.
    records = _wait_for_usage(api, lambda r: r["callback"] == "showWeather")
    calls = [r for r in records if r["callback"] == "showWeather"]
    assert calls, f"no usage record for showWeather in {records}"
    assert calls[0]["path"] == "/api/weather"
    assert calls[0]["origin"] == stack.pages.origin
    assert calls[0]["sec_fetch_dest"] == "script"


# -------------------------------------------------------------------------------------------- scenario 2
@pytest.mark.parametrize("kind", BACKENDS)
def test_migrated_page_fetches_with_cors_from_the_allowed_origin(stack: Stack, browse: Callable[..., Visit],
                                                                 kind: str) -> None:
    api = stack.api(kind)
    visit = browse(stack.url(api, "migrated.html"))

    assert visit.text("weather") == WEATHER
    assert visit.text("account") == "user: alice"  # the session cookie set by login travelled back
    assert visit.text("delete") == "deleted 42"  # DELETE + X-Requested-With went through a preflight
    assert visit.probe.errors() == []

    cookies = visit.page.context.cookies(api.origin)
    assert cookies, "the login response's session cookie was not stored"

    def preflights() -> list[dict[str, Any]]:
        return [r for r in api.requests() if r["method"] == "OPTIONS" and r["path"] == "/api/items/42"
                and r["origin"] == stack.pages.origin]

    seen = preflights()
    assert [r["acrm"] for r in seen] == ["DELETE"]
    assert any(r["method"] == "DELETE" and r["origin"] == stack.pages.origin for r in api.requests())

    # max_age = 0: the browser must not cache the preflight, so a reload preflights again.
    visit.page.reload()
    visit.page.wait_for_function("() => document.body.dataset.done === 'yes'", timeout=15_000)
    assert visit.text("delete") == "deleted 42"
    assert len(preflights()) == 2


@pytest.mark.parametrize("kind", BACKENDS)
def test_legacy_page_rewritten_by_the_tool_works_with_cors(stack: Stack, browse: Callable[..., Visit],
                                                          kind: str) -> None:
    """The legacy page after `jsonp2cors` rewrote it: same values on screen, now over CORS, not JSONP."""
    rewrite = pytest.importorskip("jsonp2cors.rewrite")
    if not hasattr(rewrite, "plan"):
        pytest.skip("jsonp2cors.rewrite.plan is not available in this tree")
    api = stack.api(kind)
    folder = stack.rewritten(api)
    seen_before = len(api.requests())
    visit = browse(stack.url(api, "legacy.html", folder=folder), label="rewritten-legacy")

    assert visit.text("weather") == WEATHER
    assert visit.text("account") == "user: none"
    assert visit.text("news") == NEWS
    assert visit.text("weather-getjson") == WEATHER
    assert visit.probe.errors() == []
    calls = api.requests()[seen_before:]
    assert calls, "the rewritten page made no request to the API"
    assert all(r["origin"] == stack.pages.origin for r in calls), calls  # CORS requests carry Origin
    assert not any("callback=" in r["query"] for r in calls), calls  # and no JSONP is left


@pytest.mark.parametrize("kind", BACKENDS)
def test_logged_in_user_keeps_the_session_after_the_rewrite(stack: Stack, browse: Callable[..., Visit],
                                                            kind: str) -> None:
    """A script tag sends the user's cookies (same site), so JSONP on /api/account showed the logged-in user;
    the rewritten page must still show them, which needs `credentials: "include"` on that fetch. The policy
    handed to `rewrite.plan` marks the route as credentialed even though the app code behind it is not JSONP
    (the shim serves the padding), so the scan alone cannot tell."""
    rewrite = pytest.importorskip("jsonp2cors.rewrite")
    if not hasattr(rewrite, "plan"):
        pytest.skip("jsonp2cors.rewrite.plan is not available in this tree")
    api = stack.api(kind)
    folder = stack.rewritten(api)
    legacy = browse(stack.url(api, "legacy.html"), label="legacy-logged-in")
    assert legacy.page.request.post(f"{api.origin}/api/account/login").ok
    legacy.page.reload()
    legacy.page.wait_for_function(SETTLED_JS, timeout=15_000)
    assert legacy.text("account") == "user: alice"

    migrated = browse(stack.url(api, "legacy.html", folder=folder), label="rewritten-logged-in")
    assert migrated.text("account") == "user: alice"
    assert migrated.probe.errors() == []


# ------------------------------------------------------------------- scenarios 1 and 2b on the bundled site
FIXTURE_SLOTS = ("weather", "news", "quote", "stock")


def _assert_fixture_values(visit: Visit) -> None:
    """What fixtures/flask/templates/index.html writes once its four JSONP calls have answered."""
    values = {slot: visit.text(slot) for slot in FIXTURE_SLOTS}
    assert values["weather"] == "berlin: 7°", values  # script tag, padded by the app's jsonp() helper
    assert values["news"] == "3 headlines", values  # $.ajax jsonp + jsonpCallback, padded by the helper
    assert values["quote"] and not values["quote"].startswith("loading"), values  # $.getJSON, flask-jsonpify
    assert values["stock"] == "ACME 101.5", values  # $.ajax with jsonp: "jsoncallback", hand-made padding


def test_bundled_flask_site_legacy_page_works_through_the_shim(stack: Stack,
                                                               browse: Callable[..., Visit]) -> None:
    api = stack.api("fixture-flask")
    visit = browse(stack.url(api, "index.html"), label="fixture-legacy")

    _assert_fixture_values(visit)
    assert visit.probe.errors() == []
    assert visit.probe.dialogs == []
    jsonp = [r for r in api.requests() if "callback=" in r["query"]]
    assert len(jsonp) == 4 and all(r["status"] == 200 for r in jsonp), jsonp


def test_bundled_flask_site_page_rewritten_by_the_tool_works_with_cors(
        stack: Stack, browse: Callable[..., Visit]) -> None:
    rewrite = pytest.importorskip("jsonp2cors.rewrite")
    if not hasattr(rewrite, "plan"):
        pytest.skip("jsonp2cors.rewrite.plan is not available in this tree")
    api = stack.api("fixture-flask")
    folder = stack.rewritten(api)
    seen_before = len(api.requests())
    visit = browse(stack.url(api, "index.html", folder=folder), label="fixture-rewritten")

    _assert_fixture_values(visit)
    assert visit.probe.errors() == []
    calls = api.requests()[seen_before:]
    assert len(calls) == 4, calls
    assert all(r["origin"] == stack.pages.origin for r in calls), calls
    assert not any("callback=" in r["query"] for r in calls), calls


# -------------------------------------------------------------------------------------------- scenario 3
@pytest.mark.parametrize("kind", BACKENDS)
def test_migrated_page_from_a_disallowed_origin_is_blocked(stack: Stack, browse: Callable[..., Visit],
                                                           kind: str) -> None:
    api = stack.api(kind)
    visit = browse(stack.url(api, "migrated.html", foreign=True), label="migrated-foreign")

    assert visit.text("weather") == FETCH_BLOCKED
    assert visit.text("account") == FETCH_BLOCKED
    assert visit.text("delete") == FETCH_BLOCKED
    cors = _cors_errors(visit)
    assert cors, f"no CORS error in the console: {visit.probe.console}"
    assert all(f"from origin '{stack.foreign.origin}'" in text for text in cors)
    assert any("/api/weather" in text for text in cors)
    assert any("preflight" in text and "/api/items/42" in text for text in cors)
    assert visit.probe.page_errors == []

    # The refused preflight kept the DELETE itself from ever reaching the server.
    foreign = [r for r in api.requests() if r["origin"] == stack.foreign.origin]
    assert any(r["method"] == "OPTIONS" for r in foreign)
    assert not any(r["method"] == "DELETE" for r in foreign)


@pytest.mark.parametrize("kind", BACKENDS)
def test_credentialed_fetch_to_a_route_without_credentials_is_blocked(
        stack: Stack, browse: Callable[..., Visit], kind: str) -> None:
    api = stack.api(kind)
    visit = browse(stack.url(api, "credentials-mismatch.html"))

    assert visit.text("news") == FETCH_BLOCKED
    cors = _cors_errors(visit)
    assert any("Access-Control-Allow-Credentials" in text for text in cors), visit.probe.console


@pytest.mark.parametrize("kind", BACKENDS)
def test_jsonp_to_a_credentialed_route_is_refused_for_a_foreign_page(
        stack: Stack, browse: Callable[..., Visit], kind: str) -> None:
    api = stack.api(kind)
    visit = browse(stack.url(api, "legacy.html", foreign=True), label="legacy-foreign")

    # Anyone may still read public data through JSONP, but not a cookie-backed route (cross-site theft).
    assert visit.text("weather") == WEATHER
    assert visit.text("account") == "failed to load"
    assert visit.probe.dialogs == [] and visit.probe.page_errors == []
    # Chromium keeps a cross-site page from learning why a no-cors script load failed (no console line,
    # no response event), so the status comes from the server's side of the same request.
    answers = [r["status"] for r in api.requests() if r["path"] == "/api/account"
               and (r["referer"] or "").startswith(stack.foreign.origin + "/")]
    assert answers == [403]


# -------------------------------------------------------------------------------------------- scenario 4
@pytest.mark.parametrize("kind", BACKENDS)
def test_after_sunset_legacy_page_fails_with_410_and_migrated_page_works(
        stack: Stack, browse: Callable[..., Visit], kind: str) -> None:
    api = stack.api(kind, sunset=True)
    legacy = browse(stack.url(api, "legacy.html"))

    assert legacy.text("weather") == "failed to load"
    assert legacy.text("account") == "failed to load"
    assert legacy.text("news").startswith("failed to load")
    assert legacy.text("weather-getjson").startswith("failed to load")
    assert legacy.probe.statuses("/api/weather?callback=showWeather") == [410]
    gone = [text for text in legacy.probe.errors() if "status of 410" in text]
    assert len(gone) >= 4, legacy.probe.console
    assert legacy.probe.dialogs == []

    migrated = browse(stack.url(api, "migrated.html"))
    assert migrated.text("weather") == WEATHER
    assert migrated.text("account") == "user: alice"
    assert migrated.text("delete") == "deleted 42"
    assert migrated.probe.errors() == []


# -------------------------------------------------------------------------------------------- scenario 5
@pytest.mark.parametrize("kind", BACKENDS)
def test_hostile_callbacks_execute_nothing(stack: Stack, browse: Callable[..., Visit], kind: str) -> None:
    api = stack.api(kind)
    seen_before = len(api.requests())
    visit = browse(stack.url(api, "hostile.html"))

    assert {slot: visit.text(slot) for slot in HOSTILE_SLOTS} == dict.fromkeys(HOSTILE_SLOTS, "refused")
    assert visit.probe.dialogs == []
    assert visit.page.evaluate("() => window.__pwned") is False
    assert visit.probe.page_errors == []
    # Each hostile script load was answered 400. (Chromium's opaque-response blocking drops a text/plain
    # error answer to a script load without a console line, so the statuses come from the server side.)
    answers = api.requests()[seen_before:]
    assert len(answers) == len(HOSTILE_SLOTS), answers
    assert all(r["status"] == 400 and r["query"].startswith("callback=") for r in answers), answers

    # The 400 never echoes the callback back (nothing to reflect into a page).
    response = visit.page.request.get(f"{api.origin}/api/news?callback=alert(1)//")
    assert response.status == 400
    assert "alert" not in response.text()


def test_bundled_starlette_service_login_then_credentialed_jsonp(stack: Stack,
                                                                 browse: Callable[..., Visit]) -> None:
    """fixtures/starlette behind ASGIShim: its own form login sets the cookie, then JSONP reads the account.

    The login's `callback` is a redirect target (a URL) on a POST, which the shim must leave alone.
    """
    api = stack.api("fixture-starlette")
    visit = browse(stack.url(api, "starlette-site.html"), label="fixture-starlette")

    assert visit.text("weather") == "paris: 11"  # JSONPResponse via ?jsonp=, re-wrapped by the shim
    assert visit.text("account") == "failed to load"  # not logged in: 401
    del visit.probe.console[:]

    with visit.page.expect_navigation():
        visit.page.click("#login button")
    visit.page.wait_for_function(SETTLED_JS, timeout=15_000)
    assert visit.text("account") == "ada (pro)"  # the session cookie travelled with the script request
    assert visit.text("weather") == "paris: 11"
    assert visit.probe.errors() == []
    logins = [r for r in api.requests() if r["path"] == "/login"]
    assert [r["method"] for r in logins] == ["POST"] and logins[0]["status"] == 303, logins


# ----------------------------------------------------------------------- the report on the shim's own records
def test_report_reads_the_usage_records_the_shim_wrote_for_the_browser(
        stack: Stack, browse: Callable[..., Visit], tmp_path: Path) -> None:
    """Legacy pages load through the shim; its usage file feeds `jsonp2cors report`, opened in Chromium."""
    from typer.testing import CliRunner

    from jsonp2cors.cli import app

    api = stack.api("flask")
    browse(stack.url(api, "legacy.html"), label="legacy-for-report")
    records = _wait_for_usage(api, lambda r: r["path"] == "/api/news")
    assert records

    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(Path(__file__).parent / "apps"), "--usage",
                                      str(api.usage_path), "--policy", str(api.policy_path), "-o", str(out),
                                      "--no-rewrite"])
    assert result.exit_code in (0, 1), result.output
    visit = browse(out.as_uri(), label="report", settle=False)
    assert visit.probe.errors() == []
    endpoints = visit.page.locator("svg.chart g.series").evaluate_all("gs => gs.map(g => g.dataset.endpoint)")
    assert {"/api/weather", "/api/news", "/api/account"} <= set(endpoints)
    row = visit.page.locator("#usage tr", has_text=stack.pages.origin)
    assert row.count() == 1 and "yes" in row.inner_text()  # the caller origin, allowed by the test policy
