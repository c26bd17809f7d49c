"""The Python analyzer: byte needles, a cheap stdlib-`ast` stage, libcst detectors for real candidates,
a token-level fallback for Python 2, and the whole-repo pass that links handlers to helpers in other modules.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any

from jsonp2cors.findings import ScanError
from jsonp2cors.scan.base import Analyzer, FileFindings, ScanConfig
from jsonp2cors.scan.files import decode_python
from jsonp2cors.scan.pydetect import padding

SUFFIXES = (".py", ".pyw", ".cgi", ".wsgi")
# Files without any of these (lower-cased) bytes cannot hold a Python JSONP endpoint.
BASE_NEEDLES: tuple[bytes, ...] = (
    b"jsonp",
    b"callback",
    b"javascript",
    b"'cb'",
    b'"cb"',
    b".cb",
    b"cb=",
    b"cb:",
    b"<cb>",
    b"{cb}",
    b"call_back",
    # padding shapes, for callback parameters of any name: "(" / '(' / "%s(%s)" / "{}({})" / f"{cb}({body})"
    b'"("',
    b"'('",
    b"%s(%",
    b"}({",
)


def needles_for(config: ScanConfig) -> tuple[bytes, ...]:
    extra: list[bytes] = []
    for name in (*config.callback_params, *config.helper_names):
        low = name.lower().encode()
        if len(low) > 3:
            extra.append(low)
        else:
            extra += [b"'" + low + b"'", b'"' + low + b'"', b"." + low, low + b"="]
    return tuple(dict.fromkeys((*BASE_NEEDLES, *extra)))


# Calls that register routes (a module holding them is read fully so handlers elsewhere get their paths).
ROUTE_CALLS = frozenset({
    "add_route", "add_url_rule", "add_resource", "register_blueprint", "include_router", "add_renderer",
    "add_view", "add_get", "add_post", "Application", "Mount", "Route", "quickstart", "include", "re_path",
})
# Asked for in a second round when a handler's route lives in a module the prefilter dropped.
ROUTE_NEEDLES: tuple[bytes, ...] = (
    b"urlpatterns", b"add_route", b"add_view", b"application(", b"add_resource", b"add_url_rule",
    b"register_blueprint", b"include_router", b"route(", b"mount(", b"add_get", b"add_routes",
)


# ----------------------------------------------------------------------------------------- cheap stage
def _padding_literal(value: str) -> bool:
    if padding.looks_like_html(value):
        return False
    return (
        padding.percent_name_slot(value) is not None
        or padding.brace_name_slot(value) is not None
        or (padding.opens_call(value) and len(value.strip()) <= 12)
    )


def needs_full_analysis(tree: ast.AST, config: ScanConfig) -> bool:
    """Cheap stdlib-`ast` test: does the module build `name(`-shaped strings or mention JSONP at all?"""
    helpers = {h.lower() for h in config.helper_names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if isinstance(value, str) and ("jsonp" in value.lower() or _padding_literal(value)):
                return True
        elif isinstance(node, ast.JoinedStr):
            parts = node.values
            for a, b in itertools.pairwise(parts):
                if (
                    isinstance(a, ast.FormattedValue)
                    and isinstance(b, ast.Constant)
                    and isinstance(b.value, str)
                    and padding.opens_call(b.value)
                ):
                    return True
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in ROUTE_CALLS:
                return True
        if isinstance(node, ast.Name) and node.id == "urlpatterns":
            return True
        if not isinstance(node, ast.Constant | ast.JoinedStr):
            name = (
                getattr(node, "id", None)
                or getattr(node, "attr", None)
                or getattr(node, "name", None)
                or getattr(node, "module", None)
            )
            if isinstance(name, str) and ("jsonp" in name.lower() or name.lower() in helpers):
                return True
    return False


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    package = module if is_package else module.rpartition(".")[0]
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level - 1 <= len(parts) else []
                base = ".".join([*parts, base] if base else parts)
            out.extend(f"{base}.{a.name}" if base else a.name for a in node.names)
    return out


# --------------------------------------------------------------------------------------------- analyzer
def _full(rel: str, text: str, config: ScanConfig, found: FileFindings) -> None:
    from jsonp2cors.scan.pydetect.collect import Collector
    from jsonp2cors.scan.pydetect.resolve import padders, resolve

    facts = Collector(rel, text, config).collect()
    found.endpoints.extend(resolve([facts], config))
    found.facts["stage"] = "full"
    found.facts["module_facts"] = facts
    names = {n for ns in padders([facts], config).values() for n in ns if n not in ("<module>",)}
    base = needles_for(config)
    follow = sorted(
        n.lower().encode() for n in names if len(n) > 2 and not any(b in n.lower().encode() for b in base)
    )
    if any(e.role == "handler" and e.route is None for e in found.endpoints):
        follow = sorted({*follow, *ROUTE_NEEDLES})
    if follow:
        found.facts["followup_needles"] = follow


def analyze_python(rel: str, data: bytes, config: ScanConfig) -> FileFindings:
    """Endpoints in one Python file (plus facts for the whole-repo pass). Never raises on bad input."""
    found = FileFindings()
    decoded = decode_python(data)
    if decoded.error:
        found.errors.append(ScanError(rel, decoded.error))
    text = decoded.text
    try:
        tree: ast.AST | None = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        tree = None
        ast_error: BaseException = exc
    if tree is not None:
        found.parsed = True
        if not needs_full_analysis(tree, config):
            from jsonp2cors.scan.pydetect.collect import module_name

            module = module_name(rel)
            imports = _imports(tree, module, rel.endswith("__init__.py"))
            found.facts.update({"stage": "cheap", "module": module, "imports": imports})
            if imports:
                found.facts["text"] = text
            return found
        _full(rel, text, config, found)
        return found
    import libcst as cst

    try:
        cst.parse_module(text)
    except Exception:
        _fallback(rel, text, config, found, ast_error)
        return found
    found.parsed = True
    _full(rel, text, config, found)
    return found


def _fallback(rel: str, text: str, config: ScanConfig, found: FileFindings, error: BaseException) -> None:
    from jsonp2cors.scan.pydetect.fallback import python2_marker, token_endpoints, tokens_of

    marker = python2_marker(tokens_of(text))
    if marker is not None:
        what, line = marker
        found.errors.append(
            ScanError(
                rel, f"Python 2 syntax ({what}); scanned at token level, findings have low confidence", line
            )
        )
    else:
        lineno = getattr(error, "lineno", None)
        msg = getattr(error, "msg", None) or type(error).__name__
        found.errors.append(
            ScanError(rel, f"syntax error: {msg}; scanned at token level (low confidence)", lineno)
        )
    found.endpoints.extend(token_endpoints(rel, text, config))


# ---------------------------------------------------------------------------------------- whole repo
def finish(items: list[tuple[str, dict[str, Any]]], config: ScanConfig) -> FileFindings:
    """Link handlers to JSONP helpers, decorators, base classes, renderers and routes in other modules."""
    from jsonp2cors.scan.pydetect.collect import Collector
    from jsonp2cors.scan.pydetect.model import ModuleFacts
    from jsonp2cors.scan.pydetect.resolve import padders, resolve

    full: list[ModuleFacts] = [f["module_facts"] for _, f in items if f.get("stage") == "full"]
    out = FileFindings()
    if not full:
        return out
    keys = padders(full, config)
    padder_modules = {k.rsplit(".", 1)[0] for k in keys} | {
        k.rsplit(".", 2)[0] for k in keys if k.count(".") > 1
    }
    for rel, f in items:
        if f.get("stage") != "cheap" or "text" not in f:
            continue
        if any(_names_padder(imp, keys, padder_modules) for imp in f.get("imports", ())):
            try:
                full.append(Collector(rel, f["text"], config).collect())
            except Exception as exc:
                out.errors.append(
                    ScanError(rel, f"python: internal error: {type(exc).__name__}: {exc}"[:240])
                )
    if len(full) > 1:
        out.endpoints.extend(resolve(full, config))
    return out


def _names_padder(imported: str, keys: dict[str, set[str]], modules: set[str]) -> bool:
    for key in keys:
        if key == imported or key.endswith("." + imported) or imported.endswith("." + key):
            return True
    return any(m == imported or m.endswith("." + imported) for m in modules)


ANALYZERS: list[Analyzer] = [
    Analyzer("python", SUFFIXES, needles_for(ScanConfig()), analyze_python, finish=finish),
]
