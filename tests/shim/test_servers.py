"""The shim under real servers on 127.0.0.1: uvicorn (ASGI), gunicorn and waitress (WSGI), via httpx.

Every server is a subprocess on a free port and is stopped (and waited for) when its tests end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from jsonp2cors.shim.usage import read_usage

from .helpers import EVIL, NEWS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
WRAP_RE = re.compile(rb"\A/\*\*/ typeof ([\w$.\[\]]+) === 'function' && \1\((.*)\);\Z", re.S)


def unwrap(body: bytes) -> tuple[str, Any]:
    m = WRAP_RE.match(body)
    assert m, body[:300]
    return m.group(1).decode(), json.loads(m.group(2))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn_flags() -> list[str]:
    # gunicorn >= 24 opens a per-user control socket by default; parallel servers would clash on it.
    import gunicorn

    return ["--no-control-socket"] if int(gunicorn.__version__.split(".")[0]) >= 24 else []


SERVERS = {
    "uvicorn": lambda target, port: [PY, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
                                     "--log-level", "warning", "--no-access-log"],
    "gunicorn": lambda target, port: [PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2",
                                      "--log-level", "warning", "--graceful-timeout", "5",
                                      *_gunicorn_flags(), target],
    "waitress": lambda target, port: [PY, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4",
                                      target],
}
STOP_SIGNAL = {"uvicorn": signal.SIGTERM, "gunicorn": signal.SIGTERM, "waitress": signal.SIGINT}


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(server: str, target: str, tmp: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    log = tmp / f"{server}-{port}.log"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(SERVERS[server](target, port), cwd=ROOT, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{server} exited early:\n{log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    text = log.read_text(errors="replace")
                    raise AssertionError(f"{server} did not listen:\n{text}") from None
                time.sleep(0.1)
        yield Server(proc, f"http://127.0.0.1:{port}", log)
    finally:
        if proc.poll() is None:
            proc.send_signal(STOP_SIGNAL[server])
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# ------------------------------------------------------------------------ the shim's own test app

@pytest.fixture(scope="module", params=[("uvicorn", "tests.shim.apps:asgi_shimmed"),
                                        ("gunicorn", "tests.shim.apps:wsgi_shimmed")],
                ids=["uvicorn-starlette", "gunicorn-flask"])
def test_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server, target = request.param
    with serve(server, target, tmp_path_factory.mktemp("srv")) as srv:
        yield srv


@pytest.fixture
def http(test_app: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=test_app.url, timeout=20) as client:
        yield client


def test_jsonp_cors_and_preflight_on_a_real_server(http: httpx.Client) -> None:
    r = http.get("/api/weather?callback=show")
    assert r.status_code == 200 and r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert unwrap(r.content)[1]["temp"] == 21
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["x-content-type-options"] == "nosniff" and "deprecation" in r.headers
    assert http.get("/api/weather?callback=x(1)").status_code == 400
    cors = http.get("/api/weather", headers={"Origin": NEWS})
    assert cors.headers["access-control-allow-origin"] == NEWS and cors.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in http.get("/api/weather", headers={"Origin": EVIL}).headers
    pre = http.options("/api/weather", headers={"Origin": NEWS, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-methods"] == "GET, HEAD, POST"


def test_legacy_head_stream_gzip_big(http: httpx.Client) -> None:
    assert unwrap(http.get("/api/legacy?callback=show").content)[0] == "show"
    legacy = http.get("/api/legacy", headers={"Origin": NEWS})
    assert legacy.headers["content-type"] == "application/json" and json.loads(legacy.content)["temp"] == 21
    get = http.get("/api/method?callback=f")
    head = http.head("/api/method?callback=f")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert unwrap(http.get("/api/stream?callback=f").content)[1] == {"items": list(range(50))}
    gz = http.get("/api/gzip?callback=f", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in gz.headers and unwrap(gz.content)[1]["temp"] == 21
    big = http.get("/api/big?callback=f")
    assert len(unwrap(big.content)[1]["rows"]) == 40_000


def test_app_errors_carry_cors_headers(http: httpx.Client, test_app: Server) -> None:
    for path in ("/api/boom", "/api/nope"):
        # uvicorn closes a connection whose app raised: one connection per request here
        r = http.get(path, headers={"Origin": NEWS, "Connection": "close"})
        assert r.status_code in (404, 500)
        assert r.headers["access-control-allow-origin"] == NEWS
    assert test_app.proc.poll() is None


def _tree(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _open_fds(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        try:
            total += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            continue
    return total


def test_client_disconnects_do_not_hurt(http: httpx.Client, test_app: Server) -> None:
    host, port = test_app.url.removeprefix("http://").split(":")
    seen = len(test_app.output())
    for path in ("/api/big?callback=f", "/api/stream?callback=f", "/api/big"):  # warm up every path once
        http.get(path)
    fds_before = _open_fds(test_app.proc.pid)
    for _ in range(5):
        for path in ("/api/big?callback=f", "/api/stream?callback=f", "/api/big"):
            with socket.create_connection((host, int(port))) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                s.recv(10)  # the first bytes, then hang up mid-body
            with socket.create_connection((host, int(port))) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())  # and before any answer
    time.sleep(1.0)
    assert test_app.proc.poll() is None
    assert _open_fds(test_app.proc.pid) <= fds_before + 2  # no leaked sockets or files
    assert unwrap(http.get("/api/weather?callback=ok").content)[0] == "ok"
    assert "Traceback" not in test_app.output()[seen:]  # no exception escaped


@pytest.mark.parametrize(("server", "target"), [("uvicorn", "tests.shim.apps:asgi_shimmed"),
                                                ("gunicorn", "tests.shim.apps:wsgi_shimmed")])
def test_usage_records_from_several_workers(server: str, target: str, tmp_path: Path) -> None:
    usage = tmp_path / "usage.jsonl"
    with serve(server, target, tmp_path, SHIM_USAGE_FILE=str(usage)) as srv, \
            httpx.Client(base_url=srv.url, timeout=20) as client:
        for i in range(40):
            client.get(f"/api/weather?callback=cb{i}", headers={"Referer": "https://news.example.com/p"})
            client.get("/api/weather", headers={"Origin": NEWS})  # not JSONP: no record
    log = read_usage([usage])
    assert log.skipped == 0
    assert sorted(r.callback for r in log) == sorted(f"cb{i}" for i in range(40))
    assert {r.origin for r in log} == {NEWS}


# -------------------------------------------------------------------------------- fixture apps


@pytest.fixture(scope="module")
def fixture_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    tmp = tmp_path_factory.mktemp("fixtures")
    target = "tests.shim.serve_fixture:application"
    with serve("gunicorn", target, tmp, SHIM_FIXTURE="flask") as flask_srv, \
            serve("waitress", target, tmp, SHIM_FIXTURE="django") as django_srv, \
            serve("uvicorn", target, tmp, SHIM_FIXTURE="starlette") as starlette_srv:
        yield {"flask": flask_srv, "django": django_srv, "starlette": starlette_srv}


def test_flask_fixture_behind_wsgi_shim(fixture_servers: dict[str, Server]) -> None:
    with httpx.Client(base_url=fixture_servers["flask"].url, timeout=20) as c:
        r = c.get("/api/weather?callback=show")  # the app pads itself: re-wrapped, not show(show(...))
        assert unwrap(r.content) == ("show", {"city": "berlin", "forecast": unwrap(r.content)[1]["forecast"]})
        assert r.content.count(b"show(") == 1
        assert unwrap(c.get("/api/stocks/abc?jsoncallback=f").content)[1]["symbol"] == "ABC"
        assert unwrap(c.get("/api/quote?callback=q").content)[0] == "q"
        cors = c.get("/api/weather", headers={"Origin": "https://w.partner.example"})
        assert cors.headers["access-control-allow-origin"] == "https://w.partner.example"
        assert cors.headers["content-type"] == "application/json"
        assert json.loads(cors.content)["city"] == "berlin"
        assert c.get("/api/profile?callback=f").status_code == 403  # credentialed, no Referer
        prof = c.get("/api/profile?callback=f", headers={"Referer": "https://news.example.com/me"})
        assert prof.status_code == 401 and unwrap(prof.content)[1] == {"error": "not logged in"}
        config = c.get("/config.js")
        assert config.content.startswith(b"window.CONFIG = ")  # a script, not padding: untouched
        assert c.get("/healthz").headers["x-content-type-options"] == "nosniff"
        assert c.get("/api/weather?city=atlantis&callback=f", headers={"Origin": NEWS}).headers[
            "access-control-allow-origin"] == NEWS  # the 404 page too


def test_django_fixture_behind_wsgi_shim(fixture_servers: dict[str, Server]) -> None:
    with httpx.Client(base_url=fixture_servers["django"].url, timeout=20) as c:
        r = c.get("/api/headlines/?callback=show")
        name, titles = unwrap(r.content)
        assert name == "show" and isinstance(titles, list) and titles
        cors = c.get("/api/headlines/", headers={"Origin": NEWS})
        assert cors.headers["access-control-allow-origin"] == NEWS and json.loads(cors.content) == titles
        assert unwrap(c.get("/api/top/?jsonp=t").content)[0] == "t"
        plain = c.get("/legacy/weather.js")  # always padded: unwrapped for a non-script caller
        assert plain.headers["content-type"] == "application/json"
        assert json.loads(plain.content) == {"temp": 7}
        script = c.get("/legacy/weather.js", headers={"Sec-Fetch-Dest": "script"})
        assert script.content == b'weatherLoaded({"temp": 7})'
        login = c.get("/accounts/login/?callback=/next/")  # a redirect target, excluded by no_jsonp
        assert login.status_code == 200 and b"<form" in login.content
        assert c.get("/api/headlines/?callback=a&callback=b").status_code == 400


def test_starlette_fixture_behind_asgi_shim(fixture_servers: dict[str, Server]) -> None:
    with httpx.Client(base_url=fixture_servers["starlette"].url, timeout=20) as c:
        assert unwrap(c.get("/api/weather/paris?callback=w").content) == (
            "w", {"city": "paris", "forecast": {"high": 11, "low": 4}})
        assert c.get("/api/account?callback=f").status_code == 403
        cors = c.get("/api/account", headers={"Origin": NEWS})
        assert cors.status_code == 401 and cors.headers["access-control-allow-credentials"] == "true"
        assert c.get("/widget-config.js").content.startswith(b"window.CONFIG")
