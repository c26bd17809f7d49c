"""Server launcher for the browser tests, run as a child process: `python -m tests.e2e.serve KIND ...`.

Each server binds a loopback address on port 0 (no race for a free port) and prints `LISTENING <port>` on
stdout once it accepts connections. Kinds:

- `flask`: `apps.legacy_flask` behind `WSGIShim`, served by waitress;
- `starlette`: `apps.legacy_starlette` behind `ASGIShim`, served by uvicorn;
- `fixture-flask`: the bundled legacy site `fixtures/flask` behind `WSGIShim`, served by waitress;
- `fixture-starlette`: the bundled legacy service `fixtures/starlette` behind `ASGIShim`, under uvicorn;
- `pages`: a static file server for the rendered test pages (no caching).

The API kinds take `--policy FILE` (TOML), optional `--usage FILE` (the shim's usage records) and optional
`--requests FILE`: an outermost recorder appends one JSON line per response the server sends (method, path,
query, Origin, Referer, Access-Control-Request-Method, status), so tests can see preflights the shim answers
itself and statuses the browser hides from cross-site pages.
`--bare` serves the app without the shim (for debugging the pages only).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _listen(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


def _announce(sock: socket.socket) -> None:
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    # Nobody reads our stdout after this line: send later prints to stderr (the log file), so a chatty app
    # can never fill the pipe and block.
    os.dup2(2, 1)


class _RequestLog:
    """Appends one JSON line per request; a lock keeps lines whole across server threads."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()

    def write(self, method: str, path: str, headers: dict[str, str], status: int) -> None:
        if self.path is None:
            return
        line = json.dumps({"method": method, "path": path, "query": headers.get(":query", ""),
                           "origin": headers.get("origin"), "referer": headers.get("referer"),
                           "acrm": headers.get("access-control-request-method"), "status": status}) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)


def _wsgi_recorder(app: WSGIApp, log: _RequestLog) -> WSGIApp:
    def recorder(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        headers[":query"] = environ.get("QUERY_STRING", "")

        def recording_start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            log.write(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), headers, int(status[:3]))
            return start_response(status, response_headers, exc_info)

        return app(environ, recording_start_response)

    return recorder


def _asgi_recorder(app: Any, log: _RequestLog) -> Any:
    async def recorder(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        headers[":query"] = scope.get("query_string", b"").decode("latin-1")

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                log.write(scope["method"], scope["path"], headers, int(message["status"]))
            await send(message)

        await app(scope, receive, recording_send)

    return recorder


def _policy(path: str) -> Any:
    from jsonp2cors.policy import Policy

    return Policy.from_file(path)


def serve_flask(args: argparse.Namespace) -> None:
    import waitress

    from tests.e2e.apps.legacy_flask import app

    wsgi: WSGIApp = app.wsgi_app
    if not args.bare:
        from jsonp2cors.shim import WSGIShim

        wsgi = WSGIShim(wsgi, policy=_policy(args.policy), usage=args.usage)
    app.wsgi_app = _wsgi_recorder(wsgi, _RequestLog(args.requests))  # type: ignore[method-assign]
    sock = _listen(args.host)
    server = waitress.create_server(app, sockets=[sock], threads=8, ident="e2e")
    _announce(sock)
    # SIGTERM -> SystemExit, so atexit hooks (the usage sink's flush) run before the process ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.run()


def serve_fixture_flask(args: argparse.Namespace) -> None:
    """The bundled legacy Flask site (fixtures/flask: jsonp helper, flask-jsonpify) behind WSGIShim."""
    import importlib

    import waitress

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "flask"))
    app = importlib.import_module("app").app
    wsgi: WSGIApp = app.wsgi_app
    if not args.bare:
        from jsonp2cors.shim import WSGIShim

        wsgi = WSGIShim(wsgi, policy=_policy(args.policy), usage=args.usage)
    app.wsgi_app = _wsgi_recorder(wsgi, _RequestLog(args.requests))
    sock = _listen(args.host)
    server = waitress.create_server(app, sockets=[sock], threads=8, ident="e2e")
    _announce(sock)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.run()


def serve_fixture_starlette(args: argparse.Namespace) -> None:
    """The bundled legacy Starlette service (fixtures/starlette) behind ASGIShim."""
    import importlib

    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "starlette"))
    asgi: Any = importlib.import_module("app").app
    if not args.bare:
        from jsonp2cors.shim import ASGIShim

        asgi = ASGIShim(asgi, policy=_policy(args.policy), usage=args.usage)
    asgi = _asgi_recorder(asgi, _RequestLog(args.requests))
    sock = _listen(args.host)
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", access_log=False))
    _announce(sock)
    server.run(sockets=[sock])


def serve_starlette(args: argparse.Namespace) -> None:
    import uvicorn

    from tests.e2e.apps.legacy_starlette import app

    asgi: Any = app
    if not args.bare:
        from jsonp2cors.shim import ASGIShim

        asgi = ASGIShim(asgi, policy=_policy(args.policy), usage=args.usage)
    asgi = _asgi_recorder(asgi, _RequestLog(args.requests))
    sock = _listen(args.host)
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", access_log=False))
    _announce(sock)  # the socket already listens: connections queue until uvicorn accepts them
    server.run(sockets=[sock])


class _PageHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_pages(args: argparse.Namespace) -> None:
    handler = functools.partial(_PageHandler, directory=args.root)
    sock = _listen(args.host)
    server = ThreadingHTTPServer((args.host, 0), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_address = sock.getsockname()
    _announce(sock)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


def _die_with_parent() -> None:
    """On Linux, get SIGTERM when the test run that started us dies, even if it had no time to stop us."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent was already gone before prctl took effect
        sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    _die_with_parent()
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.serve")
    parser.add_argument("kind", choices=["flask", "starlette", "fixture-flask", "fixture-starlette", "pages"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--policy")
    parser.add_argument("--usage")
    parser.add_argument("--requests")
    parser.add_argument("--root", type=Path)
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args(argv)
    if args.kind == "pages":
        serve_pages(args)
    elif args.kind == "flask":
        serve_flask(args)
    elif args.kind == "fixture-flask":
        serve_fixture_flask(args)
    elif args.kind == "fixture-starlette":
        serve_fixture_starlette(args)
    else:
        serve_starlette(args)


if __name__ == "__main__":
    main()
