"""`jsonp2cors demo`: migrate the bundled legacy Flask app in a temporary folder; `--serve` runs it.

The app is copied out of the installed package (importlib.resources), so the demo works after a plain
`pip install`. Serving needs Flask; the pages are served from a second loopback origin so the browser
really makes cross-origin calls: legacy pages through the shim's JSONP, migrated pages through CORS.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from jsonp2cors.rewrite.migrate import Migration, migrate, next_steps, summary_lines
from jsonp2cors.rewrite.render import diff_text

API_HOST = "127.0.0.1"  # both servers listen here (loopback only)
# Browsers reach both as `localhost` on two ports: two origins of one site, so the session cookie set by the
# API's /login travels with the migrated page's credentialed fetch() (cross-site cookies would be blocked).
URL_HOST = "localhost"
PAGES_HOST = URL_HOST
BUNDLED_PORT = 8000  # the port written in the bundled pages' URLs
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8"}

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class DemoError(RuntimeError):
    pass


def copy_demo_app(target: Path) -> Path:
    """Copy the bundled app into `target` (created) and return it."""
    source = resources.files("jsonp2cors") / "demo_app"

    def copy(node: Any, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        for child in node.iterdir():
            if child.name in ("__pycache__",) or child.name.endswith(".pyc"):
                continue
            if child.is_dir():
                copy(child, dest / child.name)
            else:
                (dest / child.name).write_bytes(child.read_bytes())

    if not source.is_dir():
        raise DemoError("the bundled demo app is missing from this installation")
    copy(source, target)
    return target


def migrate_demo(folder: Path, pages_origin: str, *, mount_shim: bool = True) -> Migration:
    return migrate(folder, [pages_origin], write=True, allow_dirty=True, mount_shim=mount_shim)


def _show(migration: Migration, folder: Path, pages_origin: str, color: bool, out: Any) -> None:
    out.write(f"Bundled legacy app copied to {folder}\n")
    out.write(f"$ jsonp2cors migrate {folder} --origin {pages_origin} --mount-shim --write\n\n")
    # the diff of what was written: rebuild it from the plan (before/after bytes)
    out.write(diff_text(migration.plan.edits, color=color))
    out.write("\n")
    for line in summary_lines(migration):
        out.write(line + "\n")
    if migration.policy_text:
        out.write(f"\n{migration.policy_path.name}:\n")
        for line in migration.policy_text.splitlines():
            out.write(f"  {line}\n")
    out.write("\nNext steps on a real code base:\n")
    for index, step in enumerate(next_steps(migration)[1:], 1):
        out.write(f"  {index}. {step}\n")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"  {self.address_string()} {format % args}\n")


def pages_app(legacy: Path, migrated: Path, api_port: int) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """Serve the legacy pages under /legacy/ and the migrated ones under /migrated/ (API port patched in)."""
    roots = {"legacy": legacy / "pages", "migrated": migrated / "pages"}

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path in ("/", ""):
            body = (b"<!DOCTYPE html><meta charset='utf-8'><title>jsonp2cors demo</title>"
                    b"<h1>jsonp2cors demo</h1><ul>"
                    b"<li><a href='/legacy/index.html'>legacy page</a> (JSONP, answered by the shim)</li>"
                    b"<li><a href='/migrated/index.html'>migrated page</a> (fetch + CORS)</li></ul>")
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body]
        parts = path.strip("/").split("/")
        base = roots.get(parts[0])
        if base is None or len(parts) < 2 or any(p in ("", ".", "..") for p in parts[1:]):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        file = base.joinpath(*parts[1:])
        if not file.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        data = file.read_bytes().replace(f"{URL_HOST}:{BUNDLED_PORT}".encode(), f"{URL_HOST}:{api_port}".encode())
        start_response("200 OK", [("Content-Type", _TYPES.get(file.suffix, "application/octet-stream")),
                                  ("Cache-Control", "no-store")])
        return [data]

    return application


def load_app(folder: Path) -> Any:
    """Import the migrated app.py from `folder` (its shim is mounted by the rewrite)."""
    if importlib.util.find_spec("flask") is None:
        raise DemoError("demo --serve needs Flask: pip install flask")
    sys.path.insert(0, str(folder))
    for name in ("app", "helpers"):
        sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location("app", folder / "app.py")
    if spec is None or spec.loader is None:
        raise DemoError(f"cannot load {folder / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module.app


def _not_yet(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def bind_servers(port: int) -> tuple[WSGIServer, WSGIServer]:
    """Listen first (API on `port`, pages on the next port or any free one), so the policy can name the
    pages origin before the migration writes it."""
    try:
        api = make_server(API_HOST, port, _not_yet, handler_class=_Quiet)
    except OSError as exc:
        raise DemoError(f"cannot listen on {API_HOST}:{port}: {exc} (try --port)") from exc
    try:
        pages = make_server(API_HOST, port + 1, _not_yet, handler_class=_Quiet)
    except OSError:
        pages = make_server(API_HOST, 0, _not_yet, handler_class=_Quiet)
    return api, pages


def start_servers(api: WSGIServer, pages: WSGIServer, legacy: Path, migrated: Path) -> list[WSGIServer]:
    api.set_app(load_app(migrated))
    pages.set_app(pages_app(legacy, migrated, api.server_port))
    servers = [api, pages]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return servers


def run_demo(*, serve: bool = False, port: int = BUNDLED_PORT, keep: bool = False, color: bool = False,
             out: Any = None) -> int:
    out = out or sys.stdout
    bound = bind_servers(port) if serve else None
    if bound is not None and importlib.util.find_spec("flask") is None:
        for server in bound:
            server.server_close()
        raise DemoError("demo --serve needs Flask: pip install flask")
    pages_port = bound[1].server_port if bound else port + 1
    pages_origin = f"http://{PAGES_HOST}:{pages_port}"
    temp = Path(tempfile.mkdtemp(prefix="jsonp2cors-demo-"))
    try:
        legacy = copy_demo_app(temp / "legacy")
        migrated = copy_demo_app(temp / "migrated")
        migration = migrate_demo(migrated, pages_origin)
        _show(migration, migrated, pages_origin, color, out)
        if not serve:
            if keep:
                out.write(f"\nKept: {temp} (legacy/ and migrated/)\n")
            out.write("\nRun `jsonp2cors demo --serve` to try both pages in a browser.\n")
            return 0
        assert bound is not None
        servers = start_servers(*bound, legacy, migrated)
        out.write(
            f"\nServing (Ctrl-C stops):\n"
            f"  API, migrated, behind the shim: http://{URL_HOST}:{servers[0].server_port}/api/weather\n"
            f"  sign in (session cookie):       http://{URL_HOST}:{servers[0].server_port}/login?name=ada\n"
            f"  legacy page (JSONP via shim):   {pages_origin}/legacy/index.html\n"
            f"  migrated page (fetch + CORS):   {pages_origin}/migrated/index.html\n"
        )
        out.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.write("\nstopping\n")
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()
        return 0
    finally:
        if bound is not None:
            for server in bound:
                server.server_close()
        if not keep:
            shutil.rmtree(temp, ignore_errors=True)
