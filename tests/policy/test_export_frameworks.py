"""Exports loaded into the real middleware and asked the same questions as our own matcher.

Starlette's CORSMiddleware (TestClient), flask-cors (Flask test client) and django-cors-headers (Django test
client, in a subprocess so its settings do not meet other Django tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from jsonp2cors.policy import Policy
from jsonp2cors.policy.export import export
from tests.policy import cors_questions as cq

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _load(text: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(text, "<exported>", "exec"), namespace)  # the exported file, as the user would import it
    return namespace


# ------------------------------------------------------------------------------------------ Starlette


def _starlette_send(kwargs: Mapping[str, Any]) -> cq.Send:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=ALL_METHODS)],
                    middleware=[Middleware(CORSMiddleware, **kwargs)])
    client = TestClient(app)

    def send(method: str, path: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, str]]:
        response = client.request(method, path, headers=dict(headers))
        return response.status_code, dict(response.headers)

    return send


@pytest.mark.parametrize("source", [cq.FLAT_POLICY, cq.FLAT_NULL_POLICY, cq.OPEN_POLICY],
                         ids=["flat", "flat-null", "open"])
def test_starlette_export_answers_like_the_policy(source: str) -> None:
    policy = Policy.from_toml(source)
    result = export(policy, "starlette")
    assert result.losses == ()
    kwargs = _load(result.text)["CORS_MIDDLEWARE_KWARGS"]
    assert ("allow_origin_regex" in kwargs) == (source != cq.OPEN_POLICY)
    assert cq.disagreements(policy, _starlette_send(kwargs)) == []


def test_starlette_reports_per_route_settings() -> None:
    policy = Policy.from_toml(cq.ROUTED_POLICY)
    result = export(policy, "starlette")
    entries = {loss.entry for loss in result.losses}
    assert "route[0] (path '/api/account').allow_credentials" in entries
    assert "route[1] (path '/api/open').allow_origins" in entries
    # with --lossy the top-level settings are what Starlette gets: check it serves exactly those
    kwargs = _load(result.text)["CORS_MIDDLEWARE_KWARGS"]
    flat = Policy(cors=policy.cors, jsonp=policy.jsonp)
    # Content-Type is not in this policy's allow_headers, but Starlette always allows it (export note).
    assert any("Content-Type" in note for note in result.notes)
    differ = cq.disagreements(flat, _starlette_send(kwargs))
    assert differ and all("'content-type'" in d and "target says True" in d for d in differ)

    def starlette_note(q: cq.Question) -> bool:
        return bool(q[3]) and {h.lower() for h in q[3]} <= cq.STARLETTE_ALWAYS_ALLOWED

    assert cq.disagreements(flat, _starlette_send(kwargs), skip=starlette_note) == []


# ----------------------------------------------------------------------------------------- flask-cors


def _flask_send(resources: Mapping[str, Any]) -> cq.Send:
    from flask import Flask
    from flask_cors import CORS

    app = Flask("export_check")

    @app.route("/", defaults={"p": ""}, methods=ALL_METHODS[:-1])
    @app.route("/<path:p>", methods=ALL_METHODS[:-1])
    def anything(p: str) -> str:
        return "ok"

    CORS(app, resources=resources)
    client = app.test_client()

    def send(method: str, path: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, str]]:
        response = client.open(path, method=method, headers=dict(headers))
        return response.status_code, dict(response.headers)

    return send


@pytest.mark.parametrize("source", [cq.FLAT_POLICY, cq.FLAT_NULL_POLICY, cq.ROUTED_POLICY, cq.OPEN_POLICY],
                         ids=["flat", "flat-null", "routed", "open"])
def test_flask_cors_export_answers_like_the_policy(source: str) -> None:
    policy = Policy.from_toml(source)
    result = export(policy, "flask-cors")
    assert result.losses == ()
    resources = _load(result.text)["CORS_RESOURCES"]
    assert cq.disagreements(policy, _flask_send(resources)) == []


# --------------------------------------------------------------------------------- django-cors-headers

_DJANGO_RUNNER = textwrap.dedent('''
    import json, sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import django
    from django.conf import settings
    import cors_settings
    exported = {k: getattr(cors_settings, k) for k in dir(cors_settings) if k.startswith("CORS_")}
    settings.configure(
        SECRET_KEY="export-check", DEBUG=False, ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__,
        INSTALLED_APPS=["corsheaders"], MIDDLEWARE=["corsheaders.middleware.CorsMiddleware"], **exported)
    django.setup()
    from django.http import HttpResponse
    from django.urls import re_path
    urlpatterns = [re_path(r"^.*$", lambda request: HttpResponse("ok"))]
    from django.core import checks
    errors = [str(e) for e in checks.run_checks() if e.level >= checks.ERROR]
    from django.test import Client
    client = Client()
    import cors_questions as cq

    def send(method, path, headers):
        response = client.generic(method, path, headers=headers)
        return response.status_code, {k: v for k, v in response.items()}

    verdicts = [cq.browser_allows(send, q) for q in cq.questions()]
    print(json.dumps({"errors": errors, "verdicts": verdicts}))
''')


def _django_verdicts(text: str, tmp_path: Path) -> tuple[list[str], list[bool]]:
    (tmp_path / "cors_settings.py").write_text(text, encoding="utf-8")
    runner = tmp_path / "run_django_check.py"
    runner.write_text(_DJANGO_RUNNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run([sys.executable, str(runner), str(tmp_path), str(Path(cq.__file__).parent)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["errors"], data["verdicts"]


@pytest.mark.parametrize("source", [cq.FLAT_POLICY, cq.FLAT_NULL_POLICY, cq.OPEN_POLICY],
                         ids=["flat", "flat-null", "open"])
def test_django_export_answers_like_the_policy(tmp_path: Path, source: str) -> None:
    policy = Policy.from_toml(source)
    result = export(policy, "django")
    assert result.losses == ()
    errors, verdicts = _django_verdicts(result.text, tmp_path)
    assert errors == []  # django-cors-headers' own system checks accept the settings
    wrong = [f"{q}: policy says {cq.expected(policy, q)}, django says {v}"
             for q, v in zip(cq.questions(), verdicts, strict=True) if cq.expected(policy, q) != v]
    assert wrong == []


def test_django_reports_per_route_settings() -> None:
    result = export(Policy.from_toml(cq.ROUTED_POLICY), "django")
    assert any("allow_credentials" in loss.entry and "one CORS configuration" in loss.message
               for loss in result.losses)


def test_the_check_catches_an_unanchored_origin_regex() -> None:
    policy = Policy.from_toml(cq.FLAT_POLICY)
    broken = export(policy, "flask-cors").text.replace(r"\Z", "")
    differ = cq.disagreements(policy, _flask_send(_load(broken)["CORS_RESOURCES"]))
    assert any("partner.example.evil.org" in d for d in differ)


def test_question_table_is_not_trivial() -> None:
    for source in (cq.FLAT_POLICY, cq.ROUTED_POLICY, cq.OPEN_POLICY):
        policy = Policy.from_toml(source)
        answers = [cq.expected(policy, q) for q in cq.questions()]
        assert 0.05 < sum(answers) / len(answers) < 0.6
