"""bench/shim_bench.py builds the apps it claims to measure (checked in process, no wrk)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("shim_bench", ROOT / "bench" / "shim_bench.py")
assert spec is not None and spec.loader is not None
bench: Any = importlib.util.module_from_spec(spec)
sys.modules["shim_bench"] = bench  # dataclasses look their module up
spec.loader.exec_module(bench)


@pytest.mark.parametrize("config", bench.CONFIGS, ids=[c.name for c in bench.CONFIGS])
def test_bench_configuration(config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_USAGE", "")
    headers = {"Origin": bench.ORIGIN} if config.origin else {}
    if config.stack == "asgi":
        r = TestClient(bench.build_asgi(config.name)).get(config.path, headers=headers)
    else:
        transport = httpx.WSGITransport(app=bench.build_wsgi(config.name))
        r = httpx.Client(transport=transport, base_url="http://t").get(config.path, headers=headers)
    assert r.status_code == 200
    if "shim-jsonp" in config.name:
        assert r.content.startswith(b"/**/ typeof cb === 'function' && cb(")
    elif config.name.endswith("naive-jsonp"):
        assert r.content.startswith(b"cb(")
    else:
        assert r.json() == bench.PAYLOAD
    if config.name.endswith("-cors"):
        assert r.headers["access-control-allow-origin"] == bench.ORIGIN
