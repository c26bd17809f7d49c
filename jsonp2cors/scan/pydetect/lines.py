"""Line numbers and children of every node of a libcst module, from one code-generation pass.

The detectors need, per node, its first and last line (what libcst's PositionProvider gives as
`start.line`/`end.line`) and its children (libcst computes `node.children` anew on every access). Both used to
cost a walk of the whole tree each: PositionProvider's code generation, which also tracks columns by splitting
every token with a regular expression, and a visitor recording children. This state does both in the code
generation alone, counting only lines: about a fifth of the libcst stage on a large JSONP module.

It follows PositionProvider's rules exactly: a node's range is that of its syntactic part where the node says so
(`record_syntactic_position`, e.g. a `def` without its decorators' lines' leading whitespace), else all it
generates; a range recorded once is never overwritten. `tests/scan/test_lines.py` checks both against libcst's
own PositionProvider and a visitor over thousands of real modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState


class LineState(CodegenState):
    """A CodegenState that keeps no tokens: it counts newlines and records, by node id, (first line, last line)
    and the list of children in generation order (the order a visitor meets them)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.ranges: dict[int, tuple[int, int]] = {}
        self.kids: dict[int, list[cst.CSTNode]] = {}
        # `name = [...]` / `(...)` anywhere in the module, the last one (see Collector.lists)
        self.lists: dict[str, cst.List | cst.Tuple] = {}
        self._starts: list[int] = []
        self._nodes: list[cst.CSTNode] = []
        # No tokens are kept; the module's code generation only asks whether there were any (an empty module
        # still gets its newline), and every header line and statement makes some.
        self.tokens = [""] if (module.header or module.body or module.footer) else []

    # -- tokens: only their newlines matter ("\r\n", "\r" and "\n" each end a line, as in libcst)
    def add_token(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            self.line += value.count("\n") + value.count("\r") - value.count("\r\n")

    def add_indent_tokens(self) -> None:
        pass  # indentation holds no newline

    def pop_trailing_newline(self) -> None:
        pass  # the module's last newline comes after every node's range

    # -- nodes
    def before_codegen(self, node: cst.CSTNode) -> None:
        nodes = self._nodes
        if nodes:
            parent = id(nodes[-1])
            kids = self.kids.get(parent)
            if kids is None:
                self.kids[parent] = [node]
            else:
                kids.append(node)
        nodes.append(node)
        self._starts.append(self.line)
        if node.__class__ is cst.Assign:
            assign: Any = node
            if (
                len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
                and isinstance(assign.value, cst.List | cst.Tuple)
            ):
                self.lists[assign.targets[0].target.value] = assign.value

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        self._nodes.pop()
        key = id(node)
        if key not in self.ranges:
            self.ranges[key] = (start, self.line)

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        start = self.line
        try:
            yield
        finally:
            end = self.line
            if start_node is not None:
                start = self.ranges[id(start_node)][0]
            if end_node is not None:
                end = self.ranges[id(end_node)][1]
            self.ranges[id(node)] = (start, end)


def module_lines(module: cst.Module) -> LineState:
    """Run the pass over `module` (its nodes must stay alive while the result's ids are used)."""
    state = LineState(module)
    module._codegen(state)
    return state
