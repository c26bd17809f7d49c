"""Plumbing for the browser tests: server child processes, page rendering and what a page saw.

Kept apart from conftest.py so it can be used from a REPL when a scenario needs debugging:
`python -c "from tests.e2e.harness import *; ..."`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_PLACEHOLDER = "__API__"


_LISTENING = re.compile(rb"^LISTENING (\d+)\r?\n", re.MULTILINE)


class ServerStartError(RuntimeError):
    pass


@dataclass
class ServerProcess:
    """One server child process; `origin` is how the browser reaches it (host name, not bind address)."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    public_host: str
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://{self.public_host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait; SIGKILL if it lingers; always reap the child."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def start_server(name: str, kind: str, *, bind: str = "127.0.0.1", public_host: str = "localhost",
                 extra: list[str] | None = None, log_dir: Path = ARTIFACTS / "logs",
                 timeout: float = 30.0) -> ServerProcess:
    """Start `python -m tests.e2e.serve KIND` and wait for its `LISTENING <port>` line."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "tests.e2e.serve", kind, "--host", bind, *(extra or [])]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log_file,
                                stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        # Anything an app prints to stdout on import comes first; wait for the LISTENING line itself.
        while _LISTENING.search(buffer) is None:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                break
            if selector.select(min(left, 0.2)):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
    finally:
        selector.close()
    match = _LISTENING.search(buffer)
    if match is None:
        with contextlib.suppress(Exception):
            proc.kill()
        proc.wait(10)
        proc.stdout.close()
        detail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise ServerStartError(f"{name} ({' '.join(cmd)}) did not start; stderr tail:\n{detail}")
    return ServerProcess(name, proc, int(match.group(1)), public_host, log_path)


FIXTURE_PAGE = ROOT / "fixtures" / "flask" / "templates" / "index.html"


def render_fixture_page(dest: Path, api_origin: str) -> None:
    """The bundled Flask site's own legacy page, moved to another origin: `/api/...` URLs point at the API
    server, jQuery comes from the local copy, and a data: favicon keeps the console clean."""
    text = FIXTURE_PAGE.read_text(encoding="utf-8")
    edits = [('src="/static/vendor/jquery.min.js"', 'src="js/jquery.min.js"'),
             ('"/api/', f'"{api_origin}/api/'),
             ('<meta charset="utf-8">', '<meta charset="utf-8">\n  <link rel="icon" href="data:,">')]
    for old, new in edits:
        if old not in text:  # the fixture page changed shape: say so rather than test something else
            raise AssertionError(f"{FIXTURE_PAGE} no longer contains {old!r}")
        text = text.replace(old, new)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SITE / "js", dest / "js", dirs_exist_ok=True)
    (dest / "index.html").write_text(text, encoding="utf-8")


def render_site(dest: Path, api_origin: str, pages: str = "*.html") -> None:
    """Copy the page templates matching `pages` into `dest`, pointing `__API__` at the API origin."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SITE / "js", dest / "js", dirs_exist_ok=True)
    for source in SITE.glob(pages):
        text = source.read_text(encoding="utf-8")
        (dest / source.name).write_text(text.replace(API_PLACEHOLDER, api_origin), encoding="utf-8")


@dataclass
class PageProbe:
    """Everything a page reported while a scenario ran: console, uncaught errors, dialogs, responses.

    Playwright's console events carry both console.* calls and Chromium's own log entries (network and CORS
    errors such as "Access to fetch at ... has been blocked by CORS policy"), as DevTools shows them.
    """

    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    responses: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)  # (url, status, headers)

    def errors(self) -> list[str]:
        return [text for level, text in self.console if level == "error"] + self.page_errors

    def statuses(self, fragment: str) -> list[int]:
        return [status for url, status, _ in self.responses if fragment in url]

    def headers(self, fragment: str) -> dict[str, str]:
        """Headers of the first response whose URL contains `fragment` (names lower-cased)."""
        for url, _, headers in self.responses:
            if fragment in url:
                return headers
        raise AssertionError(f"no response seen for {fragment!r}; saw {[u for u, _, _ in self.responses]}")


def attach_probe(page: Any) -> PageProbe:
    """Start recording what `page` reports (call before the first navigation)."""
    probe = PageProbe()
    page.on("console", lambda msg: probe.console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: probe.page_errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        probe.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("response", lambda response: probe.responses.append(
        (response.url, response.status, {k.lower(): v for k, v in response.headers.items()})))
    return probe


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    path = ARTIFACTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


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
callback_params = ["callback", "jsoncallback", "jsonp"]
sunset = "{sunset}"
docs_url = "https://docs.example.com/jsonp-retirement"

[[route]]
path = "/api/account"
allow_credentials = true
allow_methods = ["GET", "HEAD", "POST"]

[[route]]
path = "/api/profile"
allow_credentials = true

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
        if kind == "fixture-flask":
            render_fixture_page(self.tmp / "site" / name, server.origin)
        else:
            render_site(self.tmp / "site" / name, server.origin)
        api = Api(name, server, policy_path, usage_path, requests_path)
        self.apis[name] = api
        return api

    def url(self, api: Api, page: str, *, foreign: bool = False, folder: str | None = None) -> str:
        host = self.foreign if foreign else self.pages
        return f"{host.origin}/{folder or api.name}/{page}"

    def rewritten(self, api: Api) -> str:
        """The legacy page as `jsonp2cors` rewrites it (scan, rewrite plan, apply); returns its folder name.

        Only the rendered legacy page (and the vendored jQuery, which the scan skips) is in that folder,
        so the plan cannot touch the other test pages. The result is copied to the artifacts for review.
        """
        from jsonp2cors.policy import Policy
        from jsonp2cors.rewrite import apply, plan
        from jsonp2cors.scan import scan

        name = f"{api.name}-rewritten"
        dest = self.tmp / "site" / name
        if not dest.exists():
            if api.name == "fixture-flask":
                render_fixture_page(dest, api.origin)
            else:
                render_site(dest, api.origin, pages="legacy.html")
            result = scan([dest])
            edits = plan(result, dest, Policy.from_file(api.policy_path))
            apply(edits.edits)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for page in dest.glob("*.html"):
                shutil.copyfile(page, ARTIFACTS / f"{name}-{page.name}")
        return name

    def close(self) -> None:
        errors: list[str] = []
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{server.name}: {exc}")
        assert not errors, errors


@dataclass
class Visit:
    page: Any
    probe: PageProbe

    def text(self, element_id: str) -> str:
        return str(self.page.locator(f"#{element_id}").inner_text()).strip()


# A page has settled when it says so (`data-done`) or when no result slot still reads "loading..."/"pending".
SETTLED_JS = """() => document.body !== null && (document.body.dataset.done === "yes" ||
  ![...document.querySelectorAll("dd, span, p")].some(
    e => e.textContent.startsWith("loading") || e.textContent === "pending"))"""
