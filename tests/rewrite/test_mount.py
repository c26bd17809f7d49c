"""--mount-shim: the shim goes where the app is built, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jsonp2cors.findings import ScanResult
from jsonp2cors.rewrite import plan

APPS = {
    "flask": ("app.py", "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route('/')\ndef home():\n"
              "    return 'hi'\n", "app.wsgi_app = WSGIShim(app.wsgi_app, policy=Policy.from_file("),
    "factory": ("web.py", "import flask\n\n\ndef create_app():\n    app = flask.Flask(__name__)\n    return app\n",
                "    app.wsgi_app = WSGIShim(app.wsgi_app"),
    "django": ("wsgi.py", "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\n"
               "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\napplication = get_wsgi_application()\n",
               "application = WSGIShim(application, policy=Policy.from_file("),
    "starlette": ("main.py", "from starlette.applications import Starlette\n\napp = Starlette(routes=[])\n",
                  "app.add_middleware(ASGIShim, policy=Policy.from_file("),
    "wsgi": ("legacy.py", "def application(environ, start_response):\n    start_response('200 OK', [])\n"
             "    return [b'']\n", "application = WSGIShim(application, policy=Policy.from_file("),
}


@pytest.mark.parametrize("kind", sorted(APPS))
def test_mount_shim(kind: str, tmp_path: Path) -> None:
    name, source, expected = APPS[kind]
    (tmp_path / name).write_text(source, encoding="utf-8")
    rewrite = plan(ScanResult(), tmp_path, mount_shim=True)
    assert len(rewrite.edits) == 1
    after = rewrite.edits[0].after.decode()
    assert expected in after
    assert "from jsonp2cors import" in after and '"cors-policy.toml"' in after
    compile(after, name, "exec")
    (tmp_path / name).write_text(after, encoding="utf-8")
    assert not plan(ScanResult(), tmp_path, mount_shim=True).edits  # idempotent


def test_mounted_flask_app_serves_through_the_shim(tmp_path: Path) -> None:
    import importlib.util

    (tmp_path / "cors-policy.toml").write_text(
        'version = 1\n[cors]\nallow_origins = ["https://news.example.com"]\n', encoding="utf-8")
    (tmp_path / "app.py").write_text(
        "from flask import Flask, jsonify\n\napp = Flask(__name__)\n\n\n@app.route('/api/w')\ndef w():\n"
        "    return jsonify(city='Berlin')\n", encoding="utf-8")
    rewrite = plan(ScanResult(), tmp_path, mount_shim=True)
    (tmp_path / "app.py").write_bytes(rewrite.edits[0].after)
    spec = importlib.util.spec_from_file_location("_mounted_app", tmp_path / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = module.app.test_client()
    padded = client.get("/api/w?callback=show")
    assert b"show(" in padded.data  # old JSONP callers keep working
    cors = client.get("/api/w", headers={"Origin": "https://news.example.com"})
    assert cors.headers["Access-Control-Allow-Origin"] == "https://news.example.com"
