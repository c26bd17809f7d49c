"""The bundled fixture apps behind the shim, for real servers.

`SHIM_FIXTURE=flask gunicorn tests.shim.serve_fixture:application` (also `django` under waitress/gunicorn,
`starlette` under uvicorn). Usage records go to $SHIM_USAGE_FILE when it is set.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from jsonp2cors.policy import Policy
from jsonp2cors.shim import ASGIShim, WSGIShim

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

FIXTURE_POLICY = Policy.from_dict({
    "version": 1,
    "cors": {"allow_origins": ["https://news.example.com", "https://*.partner.example"],
             "allow_headers": ["Content-Type"]},
    "jsonp": {"callback_params": ["callback", "jsonp", "jsoncallback"], "sunset": "2099-01-01"},
    "route": [{"path": "/api/profile", "allow_credentials": True},
              {"path": "/api/account", "allow_credentials": True}],
})
# Login and SSO pages use `callback` for a redirect target, not a function name.
NO_JSONP = ("/accounts", "/login")


def _load(kind: str) -> Any:
    root = FIXTURES / kind
    sys.path.insert(0, str(root))
    if kind == "django":
        spec = importlib.util.spec_from_file_location("fixture_django_wsgi", root / "wsgi.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.application
    module = importlib.import_module("app")
    return module.app


def build(kind: str, usage: str | None = None) -> Any:
    inner = _load(kind)
    if kind == "starlette":
        return ASGIShim(inner, policy=FIXTURE_POLICY, usage=usage, no_jsonp=NO_JSONP)
    if kind == "flask":
        inner.wsgi_app = WSGIShim(inner.wsgi_app, policy=FIXTURE_POLICY, usage=usage, no_jsonp=NO_JSONP)
        return inner
    return WSGIShim(inner, policy=FIXTURE_POLICY, usage=usage, no_jsonp=NO_JSONP)


application = build(os.environ.get("SHIM_FIXTURE", "flask"), os.environ.get("SHIM_USAGE_FILE") or None)
