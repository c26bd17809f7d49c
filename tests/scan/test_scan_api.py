"""`scan()` as a library call: roots, progress, stats, the process pool, JSON round-trip, never writing."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jsonp2cors
import jsonp2cors.scan as scan_module
from jsonp2cors.findings import ScanResult
from jsonp2cors.scan import scan, scan_root
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.files import FileEntry

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


def test_heavy_budget_per_batch() -> None:
    """In a worker batch, libcst analyses are counted: past the budget a file is handed back (markup is not
    counted); without a budget (the parent, an in-process scan, a small batch) every file is read."""
    from jsonp2cors.scan import base

    try:
        base.set_heavy_budget(2)
        assert [base.use_heavy("libcst") for _ in range(3)] == [True, True, False]
        assert base.use_heavy("markup")
        base.set_heavy_budget(None)
        assert all(base.use_heavy("libcst") for _ in range(10))
    finally:
        base.set_heavy_budget(None)


def test_a_batch_of_many_jsonp_modules_is_spread_over_the_workers(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch holding more JSONP modules than its libcst budget hands the rest back, and the scan sends them one
    by one to the least busy worker (letting it load libcst): same findings as an inline scan, and files were
    handed back beyond the first batch's budget."""
    from jsonp2cors.scan import base

    root = tree(tmp_path, 14)
    inline = scan([root], ScanConfig(jobs=1))
    handed: list[int] = []
    real_follow = scan_module._Feeder._follow

    def recording_follow(self: Any, result: Any) -> None:
        handed.append(len(result.deferred))
        real_follow(self, result)

    monkeypatch.setattr(scan_module._Feeder, "_follow", recording_follow)
    monkeypatch.setattr(scan_module, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(scan_module, "POOL_MIN_BYTES", 1)
    pooled = scan([root], ScanConfig(jobs=2))
    assert pooled.endpoints == inline.endpoints and len(pooled.endpoints) == 14
    assert pooled.stats == replace(inline.stats, seconds=pooled.stats.seconds)
    # one batch of 15 files: the lane loading libcst reads HEAVY_PER_BATCH of the 14 JSONP modules; the other
    # lane (if it got the batch) hands all back
    assert sum(handed) >= 14 - base.HEAVY_PER_BATCH


def test_result_round_trips_through_json() -> None:
    result = scan([ROOT / "fixtures" / "flask"])
    again = ScanResult.from_json(result.to_json())
    assert again.endpoints == result.endpoints and again.errors == result.errors


def test_json_frameworks_are_contract_1_names_with_finer_names_beside() -> None:
    """webapp2 and web.py go out as the listed family `wsgi`, their own name in `framework_detail`, and come back
    as they were when the JSON is read (the rewrite reads the finer name)."""
    from jsonp2cors.findings import FRAMEWORKS

    result = scan([ROOT / "fixtures" / "webapp2", ROOT / "fixtures" / "webpy", ROOT / "fixtures" / "flask"])
    assert {"webapp2", "webpy", "flask"} <= {e.framework for e in result.endpoints}
    records = json.loads(result.to_json())["endpoints"]
    assert {r["framework"] for r in records} <= set(FRAMEWORKS)
    details = {(r["framework"], r["framework_detail"]) for r in records if "framework_detail" in r}
    assert details == {("wsgi", "webapp2"), ("wsgi", "webpy")}
    assert all("framework_detail" not in r for r in records if r["framework"] == "flask")
    assert ScanResult.from_json(result.to_json()).endpoints == result.endpoints


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


PAGE = '<html><body><script src="https://api.example/v1/items?callback=show{n}"></script></body></html>\n'


def mixed_tree(tmp_path: Path, count: int) -> Path:
    """Python endpoints (libcst reads them) and pages loading JSONP (beautifulsoup4 reads them)."""
    tree(tmp_path, count, filler=100)
    for n in range(count):
        (tmp_path / f"page_{n}.html").write_text(PAGE.format(n=n) + "<!-- filler -->\n" * 100)
    return tmp_path


def force_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(scan_module, "POOL_MIN_BYTES", 1)
    monkeypatch.setattr(scan_module, "BATCH_FILES", 3)


def heavy_work_by_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, count: int, kinds: str = "both"
) -> tuple[dict[str, set[str]], ScanResult, ScanResult]:
    """A pooled scan of `count` JSONP views and/or `count` JSONP pages: which worker processes ran libcst and which
    read markup, and the pooled and the inline results."""
    from jsonp2cors.scan import markup, python

    (tmp_path / "tree").mkdir()
    root = mixed_tree(tmp_path / "tree", count)
    for path in root.glob("page_*.html" if kinds == "libcst" else "*.py" if kinds == "markup" else "-"):
        path.unlink()
    inline = scan([root], ScanConfig(jobs=1))
    log = tmp_path / "pids.txt"
    real_full, real_markup = python._full, markup.analyze_web_file

    def full(*args: Any, **kw: Any) -> Any:
        with log.open("a") as f:
            f.write(f"libcst {os.getpid()}\n")
        return real_full(*args, **kw)

    def page(*args: Any, **kw: Any) -> Any:
        with log.open("a") as f:
            f.write(f"markup {os.getpid()}\n")
        return real_markup(*args, **kw)

    monkeypatch.setattr(python, "_full", full)
    monkeypatch.setattr(markup, "analyze_web_file", page)
    force_pool(monkeypatch)
    pooled = scan([root], ScanConfig(jobs=jobs))
    seen: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        kind, pid = line.split()
        seen.setdefault(kind, set()).add(pid)
    assert str(os.getpid()) not in set().union(*seen.values())
    return seen, pooled, inline


def same_findings(pooled: ScanResult, inline: ScanResult, endpoints: int, consumers: int) -> None:
    assert pooled.endpoints == inline.endpoints and len(pooled.endpoints) == endpoints
    assert pooled.consumers == inline.consumers and len(pooled.consumers) == consumers
    assert pooled.stats.files_seen == inline.stats.files_seen
    assert pooled.stats.files_parsed == inline.stats.files_parsed
    assert pooled.stats.files_prefiltered_out == inline.stats.files_prefiltered_out
    assert pooled.stats.bytes_read == inline.stats.bytes_read


@pytest.mark.parametrize("jobs", [2, 3])
def test_each_heavy_parser_loads_in_one_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """With a few files needing them, libcst work and markup work each land in one worker process (files another
    worker prefiltered are handed to it), the two in different workers; the findings and the counts are those of
    an inline scan."""
    seen, pooled, inline = heavy_work_by_worker(tmp_path, monkeypatch, jobs, scan_module.SPREAD_AFTER)
    assert len(seen["libcst"]) == 1 and len(seen["markup"]) == 1 and seen["libcst"] != seen["markup"]
    same_findings(pooled, inline, scan_module.SPREAD_AFTER, scan_module.SPREAD_AFTER)


@pytest.mark.parametrize("kind", ["libcst", "markup"])
def test_many_files_for_one_parser_spread_over_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Once more files than SPREAD_AFTER were handed back for a parser kind, the other workers load it too (a
    legacy app full of JSONP views is not read on one core); the findings stay those of an inline scan."""
    count = 6 * scan_module.SPREAD_AFTER
    seen, pooled, inline = heavy_work_by_worker(tmp_path, monkeypatch, 2, count, kind)
    assert set(seen) == {kind} and len(seen[kind]) == 2
    same_findings(pooled, inline, count if kind == "libcst" else 0, count if kind == "markup" else 0)


@pytest.mark.parametrize("how", ["exit", "segfault"])
def test_a_worker_that_dies_costs_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A file whose analysis kills its worker (a native parser crashing, say) is reported as an error; the rest of
    its batch is read again in a new worker and every other file is found, as in an inline scan."""
    import faulthandler
    import signal

    root = tree(tmp_path, 12, filler=100)
    inline = scan([root], ScanConfig(jobs=1))
    real = scan_module._analyse

    def deadly(index: int, entry: FileEntry, data: bytes, config: ScanConfig) -> Any:
        if entry.rel == "mod_4.py" and os.getpid() != parent:
            if how == "exit":
                os._exit(3)
            faulthandler.disable()  # pytest's handler would print the dying worker's stack
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(index, entry, data, config)

    parent = os.getpid()
    monkeypatch.setattr(scan_module, "_analyse", deadly)
    force_pool(monkeypatch)
    pooled = scan([root], ScanConfig(jobs=2))
    (error,) = [e for e in pooled.errors if e.file == "mod_4.py"]
    assert error.message == f"analysis crashed its worker process ({'exit code 3' if how == 'exit' else 'signal 11'})"
    assert pooled.endpoints == tuple(e for e in inline.endpoints if e.file != "mod_4.py")
    assert len(pooled.endpoints) == 11
    assert pooled.stats.files_seen == inline.stats.files_seen



def test_a_file_that_never_finishes_is_stopped_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose analysis hangs (a parser spinning on hostile input) costs its worker: once the batch is over
    its time, the worker is stopped, the rest of the batch is read again, and the file alone, out of time again,
    is reported; every other file is found and the scan ends."""
    import time

    from jsonp2cors.scan import lanes

    root = tree(tmp_path, 12, filler=100)
    inline = scan([root], ScanConfig(jobs=1))
    real = scan_module._analyse

    def endless(index: int, entry: FileEntry, data: bytes, config: ScanConfig) -> Any:
        if entry.rel == "mod_7.py" and os.getpid() != parent:
            time.sleep(3600)
        return real(index, entry, data, config)

    parent = os.getpid()
    monkeypatch.setattr(scan_module, "_analyse", endless)
    monkeypatch.setattr(lanes, "FILE_TIMEOUT", 1.0)
    monkeypatch.setattr(lanes, "BATCH_FILE_SECONDS", 0.5)
    force_pool(monkeypatch)
    started = time.monotonic()
    pooled = scan([root], ScanConfig(jobs=2))
    assert time.monotonic() - started < 30
    (error,) = [e for e in pooled.errors if e.file == "mod_7.py"]
    assert error.message == "analysis took over 1 s (stopped)"
    assert pooled.endpoints == tuple(e for e in inline.endpoints if e.file != "mod_7.py")
    assert len(pooled.endpoints) == 11


_PATH_PIECES = [
    "app", "templates", "Templates", "/", ".", "py", ".py", ".PY", ".pyw", ".html", ".js", ".min", ".txt", ".css",
    "views", "x", "-", ".jinja2", ".Tsx", "cgi", ".cgi",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PATH_PIECES), min_size=1, max_size=7))
def test_file_routing_by_extension_agrees_with_the_analyzers_own_rules(pieces: list[str]) -> None:
    """The per-extension routing table sends a file to exactly the analyzers whose suffixes end its lower-cased
    name or whose path predicate accepts it, in analyzer order."""
    analyzers = scan_module.collect_analyzers()
    rel = "".join(pieces).strip("/") or "x"
    route = scan_module._router(analyzers)
    expected = tuple(
        (i, None)
        for i, a in enumerate(analyzers)
        if rel.lower().endswith(a.suffixes) or (a.path_predicate is not None and a.path_predicate(rel))
    )
    assert route(rel) == expected
    assert route(rel) == expected  # the second answer comes from the table


def test_modules_kept_for_the_whole_repo_pass_travel_as_paths(tmp_path: Path) -> None:
    """A module the whole-repo pass may read again comes back from its worker as a path, not as its bytes; the pass
    reads it from there (a file gone by then reads as empty)."""
    from jsonp2cors.scan.python import _text

    views = tmp_path / "views.py"
    views.write_text(
        "from helpers import pad\nfrom flask import request\n\n"
        "def v():\n    return pad(request.args.get('callback'), {})\n"
    )
    entry = FileEntry(str(views), "views.py", views.stat().st_size)
    result = scan_module._run_batch([(entry, ((0, None),))], ScanConfig())
    ((_, _, found),) = [f for f in result.found if f[0] == 0]
    assert found.facts["source_path"] == str(views)
    assert not any(isinstance(v, bytes) for v in found.facts.values())
    assert "def v():" in _text(dict(found.facts))
    views.unlink()
    assert _text({"source_path": str(views)}) == ""


_LANE_PROBE = """
import json, os, sys, warnings
import jsonp2cors.scan as scan_module
from jsonp2cors.scan import scan
from jsonp2cors.scan.base import ScanConfig
scan_module.POOL_MIN_FILES, scan_module.POOL_MIN_BYTES, scan_module.BATCH_FILES = 2, 1, 3
real = scan_module._analyse
def probe(index, entry, data, config):
    found = real(index, entry, data, config)
    if entry.rel.endswith(".html") and found.deferred is None:
        with open({log!r}, "a") as f:
            f.write(json.dumps([os.getpid(), "bs4" in sys.modules, sys.modules.get("soupsieve") is not None]) + "\\n")
    return found
scan_module._analyse = probe
warnings.simplefilter("error")  # a warning from loading bs4 without soupsieve would fail the probe
result = scan([{root!r}], ScanConfig(jobs=2))
print(json.dumps([len(result.consumers), "bs4" in sys.modules, "soupsieve" in sys.modules]))
"""


def test_the_markup_worker_loads_beautifulsoup_without_its_css_selector_engine(tmp_path: Path) -> None:
    """The worker that reads markup imports bs4 but not soupsieve (CSS selectors, never used, ~50 ms of regex
    compiling), without a warning, and finds every consumer; the calling process keeps its modules as they were."""
    import subprocess
    import sys

    (tmp_path / "tree").mkdir()
    root = mixed_tree(tmp_path / "tree", 6)
    inline = scan([root], ScanConfig(jobs=1))
    log = tmp_path / "lane.log"
    code = _LANE_PROBE.format(log=str(log), root=str(root))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    consumers, parent_bs4, parent_soupsieve = json.loads(out.stdout)
    assert consumers == len(inline.consumers) == 6
    assert not parent_bs4 and not parent_soupsieve  # the parent never loaded the markup parsers
    lanes = {tuple(json.loads(line)) for line in log.read_text().splitlines()}
    assert {(bs4, soupsieve) for _, bs4, soupsieve in lanes} == {(True, False)}
    assert len({pid for pid, _, _ in lanes}) == 1 and os.getpid() not in {pid for pid, _, _ in lanes}


def test_a_scan_puts_the_collector_threshold_back(tmp_path: Path) -> None:
    """The scan raises the garbage collector's threshold while it runs, in the caller's process too, and restores
    the caller's setting afterwards, also when the scan fails."""
    import gc

    before = gc.get_threshold()
    try:
        gc.set_threshold(1234, 7, 9)
        seen: list[int] = []
        scan([tree(tmp_path, 2)], ScanConfig(jobs=1), progress=lambda done, total: seen.append(gc.get_threshold()[0]))
        assert seen and min(seen) >= 100_000
        assert gc.get_threshold() == (1234, 7, 9)
        with pytest.raises(ZeroDivisionError):
            scan([tmp_path], ScanConfig(jobs=1), progress=lambda done, total: 1 // 0)
        assert gc.get_threshold() == (1234, 7, 9)
    finally:
        gc.set_threshold(*before)
