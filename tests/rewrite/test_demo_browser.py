"""`jsonp2cors demo --serve` in headless Chromium: the legacy page works through the shim's JSONP, the
migrated page through fetch() and CORS, from a second loopback origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.rewrite.test_cli import _free_port, start_demo, stop_demo


@pytest.fixture
def demo_server() -> Iterator[tuple[str, str]]:
    proc, api, pages = start_demo(_free_port())
    try:
        yield api, pages
    finally:
        stop_demo(proc)


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["legacy", "migrated"])
def test_demo_pages_show_the_data(chromium: Any, demo_server: tuple[str, str], variant: str) -> None:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.route("https://code.jquery.com/**", lambda route: route.abort())  # no internet needed
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{demo_server[1]}/{variant}/index.html", wait_until="load")
        page.wait_for_function("document.getElementById('weather').textContent.startsWith('Berlin')",
                               timeout=15_000)
        page.wait_for_function("document.getElementById('quote').textContent.includes('Wainwright')",
                               timeout=15_000)
        page.wait_for_function("document.getElementById('profile').textContent.includes('guest')",
                               timeout=15_000)
        assert page.text_content("#weather") == "Berlin: 21° / 12°, cloudy"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["legacy", "migrated"])
def test_demo_signed_in_reader_keeps_the_session(chromium: Any, demo_server: tuple[str, str], variant: str) -> None:
    """API and pages are two origins of one site (localhost), so the session cookie set by /login travels:
    with JSONP through the shim (legacy) and with the credentialed fetch() the rewrite wrote (migrated)."""
    api, pages = demo_server
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.route("https://code.jquery.com/**", lambda route: route.abort())
        page.goto(f"{api}/login?name=grace", wait_until="load")
        page.goto(f"{pages}/{variant}/index.html", wait_until="load")
        page.wait_for_function("document.getElementById('profile').textContent.includes('grace')", timeout=15_000)
    finally:
        context.close()
