"""pydetect.lines: one code generation gives every node's lines exactly as libcst's PositionProvider does, and its
children as a visitor meets them (whitespace aside: a few nodes generate their whitespace in another order)."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from jsonp2cors.scan.pydetect.lines import module_lines

ROOT = Path(__file__).resolve().parents[2]
_WHITESPACE = (cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline)


class _Children(cst.CSTVisitor):
    """The reference: every node's children in visiting order, and the last `name = [...]` / `(...)`."""

    def __init__(self) -> None:
        self.kids: dict[int, list[cst.CSTNode]] = {}
        self.stack: list[cst.CSTNode] = []
        self.lists: dict[str, cst.CSTNode] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.kids.setdefault(id(self.stack[-1]), []).append(node)
        self.stack.append(node)
        if (
            isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and isinstance(node.value, cst.List | cst.Tuple)
        ):
            self.lists[node.targets[0].target.value] = node.value
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


def _check(code: str) -> int:
    """Compare with libcst on one module; the number of nodes compared."""
    module = cst.parse_module(code)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    reference = _Children()
    module.visit(reference)
    state = module_lines(module)
    for node, where in positions.items():
        assert state.ranges[id(node)] == (where.start.line, where.end.line), (type(node).__name__, where)
    assert len(state.ranges) == len(positions)
    assert set(state.kids) == set(reference.kids)
    for parent, kids in reference.kids.items():
        got = state.kids[parent]
        assert sorted(map(id, got)) == sorted(map(id, kids))
        meaningful = [id(k) for k in kids if not isinstance(k, _WHITESPACE)]
        assert [id(k) for k in got if not isinstance(k, _WHITESPACE)] == meaningful
    assert {k: id(v) for k, v in state.lists.items()} == {k: id(v) for k, v in reference.lists.items()}
    return len(positions)


SNIPPETS = {
    "decorated": "import flask\n\n\n@app.route('/a')\n@login_required\ndef view(cb=None):\n    return cb\n",
    "crlf": "x = 1\r\ndef f(a,\r\n      b):\r\n    return a\r\n",
    "lone-cr": "x = 1\rdef f():\r    return 2\r",
    "no-trailing-newline": "def f():\n    return '%s(%s)' % (a, b)",
    "empty": "",
    "only-comment": "# nothing here\n",
    "strings": 's = """one\ntwo\nthree"""\nt = (\n    "a"\n    "b"\n)\nu = f"{x}(\\n{y})"\n',
    "continuation": "total = 1 + \\\n    2 + \\\n    3\nif total:\n    pass\n",
    "as-names": (
        "import a.b as c, d as e\nfrom f import (g as h,\n    i)\ntry:\n    pass\nexcept E as err:\n    del err\n"
    ),
    "lists": "PARAMS = ['callback', 'jsonp']\nPARAMS = ('cb',)\nOTHER = [1] + [2]\n",
    "classes": "class V(View):\n    '''doc'''\n\n    # comment\n    def get(self, /, a, *, b):\n        pass\n",
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippets_match_libcst(name: str) -> None:
    _check(SNIPPETS[name])


def test_a_decorated_def_starts_on_its_def_line_as_in_libcst() -> None:
    module = cst.parse_module(SNIPPETS["decorated"])
    state = module_lines(module)
    fn = module.body[1]
    assert isinstance(fn, cst.FunctionDef)
    assert state.ranges[id(fn)] == (6, 7)  # the decorators' lines are not the def's (PositionProvider)
    assert state.ranges[id(fn.decorators[0])] == (4, 4)
    assert state.ranges[id(fn.name)] == (6, 6)


def _real_modules() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    picked = sorted((stdlib / "json").glob("*.py"))
    picked += [*sorted((ROOT / "fixtures").rglob("*.py")), ROOT / "jsonp2cors" / "scan" / "pydetect" / "routes.py"]
    return picked


def test_real_modules_match_libcst() -> None:
    checked = nodes = 0
    for path in _real_modules():
        try:
            code = path.read_text(encoding="utf-8")
            cst.parse_module(code)
        except (UnicodeDecodeError, cst.ParserSyntaxError):
            continue  # the Python 2 fixtures
        nodes += _check(code)
        checked += 1
    assert checked > 40 and nodes > 40_000, json.dumps({"modules": checked, "nodes": nodes})
