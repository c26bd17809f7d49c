"""Benchmark the transition shim against bare apps and the usual CORS middlewares, side by side in one run.

    .venv/bin/python bench/shim_bench.py [--duration 5] [--rounds 3] [--memory] [--only NAME ...]

Every configuration is a real server on 127.0.0.1 pinned to core 0 (`taskset`) and loaded by `wrk` pinned to
core 1; configurations are alternated round after round. The figure to judge by is the server's CPU time per
request (utime+stime of the server's process tree, from /proc, over the requests wrk completed), printed
with requests/s, p50 and p99 latency and the ratios to the bare app of the same stack.
This file is also the servers' app module: `BENCH_CONFIG=<name> uvicorn bench.shim_bench:asgi_app`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://news.example.com"
PAYLOAD = {"city": "berlin", "forecast": {"high": 7, "low": 1}, "updated": "2026-11-25T10:00:00Z",
           "alerts": [], "source": "dwd"}
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------------------------ the apps


def _policy() -> Any:
    from jsonp2cors.policy import Policy

    return Policy.from_dict({"version": 1, "cors": {"allow_origins": [ORIGIN, "https://*.partner.example"]},
                             "jsonp": {"callback_params": ["callback"]}})


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def data(request: Any) -> JSONResponse:
        return JSONResponse(PAYLOAD)

    return Starlette(routes=[Route("/api/data", data)])


def _flask() -> Any:
    from flask import Flask, jsonify

    app = Flask("bench", root_path=str(ROOT / "bench"))

    @app.route("/api/data")
    def data() -> Any:
        return jsonify(PAYLOAD)

    return app


def _usage(name: str) -> str | None:
    """Where the configuration writes usage records: BENCH_USAGE, except for the `-nolog` ones."""
    return None if name.endswith("-nolog") else os.environ.get("BENCH_USAGE") or None


def _naive_jsonp(app: Any) -> Any:
    """A hand-written JSONP middleware for comparison: wraps blindly, validates and escapes nothing."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"")
        if scope["type"] != "http" or b"callback=" not in query:
            await app(scope, receive, send)
            return
        callback = query.split(b"callback=", 1)[1].split(b"&", 1)[0]
        held: dict[str, Any] = {}

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                held.update(message)
                return
            body = callback + b"(" + message.get("body", b"") + b");"
            headers = [(k, v) for k, v in held["headers"] if k not in (b"content-length", b"content-type")]
            headers += [(b"content-type", b"application/javascript"), (b"content-length", b"%d" % len(body))]
            held["headers"] = headers
            await send(held)
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, wrapped)

    return middleware


def build_asgi(name: str) -> Any:
    app = _starlette()
    if name == "asgi-naive-jsonp":
        return _naive_jsonp(app)
    if name == "asgi-starlette-cors":
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(app, allow_origins=[ORIGIN], allow_methods=["GET", "HEAD"])
    if name.startswith("asgi-shim"):
        from jsonp2cors.shim import ASGIShim

        return ASGIShim(app, policy=_policy(), usage=_usage(name))
    return app


def build_wsgi(name: str) -> Any:
    app = _flask()
    if name == "wsgi-flask-cors":
        from flask_cors import CORS

        CORS(app, origins=[ORIGIN])
    elif name.startswith("wsgi-shim"):
        from jsonp2cors.shim import WSGIShim

        app.wsgi_app = WSGIShim(app.wsgi_app, policy=_policy(), usage=_usage(name))
    return app


def __getattr__(attr: str) -> Any:  # the servers import `asgi_app` / `wsgi_app` from this module
    name = os.environ.get("BENCH_CONFIG", "")
    if attr == "asgi_app":
        return build_asgi(name)
    if attr == "wsgi_app":
        return build_wsgi(name)
    raise AttributeError(attr)


# ------------------------------------------------------------------------------ configurations


@dataclass(frozen=True)
class Config:
    name: str
    stack: str  # "asgi" | "wsgi"
    query: str = ""
    origin: bool = False
    bare: str = ""  # the configuration this one is compared with

    @property
    def path(self) -> str:
        return "/api/data" + (f"?{self.query}" if self.query else "")


CONFIGS = [
    Config("asgi-bare", "asgi"),
    Config("asgi-bare-jsonp-url", "asgi", query="callback=cb"),
    Config("asgi-starlette-cors", "asgi", origin=True, bare="asgi-bare"),
    Config("asgi-shim-cors", "asgi", origin=True, bare="asgi-bare"),
    Config("asgi-naive-jsonp", "asgi", query="callback=cb", bare="asgi-bare-jsonp-url"),
    Config("asgi-shim-jsonp", "asgi", query="callback=cb", bare="asgi-bare-jsonp-url"),
    # the same without usage records: what writing them costs
    Config("asgi-shim-jsonp-nolog", "asgi", query="callback=cb", bare="asgi-bare-jsonp-url"),
    Config("asgi-shim-plain", "asgi", bare="asgi-bare"),
    Config("wsgi-bare", "wsgi"),
    Config("wsgi-bare-jsonp-url", "wsgi", query="callback=cb"),
    Config("wsgi-flask-cors", "wsgi", origin=True, bare="wsgi-bare"),
    Config("wsgi-shim-cors", "wsgi", origin=True, bare="wsgi-bare"),
    Config("wsgi-shim-jsonp", "wsgi", query="callback=cb", bare="wsgi-bare-jsonp-url"),
    Config("wsgi-shim-jsonp-nolog", "wsgi", query="callback=cb", bare="wsgi-bare-jsonp-url"),
    Config("wsgi-shim-plain", "wsgi", bare="wsgi-bare"),
]


@dataclass
class Sample:
    rps: float
    cpu_us: float  # server CPU microseconds per request
    p50_ms: float
    p99_ms: float
    requests: int


@dataclass
class Running:
    config: Config
    proc: subprocess.Popen[bytes]
    port: int
    samples: list[Sample] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(config: Config, usage_dir: Path) -> Running:
    port = free_port()
    env = {**os.environ, "BENCH_CONFIG": config.name, "PYTHONPATH": str(ROOT),
           "BENCH_USAGE": str(usage_dir / f"{config.name}.jsonl")}
    py = sys.executable
    if config.stack == "asgi":
        cmd = [py, "-m", "uvicorn", "bench.shim_bench:asgi_app", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    else:
        cmd = [py, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning",
               *_no_control_socket(), "bench.shim_bench:wsgi_app"]
    proc = subprocess.Popen(["taskset", "-c", "0", *cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{config.name}: server did not start") from None
            time.sleep(0.1)
    return Running(config, proc, port)


def stop(run: Running) -> None:
    if run.proc.poll() is None:
        run.proc.send_signal(signal.SIGTERM)
        try:
            run.proc.wait(15)
        except subprocess.TimeoutExpired:
            run.proc.kill()
            run.proc.wait(5)


def _no_control_socket() -> list[str]:
    # Recent gunicorn opens one control socket per user by default; several servers at once would clash.
    import gunicorn

    major = int(gunicorn.__version__.split(".")[0])
    return ["--no-control-socket"] if major >= 24 else []


# ------------------------------------------------------------------------------------- /proc


def tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / TICKS


def rss_mib(pid: int) -> float:
    pages = 0
    for p in tree(pid):
        try:
            pages += int(Path(f"/proc/{p}/statm").read_text().split()[1])
        except OSError:
            continue
    return pages * PAGE / 2**20


# ---------------------------------------------------------------------------------------- wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        print(f"# unparsed wrk latency {text!r}", file=sys.stderr)
        return float("nan")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(run: Running, seconds: float, connections: int) -> tuple[int, float, float, float]:
    """(requests, requests/s, p50 ms, p99 ms)."""
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
           f"http://127.0.0.1:{run.port}{run.config.path}"]
    if run.config.origin:
        cmd[6:6] = ["-H", f"Origin: {ORIGIN}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{run.config.name}: {errors.group(1)} error responses\n{out}")
    return requests, rps, p50, p99


def measure(run: Running, seconds: float, connections: int) -> Sample:
    before = cpu_seconds(run.proc.pid)
    requests, rps, p50, p99 = wrk(run, seconds, connections)
    used = cpu_seconds(run.proc.pid) - before
    return Sample(rps, used / max(requests, 1) * 1e6, p50, p99, requests)


# --------------------------------------------------------------------------------------- main


def check_response(run: Running) -> None:
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{run.port}{run.config.path}",
                                 headers={"Origin": ORIGIN} if run.config.origin else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.headers.items()}
    name = run.config.name
    if "shim-jsonp" in name:
        assert body.startswith(b"/**/ typeof cb === 'function' && cb("), (name, body[:80])
    if name.endswith("-cors"):
        assert headers.get("access-control-allow-origin") == ORIGIN, (name, headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per server")
    parser.add_argument("--only", nargs="*", help="configuration names (default: all)")
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="also serve N requests to each shim config and report RSS before/after")
    args = parser.parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (Debian packages wrk, util-linux)")
    configs = [c for c in CONFIGS if not args.only or c.name in args.only]
    usage_dir = Path(tempfile.mkdtemp(prefix="shim-bench-"))
    load = os.getloadavg()
    print(f"# shim_bench: {len(configs)} configurations x {args.rounds} rounds x {args.duration:g}s, "
          f"wrk -t1 -c{args.connections}; server on core 0, wrk on core 1; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores: {os.cpu_count()}")
    runs = [start(c, usage_dir) for c in configs]
    try:
        for run in runs:
            check_response(run)
            wrk(run, args.warmup, args.connections)
        for r in range(args.rounds):
            order = runs if r % 2 == 0 else list(reversed(runs))
            for run in order:
                run.samples.append(measure(run, args.duration, args.connections))
        by_name = {run.config.name: run for run in runs}

        def med(run: Running, attr: str) -> float:
            return float(statistics.median(float(getattr(s, attr)) for s in run.samples))

        print(f"\n{'configuration':24} {'req/s':>8} {'CPU us/req':>11} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'CPU vs bare':>11} {'req/s vs bare':>13}  (medians; CPU per round)")
        for run in runs:
            c = run.config
            cpu, rps = med(run, "cpu_us"), med(run, "rps")
            base = by_name.get(c.bare)
            ratio_cpu = f"{cpu / med(base, 'cpu_us'):.3f}x" if base else "-"
            ratio_rps = f"{rps / med(base, 'rps'):.3f}x" if base else "-"
            rounds = " ".join(f"{s.cpu_us:.0f}" for s in run.samples)
            print(f"{c.name:24} {rps:8.0f} {cpu:11.1f} {med(run, 'p50_ms'):7.2f} {med(run, 'p99_ms'):7.2f} "
                  f"{ratio_cpu:>11} {ratio_rps:>13}  [{rounds}]")
        print("\nCPU vs bare: the configuration's server CPU per request over its bare app's "
              "(JSONP configurations over the bare app asked the same ?callback URL)")
        if args.memory:
            print(f"\n# memory: RSS of the server process tree around {args.memory:,} more requests")
            for run in runs:
                if "shim" not in run.config.name:
                    continue
                before = rss_mib(run.proc.pid)
                served = 0
                while served < args.memory:
                    served += wrk(run, 5, args.connections)[0]
                after = rss_mib(run.proc.pid)
                print(f"{run.config.name:24} {before:7.1f} MiB -> {after:7.1f} MiB after {served:,} requests "
                      f"({after - before:+.1f} MiB)")
    finally:
        for run in runs:
            stop(run)
        for usage in sorted(usage_dir.glob("*.jsonl")):
            with usage.open("rb") as handle:
                lines = sum(1 for _ in handle)
            print(f"# usage records written by {usage.stem}: {lines:,}")
        shutil.rmtree(usage_dir, ignore_errors=True)
    load = os.getloadavg()
    print(f"\n# load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
