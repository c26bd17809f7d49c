"""Walking, ignore rules, the byte prefilter, decoding and `[tool.jsonp2cors]` (jsonp2cors.scan.files)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsonp2cors.scan import files as fs
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import DEFAULT_CALLBACK_PARAMS, ScanConfig

JSONP_VIEW = (
    "from flask import request\n"
    "def v():\n"
    "    return '%s(%s)' % (request.args.get('callback'), '{}')\n"
)


def make(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return tmp_path


def walked(root: Path, config: ScanConfig | None = None) -> list[str]:
    result = fs.walk([root], root, config or ScanConfig(), lambda rel: rel.endswith((".py", ".js", ".html")))
    return sorted(f.rel for f in result.files)


# ---------------------------------------------------------------------------------------------- ignore
@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    [
        ("*.pyc", "a/b/c.pyc", False, True),
        ("build/", "build", True, True),
        ("build/", "build", False, None),
        ("/top.py", "top.py", False, True),
        ("/top.py", "sub/top.py", False, None),
        ("docs/*.py", "docs/x.py", False, True),
        ("docs/*.py", "docs/sub/x.py", False, None),
        ("**/gen", "a/b/gen", True, True),
        ("a/**/z.py", "a/b/c/z.py", False, True),
        ("a/**", "a/b/c.py", False, True),
        ("file[0-9].py", "file7.py", False, True),
        ("\\#hash.py", "#hash.py", False, True),
        ("# comment", "# comment", False, None),
    ],
)
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, expected: bool | None) -> None:
    assert fs.ignored(fs.compile_ignore([pattern]), path, is_dir) is expected


def test_negation_last_match_wins() -> None:
    rules = fs.compile_ignore(["*.py", "!keep.py"])
    assert fs.ignored(rules, "drop.py", False) is True
    assert fs.ignored(rules, "keep.py", False) is False


def test_walk_respects_gitignore_nested_and_excludes(tmp_path: Path) -> None:
    root = make(tmp_path, {
        ".gitignore": "generated/\n*.bak.py\n",
        "app/views.py": "", "app/old.bak.py": "", "generated/x.py": "",
        "app/sub/.gitignore": "local.py\n", "app/sub/local.py": "", "app/sub/kept.py": "",
        "legacy/a.py": "", "notes.txt": "",
    })
    assert walked(root) == ["app/sub/kept.py", "app/views.py", "legacy/a.py"]
    assert walked(root, ScanConfig(excludes=("legacy",))) == ["app/sub/kept.py", "app/views.py"]
    assert "generated/x.py" in walked(root, ScanConfig(respect_gitignore=False))


def test_vendored_and_virtualenvs_skipped_unless_asked(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "app.py": "", "node_modules/lib/index.js": "", "vendor/x.py": "", "static/jquery.min.js": "",
        ".venv/lib/site.py": "", "myenv/pyvenv.cfg": "", "myenv/lib/python3.11/site-packages/m.py": "",
        ".git/hooks/h.py": "", "pkg.egg-info/x.py": "",
    })
    assert walked(root) == ["app.py"]
    every = walked(root, ScanConfig(include_vendored=True))
    assert "node_modules/lib/index.js" in every and "static/jquery.min.js" in every
    assert "myenv/lib/python3.11/site-packages/m.py" in every
    assert not any(p.startswith((".git/", "pkg.egg-info/")) for p in every)


def test_scan_root_named_site_packages_is_scanned(tmp_path: Path) -> None:
    root = make(tmp_path / "site-packages", {"mod.py": JSONP_VIEW})
    assert len(scan([root]).endpoints) == 1


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    root = make(tmp_path, {"a/mod.py": JSONP_VIEW})
    (root / "a" / "loop").symlink_to(root / "a", target_is_directory=True)
    (root / "a" / "dangling.py").symlink_to(root / "missing.py")
    result = scan([root])
    messages = {e.file: e.message for e in result.errors}
    assert messages["a/loop"].startswith("symlink loop")
    assert messages["a/dangling.py"] == "unreadable: broken symlink"
    assert len(result.endpoints) == 1


# ---------------------------------------------------------------------------------------- bad files
def test_binary_huge_and_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make(tmp_path, {"bin.py": b"\x00\x01callback\x02", "big.py": "x = 1\n" * 50, "ok.py": JSONP_VIEW,
                           "locked.py": JSONP_VIEW})
    real_open = os.open

    def guarded(path: str, flags: int, *args: int, **kwargs: int) -> int:
        if str(path).endswith("locked.py"):  # running as root, a chmod would not keep the scan out
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)
    result = scan([root], ScanConfig(max_file_bytes=200))
    messages = {e.file: e.message for e in result.errors}
    assert messages["bin.py"] == "skipped: binary file with a .py name"
    assert messages["big.py"].startswith("skipped: huge file")
    assert messages["locked.py"] == "unreadable: permission denied"
    assert [e.file for e in result.endpoints] == ["ok.py"]


def test_decode_pep263_bom_and_bad_bytes() -> None:
    latin = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    assert fs.decode_python(latin) == fs.Decoded("# -*- coding: latin-1 -*-\nname = 'café'\n", "iso-8859-1")
    bom = codecs.BOM_UTF8 + "x = 'ü'\n".encode()
    assert fs.decode_python(bom).text == "x = 'ü'\n" and fs.decode_python(bom).error is None
    unknown = fs.decode_python(b"# coding: klingon\nx = 1\n")
    assert unknown.error is not None and "unknown source encoding 'klingon'" in unknown.error
    bad = fs.decode_python(b"x = 1\ny = '\xff'\n")
    assert bad.error is not None and bad.error.startswith("undecodable bytes at line 2")
    assert "\ufffd" in bad.text


def test_bad_encodings_are_reported_and_the_file_still_scanned(tmp_path: Path) -> None:
    root = make(tmp_path, {"a.py": b"# coding: klingon\n" + JSONP_VIEW.encode(),
                           "b.py": JSONP_VIEW.encode() + b"# \xff\xfe\n"})
    result = scan([root])
    assert {e.file for e in result.errors} == {"a.py", "b.py"}
    assert {e.file for e in result.endpoints} == {"a.py", "b.py"}


def test_decode_text_for_markup() -> None:
    assert fs.decode_text(codecs.BOM_UTF16_LE + "<p>".encode("utf-16-le")).text == "<p>"
    latin = fs.decode_text(b"<p>\xe9</p>")
    assert latin.text == "<p>é</p>" and latin.error is not None


def test_prefilter_is_case_insensitive() -> None:
    assert fs.prefilter(b"JSONP = True", (b"jsonp",))
    assert not fs.prefilter(b"nothing here", (b"jsonp", b"callback"))


def test_minified_detection() -> None:
    assert fs.is_minified_name("jquery-3.7.1.min.js")
    assert fs.looks_minified(b"var a=1;" * 1000)
    assert not fs.looks_minified(b"var a = 1;\n" * 1000)


# --------------------------------------------------------------------------------------------- config
def test_load_config_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.jsonp2cors]\n"
        'exclude = ["legacy/**"]\n'
        'callback-params = ["fn"]\n'
        'helpers = ["render_padded"]\n'
        "include-vendored = true\n"
    )
    config = fs.load_config(tmp_path, excludes=("more",), jobs=2)
    assert config.excludes == ("legacy/**", "more")
    assert config.callback_params == (*DEFAULT_CALLBACK_PARAMS, "fn")
    assert config.helper_names == ("render_padded",)
    assert config.include_vendored and config.jobs == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("exclude = 3", "exclude: expected a list of strings"),
        ("include-vendored = 'yes'", "include-vendored: expected true or false"),
        ("colour = 'blue'", "colour: unknown key"),
        ("jobs = -1", "jobs: expected a non-negative integer"),
    ],
)
def test_load_config_errors_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.jsonp2cors]\n{body}\n")
    with pytest.raises(fs.ConfigError, match=message):
        fs.load_config(tmp_path)


def test_config_applies_to_the_scan(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "pyproject.toml": '[tool.jsonp2cors]\ncallback-params = ["handlerName"]\nexclude = ["skip"]\n',
        "app.py": "from flask import Flask, request\napp = Flask(__name__)\n@app.route('/v')\n"
                  "def v():\n    return request.args['handlerName'] + '(' + '1' + ')'\n",
        "skip/app.py": JSONP_VIEW,
    })
    result = scan([root])
    assert [(e.file, e.callback_params, e.confidence) for e in result.endpoints] == [
        ("app.py", ("handlerName",), "high")]


def test_gitignore_of_the_enclosing_repository_applies(tmp_path: Path) -> None:
    root = make(tmp_path, {
        ".gitignore": "app/generated/\n*.tmp.py\n",
        "app/views.py": "", "app/generated/x.py": "", "app/a.tmp.py": "", "other/b.py": "",
    })
    (root / ".git").mkdir()
    app = root / "app"
    result = fs.walk([app], app, ScanConfig(), lambda rel: rel.endswith(".py"))
    assert sorted(f.rel for f in result.files) == ["views.py"]


def test_generated_bundles_are_skipped_unless_vendored_code_is_asked_for(tmp_path: Path) -> None:
    from jsonp2cors.scan import scan
    from jsonp2cors.scan.base import ScanConfig

    call = b'$.ajax({url: "/api/news", dataType: "jsonp"});\n'
    (tmp_path / "app.js").write_bytes(call)
    (tmp_path / "app.bundle.js").write_bytes(call)
    (tmp_path / "coreBundle.js").write_bytes(call)
    # a big hand-formatted file: short lines, but over the 1 MiB a person writes by hand
    (tmp_path / "everything.js").write_bytes(call + b"var filler = 1;\n" * 70_000)
    default = scan([tmp_path])
    assert sorted(c.file for c in default.consumers) == ["app.js"]
    assert default.stats.files_skipped_vendored == 3
    everything = scan([tmp_path], ScanConfig(include_vendored=True))
    assert sorted(c.file for c in everything.consumers) == ["app.bundle.js", "app.js", "coreBundle.js", "everything.js"]


_CHAIN = (
    "from flask import request\ndef v():\n    cb = request.args.get('callback')\n"
    "    body = cb + '(' + {terms} + ')'\n    return body\n"
)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        # CPython's parser refuses it; libcst's native parser overflowed its stack on it (the scan died, signal 11)
        ("from flask import request\ncb = request.args.get('callback')\nx = " + "(" * 3000 + "1" + ")" * 3000
         + "\nbody = '%s(%s)' % (cb, x)\n", "nesting too deep to parse (too many nested parentheses)"),
        # the stdlib parser runs out of recursion; libcst spun for minutes on it
        (_CHAIN.format(terms=" + ".join(["'a'"] * 20_000)), "nesting too deep to parse"),
        # the stdlib parser copes, libcst and the detectors' recursion would not (seconds, then RecursionError)
        (_CHAIN.format(terms=" + ".join(["'a'"] * 600)), "nesting too deep to analyse"),
    ],
    ids=["parentheses", "long-chain", "chain"],
)
def test_deeply_nested_code_is_reported_not_fatal(tmp_path: Path, source: str, reason: str) -> None:
    """Generated or hostile code nested beyond what the parsers survive: one error, a token-level look, and the
    scan goes on (run as the CLI in its own process, so a crash or a hang fails the test instead of pytest)."""
    import json
    import subprocess
    import sys

    (tmp_path / "deep.py").write_text(source)
    (tmp_path / "ok.py").write_text(
        "import json\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.route('/d')\ndef d():\n"
        "    return '%s(%s)' % (request.args.get('callback'), json.dumps({}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "jsonp2cors", "scan", str(tmp_path), "--format", "json", "--no-progress"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1, done.stderr[-500:]
    report = json.loads(done.stdout)
    (error,) = [e for e in report["errors"] if e["file"] == "deep.py"]
    assert error["message"].startswith(reason) and error["message"].endswith("scanned at token level (low confidence)")
    assert [e["function"] for e in report["endpoints"] if e["file"] == "ok.py"] == ["d"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(min_value=0, max_value=3000),
    believed=st.integers(min_value=0, max_value=3000),
    limit=st.integers(min_value=1, max_value=2500),
)
def test_reading_by_the_walks_size_agrees_with_a_plain_read(
    tmp_path: Path, size: int, believed: int, limit: int
) -> None:
    """Whatever size the walk saw (the file may have grown or shrunk since), the bytes read are the file's first
    `limit` bytes, as a plain buffered read gives them."""
    from jsonp2cors.scan.files import _read_upto

    path = tmp_path / "f.py"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    with path.open("rb") as fh:
        expected = fh.read(limit)
    assert _read_upto(str(path), believed, limit) == expected
