"""Loading the before/after rewrite cases under tests/rewrite/cases/<name>/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, EndpointRef
from jsonp2cors.rewrite.javascript import JsResult, rewrite_js
from jsonp2cors.rewrite.markup import rewrite_markup
from jsonp2cors.rewrite.python import ProjectFacts, PyResult, rewrite_python

CASES = Path(__file__).resolve().parent / "cases"


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def spec(case: Path) -> dict[str, Any]:
    return json.loads((case / "case.json").read_text(encoding="utf-8"))


def before_file(case: Path) -> Path:
    return next(case.glob("before.*"))


def after_file(case: Path) -> Path:
    return case / ("after" + before_file(case).suffix)


def endpoints(case: Path) -> list[Endpoint]:
    rel = before_file(case).name
    out = []
    for item in spec(case).get("endpoints", []):
        params = tuple(item.get("callback_params", ["callback"]))
        out.append(Endpoint(rel, item["line"], item["function"], item.get("framework", "generic"),
                            callback_params=params, credentials=item.get("credentials", False),
                            role=item.get("role", "handler")))
    return out


def consumers(case: Path) -> list[Consumer]:
    rel = before_file(case).name
    out = []
    for item in spec(case).get("consumers", []):
        linked = item.get("credentials")
        out.append(Consumer(rel, item["line"], item["kind"], url=item.get("url"), callback=item.get("callback"),
                            migratable=item.get("migratable", True), callback_param=item.get("callback_param"),
                            endpoint=EndpointRef("app.py", 1) if linked is not None else None,
                            credentials=linked, detail=item.get("detail")))
    return out


def run_case(case: Path) -> PyResult | JsResult:
    source = before_file(case).read_text(encoding="utf-8")
    suffix = before_file(case).suffix
    if suffix == ".py":
        facts = ProjectFacts(
            helper_names=frozenset(e.function.split(".")[-1] for e in endpoints(case) if e.role == "helper"),
            jsonp_renderers=frozenset(spec(case).get("jsonp_renderers", [])),
        )
        return rewrite_python(source, endpoints(case), facts)
    if suffix in (".js", ".mjs"):
        return rewrite_js(source, consumers(case))
    return rewrite_markup(source, consumers(case))
