"""Plumbing for the browser tests: server child processes, page rendering and what a page saw.

Kept apart from conftest.py so it can be used from a REPL when a scenario needs debugging:
`python -c "from tests.e2e.harness import *; ..."`.
"""

from __future__ import annotations

import contextlib
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
        while b"\n" not in buffer:
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
    match = re.match(rb"LISTENING (\d+)", buffer)
    if match is None:
        with contextlib.suppress(Exception):
            proc.kill()
        proc.wait(10)
        proc.stdout.close()
        detail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise ServerStartError(f"{name} ({' '.join(cmd)}) did not start; stderr tail:\n{detail}")
    return ServerProcess(name, proc, int(match.group(1)), public_host, log_path)


def render_site(dest: Path, api_origin: str) -> None:
    """Copy the page templates into `dest`, pointing `__API__` at the API server's origin."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SITE / "js", dest / "js", dirs_exist_ok=True)
    for source in SITE.glob("*.html"):
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
