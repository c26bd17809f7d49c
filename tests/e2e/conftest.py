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
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PageProbe,
    ServerProcess,
    attach_probe,
    render_site,
    screenshot,
    start_server,
)

POLICY_TEMPLATE = """\
version = 1

[cors]
allow_origins = ["{allowed}"]
allow_methods = ["GET", "HEAD"]
allow_headers = []
expose_headers = []
allow_credentials = false
max_age = 0

[jsonp]
callback_params = ["callback"]
sunset = "{sunset}"
docs_url = "https://docs.example.com/jsonp-retirement"

[[route]]
path = "/api/account"
allow_credentials = true
allow_methods = ["GET", "HEAD", "POST"]

[[route]]
path = "/api/items"
allow_methods = ["GET", "HEAD", "DELETE"]
allow_headers = ["X-Requested-With"]
"""


@dataclass
class Api:
    """One API server (legacy app + shim) and the files it writes."""

    name: str
    server: ServerProcess
    policy_path: Path
    usage_path: Path
    requests_path: Path

    @property
    def origin(self) -> str:
        return self.server.origin

    def requests(self) -> list[dict[str, Any]]:
        """Every response the server sent, with its request's facts (the recorder sits outside the shim)."""
        if not self.requests_path.exists():
            return []
        lines = self.requests_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Stack:
    tmp: Path
    pages: ServerProcess
    foreign: ServerProcess
    apis: dict[str, Api] = field(default_factory=dict)
    servers: list[ServerProcess] = field(default_factory=list)

    def api(self, kind: str, *, sunset: bool = False) -> Api:
        name = f"{kind}-sunset" if sunset else kind
        if name in self.apis:
            return self.apis[name]
        today = dt.date.today()
        sunset_day = today - dt.timedelta(days=1) if sunset else today + dt.timedelta(days=365)
        work = self.tmp / name
        work.mkdir(parents=True, exist_ok=True)
        policy_path = work / "cors-policy.toml"
        policy_text = POLICY_TEMPLATE.format(allowed=self.pages.origin, sunset=sunset_day.isoformat())
        policy_path.write_text(policy_text, encoding="utf-8")
        usage_path = work / "usage.jsonl"
        requests_path = work / "requests.jsonl"
        server = start_server(name, kind, extra=["--policy", str(policy_path), "--usage", str(usage_path),
                                                 "--requests", str(requests_path)])
        self.servers.append(server)
        render_site(self.tmp / "site" / name, server.origin)
        api = Api(name, server, policy_path, usage_path, requests_path)
        self.apis[name] = api
        return api

    def url(self, api: Api, page: str, *, foreign: bool = False) -> str:
        host = self.foreign if foreign else self.pages
        return f"{host.origin}/{api.name}/{page}"

    def close(self) -> None:
        errors: list[str] = []
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{server.name}: {exc}")
        assert not errors, errors


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
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    page: Any
    probe: PageProbe

    def text(self, element_id: str) -> str:
        return str(self.page.locator(f"#{element_id}").inner_text()).strip()


# A page has settled when it says so (`data-done`) or when no result slot still reads "loading"/"pending".
SETTLED_JS = """() => document.body !== null && (document.body.dataset.done === "yes" ||
  ![...document.querySelectorAll("dd, span")].some(e => ["loading", "pending"].includes(e.textContent)))"""


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
    context.close()
