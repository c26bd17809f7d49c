"""`scan()` as a library call: roots, progress, stats, the process pool, JSON round-trip, never writing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import jsonp2cors
import jsonp2cors.scan as scan_module
from jsonp2cors.findings import ScanResult
from jsonp2cors.scan import scan, scan_root
from jsonp2cors.scan.base import ScanConfig

ROOT = Path(__file__).resolve().parents[2]
VIEW = (
    "import json\nfrom flask import Flask, request\napp = Flask(__name__)\n"
    "@app.route('/api/{n}')\ndef view_{n}():\n"
    "    return '%s(%s)' % (request.args.get('callback'), json.dumps({{'n': {n}}}))\n"
)


def tree(tmp_path: Path, count: int, filler: int = 0) -> Path:
    for n in range(count):
        (tmp_path / f"mod_{n}.py").write_text(VIEW.format(n=n) + "# padding\n" * filler)
    (tmp_path / "plain.py").write_text("x = 1\n")
    return tmp_path


def test_public_entry_point(tmp_path: Path) -> None:
    """`from jsonp2cors import scan` and `jsonp2cors.scan(...)` work whether or not the package is loaded."""
    root = tree(tmp_path, 1)
    from jsonp2cors import scan as public

    assert len(public([root]).endpoints) == 1
    assert len(jsonp2cors.scan([root]).endpoints) == 1


def test_scan_root_is_the_common_parent(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "f.py").write_text("")
    assert scan_root([tmp_path / "a"]) == tmp_path / "a"
    assert scan_root([tmp_path / "a", tmp_path / "b" / "f.py"]) == tmp_path
    assert scan_root([tmp_path / "b" / "f.py"]) == tmp_path / "b"


def test_paths_are_relative_with_slashes(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "v.py").write_text(VIEW.format(n=1))
    result = scan([tmp_path])
    assert [e.file for e in result.endpoints] == ["pkg/sub/v.py"]
    single = scan([tmp_path / "pkg" / "sub" / "v.py"])
    assert [e.file for e in single.endpoints] == ["v.py"]
    assert single.root == str(tmp_path / "pkg" / "sub")


def test_progress_and_stats(tmp_path: Path) -> None:
    root = tree(tmp_path, 3)
    calls: list[tuple[int, int]] = []
    result = scan([root], progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)  # every file read counts, candidates or not
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert result.stats.files_seen == 4
    assert result.stats.files_parsed == 3
    assert result.stats.files_prefiltered_out == 1
    assert result.stats.seconds > 0 and result.stats.bytes_read > 0
    assert len(result.endpoints) == 3


def test_process_pool_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path, 10, filler=200)
    inline = scan([root], ScanConfig(jobs=1))
    monkeypatch.setattr(scan_module, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(scan_module, "POOL_MIN_BYTES", 1)
    pooled = scan([root], ScanConfig(jobs=2))
    assert pooled.endpoints == inline.endpoints and len(pooled.endpoints) == 10


def test_progress_hears_the_walk_before_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long walk reports its growing file count (done 0) before the results arrive; the last call is complete."""
    root = tree(tmp_path, 6, filler=50)
    monkeypatch.setattr(scan_module, "PROGRESS_WALK_STEP", 2)
    calls: list[tuple[int, int]] = []
    scan([root], progress=lambda done, total: calls.append((done, total)))
    walking = [total for done, total in calls if done == 0]
    assert walking[:3] == [2, 4, 6] and calls[-1] == (7, 7)


def test_pool_starts_while_the_walk_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches go to the workers as the walk fills them, not after it: the pool exists before the last file is
    found, and the result is the same as an inline scan's."""
    from jsonp2cors.scan import files as fs

    root = tree(tmp_path, 12, filler=200)
    inline = scan([root], ScanConfig(jobs=1))
    walked: list[str] = []
    started_at: list[int] = []
    real_walk, real_pool = fs.walk, scan_module._new_pool

    def counting_walk(paths: Any, root_: Path, config: ScanConfig, wanted: Any, found: Any = None) -> Any:
        def seen(entry: fs.FileEntry) -> None:
            walked.append(entry.rel)
            if found is not None:
                found(entry)

        return real_walk(paths, root_, config, wanted, seen)

    def recording_pool(config: ScanConfig, batches: int | None) -> Any:
        started_at.append(len(walked))
        return real_pool(config, batches)

    monkeypatch.setattr(fs, "walk", counting_walk)
    monkeypatch.setattr(scan_module, "_new_pool", recording_pool)
    monkeypatch.setattr(scan_module, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(scan_module, "POOL_MIN_BYTES", 1)
    monkeypatch.setattr(scan_module, "BATCH_FILES", 2)
    pooled = scan([root], ScanConfig(jobs=2))
    assert len(started_at) == 1 and 0 < started_at[0] < len(walked)
    assert pooled.endpoints == inline.endpoints and len(pooled.endpoints) == 12
    assert pooled.stats.files_seen == inline.stats.files_seen == len(walked)


def test_result_round_trips_through_json() -> None:
    result = scan([ROOT / "fixtures" / "flask"])
    again = ScanResult.from_json(result.to_json())
    assert again.endpoints == result.endpoints and again.errors == result.errors


def test_scan_never_writes(tmp_path: Path) -> None:
    root = tree(tmp_path, 2)
    (root / "py2.py").write_text("print 'callback'\n")
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}
    scan([root])
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}
    assert before == after


def test_internal_errors_become_scan_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonp2cors.scan.python as python

    def boom(*_: object) -> object:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(python, "_full", boom)
    root = tree(tmp_path, 1)
    result = scan([root])
    assert result.endpoints == ()
    assert any("internal error: RuntimeError: kaboom" in e.message for e in result.errors)


@pytest.mark.skipif(os.cpu_count() == 1, reason="one core")
def test_errors_and_endpoints_are_sorted(tmp_path: Path) -> None:
    root = tree(tmp_path, 3)
    (root / "zz.py").write_bytes(b"\x00")
    result = scan([root])
    assert [e.file for e in result.endpoints] == sorted(e.file for e in result.endpoints)
    assert result.errors[0].file == "zz.py"
