"""Before/after pairs for every framework idiom and consumer kind (tests/rewrite/cases/<name>/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from jsonp2cors.rewrite.javascript import error_count, parser
from jsonp2cors.rewrite.markup import script_elements
from tests.rewrite.cases_support import after_file, before_file, case_dirs, run_case, spec

CASES = case_dirs()
NODE = shutil.which("node")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rewrite_matches_after(case: Path) -> None:
    result = run_case(case)
    expected = after_file(case).read_text(encoding="utf-8")
    assert result.text == expected
    assert len(result.declined) == spec(case).get("declined", 0), result.declined


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_unchanged_cases_report_why(case: Path) -> None:
    result = run_case(case)
    if result.text == before_file(case).read_text(encoding="utf-8"):
        wanted = spec(case).get("endpoints", []) + spec(case).get("consumers", [])
        assert len(result.declined) == len(wanted), "an untouched finding must come with a reason"
        assert all(getattr(d, "reason", None) or getattr(d, "note", None) for d in result.declined)


PY_CASES = [c for c in CASES if before_file(c).suffix == ".py" and c.name != "decline_python2"]


@pytest.mark.parametrize("case", PY_CASES, ids=[c.name for c in PY_CASES])
def test_python_after_compiles(case: Path) -> None:
    compile(after_file(case).read_text(encoding="utf-8"), str(after_file(case)), "exec")


def _scripts(case: Path) -> list[str]:
    text = after_file(case).read_text(encoding="utf-8")
    if after_file(case).suffix == ".js":
        return [text]
    return [text[e.open_end:e.close_start] for e in script_elements(text) if e.attr("src") is None
            and "{%" not in text[e.open_end:e.close_start] and "{{" not in text[e.open_end:e.close_start]]


JS_CASES = [c for c in CASES if before_file(c).suffix in (".js", ".html", ".vue")]


@pytest.mark.parametrize("case", JS_CASES, ids=[c.name for c in JS_CASES])
def test_rewritten_javascript_parses(case: Path, tmp_path: Path) -> None:
    for index, script in enumerate(_scripts(case)):
        if "import " in script and "export " in script:
            continue  # a Vue single-file component: an ES module, checked by tree-sitter only
        tree = parser().parse(script.encode())
        assert error_count(tree) == 0, script
        if NODE:
            path = tmp_path / f"s{index}.js"
            path.write_text(script, encoding="utf-8")
            done = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", JS_CASES, ids=[c.name for c in JS_CASES])
def test_consumer_rewrite_is_idempotent(case: Path) -> None:
    """Running again over the result with the same findings changes nothing more."""
    from jsonp2cors.rewrite.javascript import rewrite_js
    from jsonp2cors.rewrite.markup import rewrite_markup
    from tests.rewrite.cases_support import consumers

    text = after_file(case).read_text(encoding="utf-8")
    again = (rewrite_js(text, consumers(case)) if after_file(case).suffix == ".js"
             else rewrite_markup(text, consumers(case)))
    assert again.text == text
