"""`--mount-shim`: put the jsonp2cors shim where the app is built, reading cors-policy.toml.

Recognised: a Flask app (`app.wsgi_app = WSGIShim(...)`), Django's `wsgi.py`, Starlette/FastAPI
(`app.add_middleware(ASGIShim, ...)`) and a bare WSGI `application` function.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, QualifiedNameProvider

if TYPE_CHECKING:
    from jsonp2cors.rewrite import RewritePlan, _Files

_NEEDLES = (b"Flask(", b"Starlette(", b"FastAPI(", b"get_wsgi_application", b"def application")


@dataclass(frozen=True)
class _Mount:
    constructors: frozenset[str]
    shim: str  # WSGIShim | ASGIShim
    template: str  # {name} is the variable holding the app, {policy} the policy expression
    label: str


_MOUNTS: tuple[_Mount, ...] = (
    _Mount(frozenset({"flask.Flask", "flask.app.Flask"}), "WSGIShim",
           "{name}.wsgi_app = WSGIShim({name}.wsgi_app, policy={policy})", "Flask"),
    _Mount(frozenset({"django.core.wsgi.get_wsgi_application"}), "WSGIShim",
           "{name} = WSGIShim({name}, policy={policy})", "Django WSGI"),
    _Mount(frozenset({"starlette.applications.Starlette", "fastapi.FastAPI", "fastapi.applications.FastAPI"}),
           "ASGIShim", "{name}.add_middleware(ASGIShim, policy={policy})", "Starlette/FastAPI"),
)


def _policy_expr(module_dir: Path, policy_path: Path) -> str:
    rel = os.path.relpath(policy_path, module_dir).replace(os.sep, "/")
    return f'Policy.from_file(\n    os.path.join(os.path.dirname(os.path.abspath(__file__)), "{rel}")\n)'


class _Insert(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    def __init__(self, policy: str) -> None:
        super().__init__()
        self.policy = policy
        self.labels: list[str] = []
        self.shims: set[str] = set()

    def _mount_for(self, stmt: cst.BaseStatement) -> tuple[_Mount, str] | None:
        if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())],
                                                                     value=m.Call())])):
            return None
        assert isinstance(stmt, cst.SimpleStatementLine)
        assign = stmt.body[0]
        assert isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Call)
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, assign.value.func, set())}
        target = assign.targets[0].target
        assert isinstance(target, cst.Name)
        for mount in _MOUNTS:
            if names & mount.constructors:
                return mount, target.value
        return None

    def _with_mounts(self, original: Sequence[cst.BaseStatement], body: Sequence[cst.BaseStatement], top: bool
                     ) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for before, stmt in zip(original, body, strict=True):
            out.append(stmt)
            found = self._mount_for(before)
            if found is not None:
                mount, name = found
                out.append(cst.parse_statement(mount.template.format(name=name, policy=self.policy)))
                self.labels.append(mount.label)
                self.shims.add(mount.shim)
            elif top and isinstance(stmt, cst.FunctionDef) and stmt.name.value == "application" and len(
                stmt.params.params
            ) == 2:
                out.append(cst.parse_statement(f"application = WSGIShim(application, policy={self.policy})"))
                self.labels.append("bare WSGI")
                self.shims.add("WSGIShim")
        return out

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._with_mounts(original_node.body, updated_node.body, top=True))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if isinstance(updated_node.body, cst.IndentedBlock) and any(
            isinstance(s, cst.SimpleStatementLine) and any(isinstance(x, cst.Return) for x in s.body)
            for s in updated_node.body.body
        ):  # an app factory: mount right after the app is built
            assert isinstance(original_node.body, cst.IndentedBlock)
            return updated_node.with_changes(body=updated_node.body.with_changes(
                body=self._with_mounts(original_node.body.body, updated_node.body.body, top=False)))
        return updated_node


def mount_in_module(text: str, policy: str) -> tuple[str, list[str]]:
    """The module with the shim mounted after each app it builds, and what was mounted."""
    if "jsonp2cors" in text and ("WSGIShim" in text or "ASGIShim" in text):
        return text, []
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return text, []
    insert = _Insert(policy)
    new = MetadataWrapper(module).visit(insert)
    if not insert.labels:
        return text, []
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "os")
    for shim in sorted(insert.shims | {"Policy"}):
        AddImportsVisitor.add_needed_import(context, "jsonp2cors", shim)
    new = AddImportsVisitor(context).transform_module(new)
    return new.code, insert.labels


def mount_shims(files: _Files, root: Path, policy_path: Path, out: RewritePlan,
                is_test: Callable[[str], bool] | None = None) -> None:
    from jsonp2cors.rewrite import Migrated, iter_python_files

    test = is_test or (lambda rel: "/tests/" in f"/{rel}" or rel.rsplit("/", 1)[-1].startswith("test_"))
    for path in sorted(iter_python_files(root)):
        rel = path.relative_to(root).as_posix()
        if test(rel):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if not any(needle in data for needle in _NEEDLES):
            continue
        try:
            text = files.load(rel, "python")
        except Exception:  # undecodable: not ours to mount into
            continue
        new, labels = mount_in_module(text, _policy_expr(path.parent.resolve(), policy_path.resolve()))
        if labels:
            files.update(rel, new, [f"shim mounted ({', '.join(labels)})"])
            out.migrated.append(Migrated(rel, 0, "shim", f"mounted ({', '.join(labels)})", "shim"))
