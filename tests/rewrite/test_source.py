"""Files are written back faithfully: encoding, BOM, line endings, mode; atomically; bytes outside edits kept."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from jsonp2cors.findings import Consumer, Endpoint, ScanResult
from jsonp2cors.rewrite import FileEdit, StaleFileError, apply, plan
from jsonp2cors.rewrite.source import SourceError, decode, write_atomic

FLASK_VIEW = """\
import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/api/weather")
def weather():
    data = {"city": "{city}"}
    callback = request.args.get("callback")
    if callback:
        return Response("%s(%s)" % (callback, json.dumps(data)), mimetype="application/javascript")
    return Response(json.dumps(data), mimetype="application/json")
"""
HTML = """<html><head><meta charset="{charset}"></head><body>
<p>{text}</p>
<script src="/api/weather?callback=show"></script>
</body></html>
"""


def _endpoint(rel: str) -> ScanResult:
    return ScanResult(endpoints=(Endpoint(rel, 9, "weather", "flask"),))


def _only_edit(tmp_path: Path, result: ScanResult) -> FileEdit:
    rewrite = plan(result, tmp_path)
    assert len(rewrite.edits) == 1, rewrite.declined
    return rewrite.edits[0]


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_bytes(FLASK_VIEW.replace("{city}", "Berlin").replace("\n", "\r\n").encode())
    edit = _only_edit(tmp_path, _endpoint("app.py"))
    assert b"\r\n" in edit.after and edit.after.count(b"\n") == edit.after.count(b"\r\n")
    assert b"callback" not in edit.after


def test_pep263_latin1_file_round_trips(tmp_path: Path) -> None:
    text = "# -*- coding: latin-1 -*-\n" + FLASK_VIEW.replace("{city}", "Köln")
    (tmp_path / "app.py").write_bytes(text.encode("latin-1"))
    result = ScanResult(endpoints=(Endpoint("app.py", 10, "weather", "flask"),))
    edit = _only_edit(tmp_path, result)
    assert "Köln".encode("latin-1") in edit.after
    assert edit.after.decode("latin-1").startswith("# -*- coding: latin-1 -*-\n")
    with pytest.raises(UnicodeDecodeError):
        edit.after.decode("utf-8")


def test_utf8_bom_is_kept(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_bytes(codecs.BOM_UTF8 + FLASK_VIEW.replace("{city}", "Berlin").encode())
    edit = _only_edit(tmp_path, _endpoint("app.py"))
    assert edit.after.startswith(codecs.BOM_UTF8) and not edit.after[3:].startswith(codecs.BOM_UTF8)


def test_html_charset_and_untouched_bytes(tmp_path: Path) -> None:
    page = HTML.replace("{charset}", "iso-8859-1").replace("{text}", "Grüße")
    data = page.encode("latin-1")
    (tmp_path / "page.html").write_bytes(data)
    consumer = Consumer("page.html", 3, "script-tag", url="/api/weather?callback=show", callback="show",
                        callback_param="callback")
    edit = _only_edit(tmp_path, ScanResult(consumers=(consumer,)))
    before_lines = edit.before.split(b"\n")
    after_lines = edit.after.split(b"\n")
    assert len(before_lines) == len(after_lines)
    changed = [i for i, (a, b) in enumerate(zip(before_lines, after_lines, strict=True)) if a != b]
    assert changed == [2]  # only the tag's line; every other byte identical
    assert "Grüße".encode("latin-1") in edit.after


def test_mode_is_kept_and_symlink_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_interrupted_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(b"original\n")
    edit = FileEdit(path, "app.py", b"original\n", b"rewritten\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        apply([edit])
    assert path.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py"]  # no temporary file left behind


def test_interrupted_mid_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(b"original\n")
    real_fsync = os.fsync

    def killed(fd: int) -> None:
        real_fsync(fd)
        raise KeyboardInterrupt  # e.g. Ctrl-C after the data reached the temporary file

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"rewritten\n")
    assert path.read_bytes() == b"original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["app.py"]


def test_stale_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(b"changed meanwhile\n")
    with pytest.raises(StaleFileError):
        apply([FileEdit(path, "app.py", b"original\n", b"rewritten\n")])
    assert path.read_bytes() == b"changed meanwhile\n"


def test_undecodable_file_is_declined(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_bytes(b"x = '\xff\xfe'\n")
    rewrite = plan(_endpoint("app.py"), tmp_path)
    assert not rewrite.edits
    assert rewrite.declined and "cannot read" in rewrite.declined[0].reason
    with pytest.raises(SourceError):
        decode(b"\xff\xfe\xfa", "python")
