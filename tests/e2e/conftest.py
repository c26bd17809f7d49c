"""Fixtures of the browser tests: headless Chromium, the page servers and the API servers behind the shim.

Topology (all loopback):
- `stack.pages`: http://localhost:P2 serves the rendered pages; the policy allows this origin and it is
  the same site as the API, so cookies travel with credentialed requests;
- `stack.foreign`: http://127.0.0.2:P3 serves the same pages from another site, not in the policy;
- `stack.api(kind, sunset=...)`: http://localhost:P1, the legacy app behind the shim (`flask`: WSGIShim
  under waitress; `starlette`: ASGIShim under uvicorn); the sunset variant's policy has a sunset date of
  yesterday. Pages for an API live under `/<api name>/` on both page servers.
Every server is a child process stopped (and reaped) by a finalizer.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.harness import (
    ARTIFACTS,
    SETTLED_JS,
    ServerProcess,
    Stack,
    Visit,
    attach_probe,
    screenshot,
    start_server,
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    site = tmp / "site"
    site.mkdir()
    servers: list[ServerProcess] = []
    try:
        servers.append(start_server("pages", "pages", extra=["--root", str(site)]))
        servers.append(start_server("pages-foreign", "pages", bind="127.0.0.2", public_host="127.0.0.2",
                                    extra=["--root", str(site)]))
    except Exception:
        for server in servers:
            server.stop()
        raise
    built = Stack(tmp, servers[0], servers[1], servers=servers)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="session")
def browser(chromium: Any) -> Any:
    """The run's shared headless Chromium (tests/conftest.py)."""
    return chromium


@pytest.fixture
def browse(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Visit]]:
    """Open pages in a fresh browser context (no cookies of other tests); screenshot each page at the end."""
    context = browser.new_context()
    visits: list[tuple[str, Visit]] = []

    def open_page(url: str, *, label: str = "", settle: bool = True, timeout_ms: int = 15_000) -> Visit:
        page = context.new_page()
        probe = attach_probe(page)
        page.goto(url, wait_until="load")
        if settle:
            with contextlib.suppress(Exception):  # the assertions on the DOM say what is stuck
                page.wait_for_function(SETTLED_JS, timeout=timeout_ms)
        visit = Visit(page, probe)
        visits.append((label or url.rsplit("/", 1)[-1].removesuffix(".html"), visit))
        return visit

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    for index, (label, visit) in enumerate(visits, 1):
        with contextlib.suppress(Exception):
            screenshot(visit.page, f"{test_name}-{index}-{label}")
        lines = [f"{level}: {text}" for level, text in visit.probe.console]
        lines += [f"pageerror: {text}" for text in visit.probe.page_errors]
        lines += [f"dialog: {text}" for text in visit.probe.dialogs]
        lines += [f"response: {status} {url}" for url, status, _ in visit.probe.responses]
        (ARTIFACTS / f"{test_name}-{index}-{label}.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    context.close()
