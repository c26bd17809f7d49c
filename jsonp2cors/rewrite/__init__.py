"""The rewrite: JSONP endpoints to plain JSON, consumers to JSON requests; planned as diffs, applied atomically.

`plan()` reads the files a scan named and returns the edits (before/after bytes per file) with what it
migrated and what it declined and why; `apply()` writes them. Nothing here decides CORS policy.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, ScanResult
from jsonp2cors.rewrite.source import SourceError, SourceText, decode, write_atomic

__all__ = [
    "Declined", "FileEdit", "Migrated", "RewritePlan", "StaleFileError", "apply", "file_kind", "plan",
]

PYTHON_SUFFIXES = (".py", ".pyw")
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx")
MARKUP_SUFFIXES = (".html", ".htm", ".xhtml", ".j2", ".jinja", ".jinja2", ".djhtml", ".php", ".erb", ".jsp",
                   ".vue", ".tpl", ".twig", ".mustache", ".hbs", ".ejs", ".aspx", ".cshtml")
_VENDOR_PARTS = frozenset({"vendor", "node_modules", "bower_components", "site-packages"})
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
                        "site-packages", "bower_components", ".mypy_cache", ".ruff_cache"})


class StaleFileError(RuntimeError):
    """A file changed between planning and writing; nothing was written for it."""


@dataclass(frozen=True)
class FileEdit:
    """One file's whole new content; `before` is what the plan read, byte for byte."""

    path: Path
    rel: str
    before: bytes
    after: bytes
    notes: tuple[str, ...] = ()

    def diff(self, context: int = 3) -> str:
        before = _lines(self.before)
        after = _lines(self.after)
        lines = difflib.unified_diff(before, after, fromfile=f"a/{self.rel}", tofile=f"b/{self.rel}", n=context)
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in lines)


@dataclass(frozen=True)
class Declined:
    """A finding the rewrite left alone, and why."""

    file: str
    line: int
    reason: str
    what: str = ""  # "endpoint weather", "consumer script-tag", ...


@dataclass(frozen=True)
class Migrated:
    """A finding the rewrite handled: edited in place, or covered by an edit elsewhere (a helper)."""

    file: str
    line: int
    what: str
    note: str = ""
    kind: str = "consumer"  # "endpoint" | "consumer" | "shim" | "registration"


@dataclass
class RewritePlan:
    edits: list[FileEdit] = field(default_factory=list)
    declined: list[Declined] = field(default_factory=list)
    migrated: list[Migrated] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.edits)

    def endpoints_migrated(self) -> list[Migrated]:
        return [m for m in self.migrated if m.kind == "endpoint"]

    def consumers_migrated(self) -> list[Migrated]:
        return [m for m in self.migrated if m.kind == "consumer"]


def _lines(data: bytes) -> list[str]:
    try:
        text = decode(data).text
    except SourceError:
        text = data.decode("utf-8", "replace")
    return text.splitlines(keepends=True)


def file_kind(rel: str) -> str:
    lower = rel.lower()
    if lower.endswith(PYTHON_SUFFIXES):
        return "python"
    if lower.endswith(JS_SUFFIXES):
        return "js"
    if lower.endswith(MARKUP_SUFFIXES) or "/templates/" in f"/{lower}":
        return "markup"
    return "other"


def _minified(rel: str, text: str) -> str | None:
    parts = set(rel.lower().split("/")[:-1])
    if rel.lower().endswith((".min.js", "-min.js", ".bundle.js")):
        return "minified file"
    if parts & _VENDOR_PARTS:
        return "vendored file"
    lines = text.splitlines() or [""]
    if len(text) > 2000 and max(len(line) for line in lines) > 1000:
        return "minified or generated file (very long lines)"
    return None


def _decode_kind(kind: str) -> str:
    return {"python": "python", "markup": "markup"}.get(kind, "text")


def iter_python_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                yield Path(folder) / name


class _Files:
    """Reads each file once and keeps the evolving text of files that several steps touch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.raw: dict[str, bytes] = {}
        self.source: dict[str, SourceText] = {}
        self.text: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def load(self, rel: str, kind: str) -> str:
        if rel not in self.text:
            data = (self.root / rel).read_bytes()
            source = decode(data, _decode_kind(kind))
            self.raw[rel] = data
            self.source[rel] = source
            self.text[rel] = source.text
        return self.text[rel]

    def update(self, rel: str, text: str, notes: Iterable[str] = ()) -> None:
        self.text[rel] = text
        self.notes.setdefault(rel, []).extend(n for n in notes if n)

    def edits(self) -> list[FileEdit]:
        out: list[FileEdit] = []
        for rel, text in sorted(self.text.items()):
            source = self.source[rel]
            if text == source.text:
                continue
            after = source.encode(text)
            out.append(FileEdit(self.root / rel, rel, self.raw[rel], after,
                                tuple(dict.fromkeys(self.notes.get(rel, [])))))
        return out


def _policy_params(policy: Any) -> tuple[str, ...]:
    jsonp = getattr(policy, "jsonp", None)
    return tuple(getattr(jsonp, "callback_params", ()) or ())


def plan(result: ScanResult, root: str | Path, policy: Any = None, *, only: set[str] | None = None,
         mount_shim: bool = False, policy_file: str | Path | None = None) -> RewritePlan:
    """Plan the rewrite of every finding in `result` (paths relative to `root`); nothing is written."""
    from jsonp2cors.rewrite import python as py

    root = Path(root)
    out = RewritePlan()
    files = _Files(root)
    extra_params = _policy_params(policy)
    wanted = only or {"python", "markup", "js"}

    # -- endpoints ---------------------------------------------------------------------------------
    by_file: dict[str, list[Endpoint]] = {}
    for endpoint in result.endpoints:
        if endpoint.test_code:
            out.declined.append(Declined(endpoint.file, endpoint.line, "test code: left as it is",
                                         f"endpoint {endpoint.function}"))
            continue
        by_file.setdefault(endpoint.file, []).append(endpoint)
    # A helper function is known by its name; a helper method by its class (`write` alone says nothing).
    helper_names = frozenset(
        e.function.split(".")[-2] if "." in e.function else e.function
        for e in result.endpoints if e.role == "helper" and not e.test_code
    )
    renderers: dict[str, set[str]] = {}  # renderer name -> files registering it
    if "python" in wanted and any(e.framework == "pyramid" for e in result.endpoints):
        for path in iter_python_files(root):
            try:
                data = path.read_text("utf-8", errors="replace")
            except OSError:
                continue
            for name in py.jsonp_renderer_names(data):
                renderers.setdefault(name, set()).add(path.relative_to(root).as_posix())
    facts = py.ProjectFacts(helper_names, frozenset(renderers))
    if "python" in wanted:
        for rel, endpoints in sorted(by_file.items()):
            if file_kind(rel) != "python":
                out.declined += [Declined(rel, e.line, "not a Python file", f"endpoint {e.function}")
                                 for e in endpoints]
                continue
            if extra_params:
                endpoints = [_with_params(e, extra_params) for e in endpoints]
            try:
                text = files.load(rel, "python")
            except (OSError, SourceError) as exc:
                out.declined += [Declined(rel, e.line, f"cannot read the file: {exc}", f"endpoint {e.function}")
                                 for e in endpoints]
                continue
            try:
                res = py.rewrite_python(text, endpoints, facts)
            except Exception as exc:  # one file's surprise must not stop the others; report it
                out.declined += [Declined(rel, e.line, f"internal error, left alone: {type(exc).__name__}: {exc}",
                                          f"endpoint {e.function}") for e in endpoints]
                continue
            notes = [c.note for c in res.changed if c.note != "plain JSON"]
            files.update(rel, res.text, notes)
            out.migrated += [Migrated(rel, c.line, f"endpoint {c.function}", c.note, "endpoint")
                             for c in (*res.changed, *res.covered)]
            out.declined += [Declined(rel, d.line, d.reason, f"endpoint {d.function}") for d in res.declined]
        _drop_unused_renderers(files, renderers, root, out)
        _check_helper_coverage(result, out)

    # -- consumers ---------------------------------------------------------------------------------
    consumers: dict[str, list[Consumer]] = {}
    for consumer in result.consumers:
        consumer = _credentials_from_policy(consumer, policy)
        if consumer.test_code:
            out.declined.append(Declined(consumer.file, consumer.line, "test code: left as it is",
                                         f"consumer {consumer.kind}"))
            continue
        consumers.setdefault(consumer.file, []).append(consumer)
    for rel, group in sorted(consumers.items()):
        kind = file_kind(rel)
        if kind == "python":
            if "python" in wanted or "markup" in wanted:
                out.declined += [Declined(rel, c.line, "a <script> tag inside a Python string; rewrite by hand"
                                          if c.migratable else f"not data: {c.detail or 'script loader'}",
                                          f"consumer {c.kind}") for c in group]
            continue
        if kind not in ("markup", "js") or kind not in wanted:
            if kind not in ("markup", "js"):
                out.declined += [Declined(rel, c.line, "unknown file type", f"consumer {c.kind}") for c in group]
            continue
        _plan_consumers(files, rel, kind, group, out)
    _check_wrapper_calls(files, consumers, out)

    if mount_shim and "python" in wanted:
        from jsonp2cors.rewrite.mount import mount_shims

        policy_path = Path(policy_file).resolve() if policy_file else (root / "cors-policy.toml").resolve()
        mount_shims(files, root, policy_path, out)
        if not policy_path.exists() and any(m.kind == "shim" for m in out.migrated):
            out.notes.append(f"the mounted shim reads {policy_path.name}, which does not exist yet: create it "
                             "with `jsonp2cors policy generate` (or use `jsonp2cors migrate`)")

    out.edits = files.edits()
    return out


def _with_params(endpoint: Endpoint, extra: Sequence[str]) -> Endpoint:
    from dataclasses import replace

    return replace(endpoint, callback_params=tuple(dict.fromkeys((*endpoint.callback_params, *extra))))


def _credentials_from_policy(consumer: Consumer, policy: Any) -> Consumer:
    """Fill in `credentials` for a consumer the scan could not link to an endpoint, from the policy route its URL
    path falls under: the policy is what the server will grant, so a route with `allow_credentials` means the
    old script tag's cookies must keep travelling (`credentials: "include"`). Without a usable path or policy
    the consumer stays unknown (same-origin, with a note)."""
    if consumer.credentials is not None or policy is None or not consumer.url or not hasattr(policy, "for_path"):
        return consumer
    from jsonp2cors.scan.link import mask_holes, parse_url

    parts = parse_url(consumer.url)
    # Up to the first template hole the path is literal: "/api/account/{{ id }}" still falls under /api/account.
    hole = mask_holes(parts.path).find("\x00")
    path = parts.path if hole < 0 else parts.path[:hole]
    if parts.templated_prefix or not path.startswith("/"):
        return consumer
    effective = policy.for_path(path)
    if effective.route is None and not effective.cors.allow_credentials:
        return consumer  # no route speaks for this endpoint: stay "unknown" (same-origin, with a note)
    return replace(consumer, credentials=bool(effective.cors.allow_credentials))


def _plan_consumers(files: _Files, rel: str, kind: str, group: list[Consumer], out: RewritePlan) -> None:
    from jsonp2cors.rewrite.javascript import rewrite_js
    from jsonp2cors.rewrite.markup import rewrite_markup

    try:
        text = files.load(rel, kind)
    except (OSError, SourceError) as exc:
        out.declined += [Declined(rel, c.line, f"cannot read the file: {exc}", f"consumer {c.kind}") for c in group]
        return
    minified = _minified(rel, text)
    if minified:
        out.declined += [Declined(rel, c.line, f"{minified}: never edited", f"consumer {c.kind}") for c in group]
        return
    try:
        res = rewrite_markup(text, group) if kind == "markup" else rewrite_js(text, group)
    except Exception as exc:  # one file's surprise must not stop the others; report it
        out.declined += [Declined(rel, c.line, f"internal error, left alone: {type(exc).__name__}: {exc}",
                                  f"consumer {c.kind}") for c in group]
        return
    files.update(rel, res.text, [c.note for c in res.changed])
    out.migrated += [Migrated(rel, c.line, f"consumer {c.kind}", c.note) for c in (*res.changed, *res.covered)]
    out.declined += [Declined(rel, d.line, d.note, f"consumer {d.kind}") for d in res.declined]


def _check_helper_coverage(result: ScanResult, out: RewritePlan) -> None:
    """A handler counted as migrated "through helper X" is declined after all when X itself was declined.

    Helper names repeat across a code base (every app has its `jsonp()`), so X is the helper of that name
    whose file is closest to the handler's.
    """
    refused = {(d.file, d.what.removeprefix("endpoint ")) for d in out.declined}
    by_name: dict[str, list[Endpoint]] = {}
    for helper in result.endpoints:
        if helper.role == "helper":
            name = helper.function.split(".")[-2] if "." in helper.function else helper.function
            by_name.setdefault(name, []).append(helper)

    def nearest(helpers: list[Endpoint], file: str) -> Endpoint:
        folder = file.split("/")[:-1]

        def shared(helper: Endpoint) -> int:
            count = 0
            for a, b in zip(helper.file.split("/")[:-1], folder, strict=False):
                if a != b:
                    break
                count += 1
            return count

        return max(helpers, key=shared)

    kept: list[Migrated] = []
    for item in out.migrated:
        if item.kind == "endpoint" and item.note.startswith("through"):
            words = set(re.split(r"[\s(),.]+", item.note))
            closest = [nearest(by_name[w], item.file) for w in words if w in by_name]
            if any((h.file, h.function) in refused for h in closest):
                out.declined.append(Declined(item.file, item.line,
                                             f"its JSONP helper was not rewritten ({item.note})", item.what))
                continue
        kept.append(item)
    out.migrated = kept


def _wrapper_name(detail: str | None, marker: str) -> str | None:
    if not detail or marker not in detail:
        return None
    rest = detail.split(marker, 1)[1].split()
    return rest[0] if rest else None


def _check_wrapper_calls(files: _Files, consumers: dict[str, list[Consumer]], out: RewritePlan) -> None:
    """Call sites of a project-local JSONP wrapper are only migrated if the wrapper itself was.

    Files holding calls of a wrapper that stayed JSONP are planned again from their original text with
    those calls declined, so no call site loses a callback parameter its wrapper still relies on.
    """
    done = {(m.file, m.line) for m in out.migrated}
    migrated = {name for group in consumers.values() for c in group
                if (name := _wrapper_name(c.detail, "inside JSONP wrapper")) and (c.file, c.line) in done}
    stuck = {rel: [c for c in group if (name := _wrapper_name(c.detail, "call of JSONP wrapper"))
                   and name not in migrated]
             for rel, group in consumers.items()}
    for rel, calls in stuck.items():
        if not calls or rel not in files.text:
            continue
        keys = {(c.line, c.kind) for c in calls}
        out.migrated = [m for m in out.migrated if m.file != rel]
        out.declined = [d for d in out.declined if d.file != rel]
        files.text[rel] = files.source[rel].text
        files.notes.pop(rel, None)
        rest = [c for c in consumers[rel] if (c.line, c.kind) not in keys]
        out.declined += [Declined(rel, c.line, f"the JSONP wrapper {_wrapper_name(c.detail, 'call of JSONP wrapper')}"
                                  " it calls was not rewritten", f"consumer {c.kind}") for c in calls]
        if rest:
            _plan_consumers(files, rel, file_kind(rel), rest, out)


def _drop_unused_renderers(files: _Files, renderers: dict[str, set[str]], root: Path, out: RewritePlan) -> None:
    """Remove `add_renderer(NAME, JSONP(...))` when no `renderer=NAME` is left anywhere in the project."""
    if not renderers:
        return
    from jsonp2cors.rewrite import python as py

    unused: set[str] = set()
    for name in renderers:
        uses = 0
        for path in iter_python_files(root):
            rel = path.relative_to(root).as_posix()
            text = files.text.get(rel)
            if text is None:
                try:
                    text = path.read_text("utf-8", errors="replace")
                except OSError:
                    continue
            if name in text:
                uses += py.renderer_uses(text, name)
        if uses == 0:
            unused.add(name)
    for name in unused:
        for rel in sorted(renderers[name]):
            text = files.load(rel, "python")
            new = py.remove_renderer_registrations(text, {name})
            if new != text:
                files.update(rel, new, [f"JSONP renderer {name!r} registration removed (no view uses it)"])
                out.migrated.append(Migrated(rel, 0, f"renderer {name}", "registration removed", "registration"))


def apply(edits: Sequence[FileEdit]) -> None:
    """Write every edit atomically. A file that changed since planning raises StaleFileError before any write."""
    for edit in edits:
        try:
            current = edit.path.read_bytes()
        except OSError as exc:
            raise StaleFileError(f"{edit.rel}: cannot read it any more ({exc})") from exc
        if current != edit.before:
            raise StaleFileError(f"{edit.rel} changed since the rewrite was planned; run it again")
    for edit in edits:
        write_atomic(edit.path, edit.after)
