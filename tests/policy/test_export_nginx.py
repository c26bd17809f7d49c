"""The nginx export served by a real nginx on 127.0.0.1 and asked the shared CORS questions."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from jsonp2cors.policy import Policy
from jsonp2cors.policy.export import export
from tests.policy import cors_questions as cq

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp: Path, port: int) -> Path:
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/cors.conf;
    server {{
        listen 127.0.0.1:{port};
        include {tmp}/cors.server.conf;
        location / {{
            return 200 "ok\\n";
        }}
    }}
}}
""", encoding="utf-8")
    return conf


@pytest.fixture
def nginx_for(tmp_path: Path) -> Iterator[object]:
    """Start nginx with the export of a policy; yield a `send` function; stop it."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(policy: Policy) -> cq.Send:
        result = export(policy, "nginx")
        assert result.losses == ()
        for name, text in result.files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        port = _free_port()
        conf = _config(tmp_path, port)
        args = ["-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "startup.log")]
        check = subprocess.run([NGINX, "-t", *args], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen([NGINX, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((tmp_path / "error.log").read_text(errors="replace")) from None
                time.sleep(0.05)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)

        def send(method: str, path: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, str]]:
            response = client.request(method, path, headers=dict(headers))
            return response.status_code, dict(response.headers)

        return send

    yield start
    for proc in procs:
        proc.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("source", [cq.FLAT_POLICY, cq.FLAT_NULL_POLICY, cq.ROUTED_POLICY, cq.OPEN_POLICY],
                         ids=["flat", "flat-null", "routed", "open"])
def test_nginx_export_answers_like_the_policy(nginx_for: object, source: str) -> None:
    policy = Policy.from_toml(source)
    send = nginx_for(policy)  # type: ignore[operator]
    assert cq.disagreements(policy, send) == []


def test_nginx_preflight_headers(nginx_for: object) -> None:
    policy = Policy.from_toml(cq.ROUTED_POLICY)
    send = nginx_for(policy)  # type: ignore[operator]
    status, headers = send("OPTIONS", "/api/account/x", {
        "Origin": "https://a.partner.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://a.partner.example"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-methods"] == "GET, HEAD, PUT, DELETE"
    assert headers["access-control-max-age"] == "600"
    assert "origin" in headers["vary"].lower()
    # not a preflight (no Access-Control-Request-Method): reaches the location
    status, headers = send("OPTIONS", "/api/account/x", {"Origin": "https://a.partner.example"})
    assert status == 200 and "access-control-allow-methods" not in headers
    # an origin that is not allowed gets no CORS headers at all
    status, headers = send("GET", "/api/account/x", {"Origin": "https://evil.example"})
    assert status == 200 and not any(k.startswith("access-control-") for k in headers)
