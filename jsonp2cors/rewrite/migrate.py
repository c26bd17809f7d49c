"""`migrate`: scan, generate cors-policy.toml, plan (and optionally write) the rewrite, and summarise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonp2cors.findings import ScanResult
from jsonp2cors.rewrite import RewritePlan, apply, plan
from jsonp2cors.rewrite.source import write_atomic
from jsonp2cors.rewrite.vcs import dirty_files

POLICY_NAME = "cors-policy.toml"


class MigrationRefused(RuntimeError):
    """--write would overwrite uncommitted changes (and --allow-dirty was not given)."""

    def __init__(self, files: Sequence[Path]) -> None:
        super().__init__("uncommitted changes in: " + ", ".join(str(f) for f in files))
        self.files = list(files)


@dataclass
class Migration:
    root: Path
    result: ScanResult
    plan: RewritePlan
    policy_path: Path
    policy_text: str | None = None  # None when the policy module could not generate one
    policy_existed: bool = False
    lint: list[Any] = field(default_factory=list)  # jsonp2cors.policy.lint.LintFinding
    policy_notes: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def lint_errors(self) -> list[Any]:
        return [f for f in self.lint if getattr(f, "severity", "error") == "error"]


def generate_policy(result: ScanResult, origins: Sequence[str], source: str) -> tuple[str | None, list[str]]:
    """The generated policy text and notes (helper D's `jsonp2cors.policy.generate`)."""
    try:
        from jsonp2cors.policy.generate import generate
    except ImportError as exc:  # pragma: no cover - the policy part ships with the package
        return None, [f"policy generation unavailable: {exc}"]
    generated = generate(result, origins=origins, source=source)
    return generated.to_toml(), list(generated.notes)


def lint_policy(text: str) -> list[Any]:
    try:
        from jsonp2cors.policy.lint import lint_text
    except ImportError:  # pragma: no cover
        return []
    return list(lint_text(text))


def migrate(path: str | Path, origins: Sequence[str] = (), *, write: bool = False, allow_dirty: bool = False,
            mount_shim: bool = False, only: set[str] | None = None,
            scan_fn: Callable[[Sequence[str | Path]], ScanResult] | None = None) -> Migration:
    """Scan `path`, generate its policy, plan the rewrite; with `write`, write both (atomically).

    An existing cors-policy.toml is kept as it is (a reviewed policy is never overwritten) and linted.
    Raises MigrationRefused when `write` would touch files with uncommitted changes.
    """
    from jsonp2cors.scan import scan, scan_root

    root = scan_root([path])
    result = (scan_fn or scan)([path])
    policy_path = root / POLICY_NAME
    existed = policy_path.exists()
    if existed:
        policy_text: str | None = policy_path.read_text(encoding="utf-8")
        notes = [f"{POLICY_NAME} exists: kept as it is (delete it to generate a new one)"]
    else:
        policy_text, notes = generate_policy(result, origins, str(path))
    policy_obj = None
    if policy_text is not None:
        try:
            from jsonp2cors.policy import Policy

            policy_obj = Policy.from_toml(policy_text)
        except Exception as exc:  # a broken existing policy is reported by lint; the rewrite goes on
            notes.append(f"{POLICY_NAME} does not load: {exc}")
    rewrite = plan(result, root, policy_obj, only=only, mount_shim=mount_shim, policy_file=policy_path)
    migration = Migration(root, result, rewrite, policy_path, policy_text, existed,
                          lint_policy(policy_text) if policy_text else [], notes)
    if write:
        touched = [e.path for e in rewrite.edits] + ([policy_path] if policy_path.exists() and not existed else [])
        dirty = dirty_files(touched) if not allow_dirty else []
        if dirty:
            raise MigrationRefused(dirty)
        apply(rewrite.edits)
        if policy_text is not None and not existed:
            if policy_path.exists():  # pragma: no cover - raced with another writer
                write_atomic(policy_path, policy_text.encode("utf-8"))
            else:
                policy_path.write_text(policy_text, encoding="utf-8")
        migration.written = True
    return migration


def summary_lines(migration: Migration) -> list[str]:
    """The short summary `migrate` prints: what moved, what was left alone and why, lint, next steps."""
    rewrite = migration.plan
    endpoints = rewrite.endpoints_migrated()
    consumers = rewrite.consumers_migrated()
    shims = [m for m in rewrite.migrated if m.kind == "shim"]
    total_endpoints = len(migration.result.endpoints)
    total_consumers = len(migration.result.consumers)
    verb = "migrated" if migration.written else "to migrate"
    lines = [
        f"Endpoints {verb}: {len(endpoints)} of {total_endpoints}",
        f"Consumers {verb}: {len(consumers)} of {total_consumers}",
        f"Files {'changed' if migration.written else 'to change'}: {len(rewrite.edits)}",
    ]
    if shims:
        lines.append("Shim mounted in: " + ", ".join(sorted({m.file for m in shims})))
    if rewrite.declined:
        lines.append(f"Left alone ({len(rewrite.declined)}):")
        for item in sorted(rewrite.declined, key=lambda d: (d.file, d.line)):
            lines.append(f"  {item.file}:{item.line}: {item.what}: {item.reason}")
    policy_rel = _rel(migration.policy_path, migration.root)
    if migration.policy_text is None:
        lines.append("Policy: not generated")
    else:
        state = "kept" if migration.policy_existed else ("written" if migration.written else "would be written")
        errors = len(migration.lint_errors)
        warnings = len(migration.lint) - errors
        verdict = "clean" if not migration.lint else f"{errors} error(s), {warnings} warning(s)"
        lines.append(f"Policy: {policy_rel} {state}; lint: {verdict}")
        for finding in migration.lint:
            lines.append(f"  {policy_rel}:{finding.line}:{finding.column}: {finding.code} {finding.message}")
    for note in migration.policy_notes:
        lines.append(f"note: {note}")
    return lines


def next_steps(migration: Migration) -> list[str]:
    policy_rel = _rel(migration.policy_path, migration.root)
    steps = []
    if not migration.written:
        steps.append("Review the diff above, then run again with --write.")
    steps.append(f"Review {policy_rel}: every allowed origin, and credentials per route.")
    if not any(m.kind == "shim" for m in migration.plan.migrated):
        steps.append("Mount the shim where the app is built (or rerun with --mount-shim), so old JSONP callers "
                     "keep working:\n      app.wsgi_app = WSGIShim(app.wsgi_app, policy=Policy.from_file("
                     f"\"{policy_rel}\"))")
    steps.append("Deploy, then watch who still calls JSONP: jsonp2cors usage <usage.jsonl>")
    steps.append(f"When the usage dries up, set [jsonp] sunset = \"YYYY-MM-DD\" in {policy_rel}.")
    return steps


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def summary_counts(rewrite: RewritePlan, *, written: bool) -> list[str]:
    """What `rewrite` prints after the diff: counts, then each place left alone with its reason."""
    verb = "changed" if written else "to change"
    lines = [f"{len(rewrite.edits)} file(s) {verb}; {len(rewrite.endpoints_migrated())} endpoint(s) and "
             f"{len(rewrite.consumers_migrated())} consumer(s) migrated; {len(rewrite.declined)} left alone"]
    for item in sorted(rewrite.declined, key=lambda d: (d.file, d.line)):
        lines.append(f"{item.file}:{item.line}: left alone: {item.what}: {item.reason}")
    lines += [f"note: {note}" for note in rewrite.notes]
    return lines
