"""The scan: discover files, prefilter their bytes, run the registered analyzers in a process pool, merge.

`scan()` never writes anything. Heavy analyzer dependencies (libcst, bs4, tree-sitter) load only in the
analyzers, and only when a file survives the prefilter.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, ScanError, ScanResult, ScanStats
from jsonp2cors.scan.base import GC_THRESHOLD, PARSED_KEY, Analyzer, FileFindings, ScanConfig
from jsonp2cors.scan.files import FileEntry

__all__ = ["ANALYZER_MODULES", "collect_analyzers", "scan", "scan_root"]

ANALYZER_MODULES: tuple[str, ...] = (
    "jsonp2cors.scan.python",
    "jsonp2cors.scan.web",  # markup and JavaScript; loads bs4/tree-sitter only for files that reach them
)
# Below these (files, bytes on disk) the pool's start-up costs more than it saves.
POOL_MIN_FILES = 8
POOL_MIN_BYTES = 400_000
# A batch (the unit of work sent to a worker) holds at most this many files or bytes: small enough to balance
# the cores, large enough that sending batches costs little.
BATCH_FILES = 48
BATCH_BYTES = 1_500_000
# Once more than this many files were handed back for one heavy parser kind, other lanes load it too.
SPREAD_AFTER = 4  # at most base.HEAVY_PER_BATCH (see there)
# While walking, the progress callback hears the growing file count every this many files.
PROGRESS_WALK_STEP = 500
# `facts` key through which an analyzer asks for a second look at files the prefilter dropped
# (for example modules importing a JSONP helper whose name holds no needle).
FOLLOWUP_KEY = "followup_needles"
# How many follow-up rounds at most (names learnt in one round can ask for files in the next).
FOLLOWUP_ROUNDS = 3
# `facts` key asking for the file to be at hand in the `finish` hook: the scan then puts its path under
# SOURCE_PATH_KEY (the hook reads it again if it needs it: sending back the bytes of every such file cost a
# pipe transfer and the parent's memory for files the hook mostly never reads).
KEEP_SOURCE_KEY = "keep_source"
SOURCE_PATH_KEY = "source_path"


def collect_analyzers() -> list[Analyzer]:
    """Every registered analyzer, in registration order (modules listed in ANALYZER_MODULES)."""
    found: list[Analyzer] = []
    for name in ANALYZER_MODULES:
        module = importlib.import_module(name)
        found.extend(getattr(module, "ANALYZERS", ()))
    return found


def scan_root(paths: Sequence[str | Path]) -> Path:
    """The folder that finding paths are relative to: the single folder given, or the common parent."""
    resolved = [Path(p).absolute() for p in paths] or [Path.cwd()]
    dirs = [p if p.is_dir() else p.parent for p in resolved]
    if len(dirs) == 1:
        return dirs[0]
    return Path(os.path.commonpath([str(d) for d in dirs]))


# One file to look at: its entry and, per analyzer that wants it, the needles that make it a candidate (None: the
# analyzer's own prefilter, see `_candidate_tests`).
_Routes = tuple[tuple[int, tuple[bytes, ...] | None], ...]
_Item = tuple[FileEntry, _Routes]
# Needles that every file has (the empty string is in any bytes): a file handed back is analysed without the
# prefilter, which it already passed.
_ALWAYS: tuple[bytes, ...] = (b"",)
_Test = Callable[[bytes], bool]


@dataclass
class _BatchResult:
    """What a worker sends back for one batch (no file bytes, except sources an analyzer asked to keep)."""

    files: int = 0
    unread: int = 0  # files that could not be read (each has an error)
    nbytes: int = 0
    analysed: int = 0  # files that went to at least one analyzer (or were counted as generated)
    vendored: int = 0  # generated bundles skipped
    errors: list[ScanError] = field(default_factory=list)
    found: list[tuple[int, str, FileFindings]] = field(default_factory=list)
    dropped: list[tuple[int, FileEntry]] = field(default_factory=list)  # (analyzer, entry) without a needle
    # (heavy kind, analyzer, entry) that an analyzer handed back: this worker does not load that kind's parsers
    deferred: list[tuple[str, int, FileEntry]] = field(default_factory=list)


def _analyse(index: int, entry: FileEntry, data: bytes, config: ScanConfig) -> FileFindings:
    rel = entry.rel
    analyzer = _analyzers()[index]
    try:
        found = analyzer.function(rel, data, config)
    except RecursionError:
        found = FileFindings(errors=[ScanError(rel, f"{analyzer.name}: nesting too deep to analyse")])
    except Exception as exc:  # one bad file must never stop the scan
        found = FileFindings(
            errors=[ScanError(rel, f"{analyzer.name}: internal error: {type(exc).__name__}: {str(exc)[:200]}")]
        )
    if found.facts.pop(KEEP_SOURCE_KEY, False):
        found.facts[SOURCE_PATH_KEY] = entry.path
    return found


def _run_batch(items: Sequence[_Item], config: ScanConfig) -> _BatchResult:
    """Read, prefilter and analyse a batch of files (in a worker, or in this process for small scans)."""
    from jsonp2cors.scan import files as fs

    out = _BatchResult()
    tests = _candidate_tests(config)
    for entry, routes in items:
        out.files += 1
        outcome = fs.read_file(entry, config.max_file_bytes)
        if outcome.data is None:
            out.errors.append(ScanError(entry.rel, outcome.error or "unreadable"))
            out.unread += 1
            continue
        data = outcome.data
        out.nbytes += len(data)
        low = data.lower()
        wanted = False
        for index, needles in routes:
            if not (tests[index](low) if needles is None else any(n in low for n in needles)):
                out.dropped.append((index, entry))
                continue
            wanted = True
            if (
                not config.include_vendored
                and entry.rel.lower().endswith((".js", ".mjs", ".css"))
                and fs.looks_generated(entry.rel, data)
            ):
                out.vendored += 1  # counted once, as vendored
                break
            result = _analyse(index, entry, data, config)
            if result.deferred is not None:
                out.deferred.append((result.deferred, index, entry))
                continue
            out.found.append((index, entry.rel, result))
        out.analysed += wanted
    return out


_CACHE: list[Analyzer] = []
_TESTS: dict[ScanConfig, list[_Test]] = {}


def _any_needle(needles: tuple[bytes, ...]) -> _Test:
    def test(low: bytes) -> bool:
        return not needles or any(n in low for n in needles)

    return test


def _candidate_tests(config: ScanConfig) -> list[_Test]:
    """Per analyzer, the byte test that makes a file a candidate: the module's `candidate_for(config)` hook when
    it has one (the config may widen it), else "contains one of the analyzer's needles"."""
    tests = _TESTS.get(config)
    if tests is None:
        tests = []
        for analyzer in _analyzers():
            module = sys.modules.get(getattr(analyzer.function, "__module__", ""))
            hook = getattr(module, "candidate_for", None)
            if callable(hook):
                tests.append(hook(config))
                continue
            tests.append(_any_needle(analyzer.needles))
        _TESTS.clear()
        _TESTS[config] = tests
    return tests


def _analyzers() -> list[Analyzer]:
    if not _CACHE:
        _CACHE.extend(collect_analyzers())
    return _CACHE


def _router(analyzers: Sequence[Analyzer]) -> Callable[[str], _Routes]:
    """`routes(rel)`: the analyzers that read a file, as (index, None) pairs: those whose suffixes end its name, or
    whose path predicate accepts it. The suffix part is worked out once per file extension (the walk asks about
    every file of the tree: worked out per file, this was a tenth of the parent's work); the predicates still see
    every file that their analyzer's suffixes do not take."""
    single_dot = all(suffix.count(".") == 1 and suffix.startswith(".") for a in analyzers for suffix in a.suffixes)
    by_extension: dict[str, _Routes] = {}
    predicates = [(i, a.path_predicate) for i, a in enumerate(analyzers) if a.path_predicate is not None]

    def by_suffix(low: str) -> _Routes:
        return tuple((i, None) for i, a in enumerate(analyzers) if low.endswith(a.suffixes))

    def routes(rel: str) -> _Routes:
        low = rel.lower()
        if single_dot:
            name = low[low.rfind("/") + 1 :]
            dot = name.rfind(".")
            extension = name[dot:] if dot >= 0 else ""
            taken = by_extension.get(extension)
            if taken is None:
                taken = by_extension[extension] = by_suffix(extension)
        else:
            taken = by_suffix(low)
        extra = [(i, None) for i, predicate in predicates if predicate(rel) and (i, None) not in taken]
        return tuple(sorted((*taken, *extra), key=lambda route: route[0])) if extra else taken

    return routes


def _use_pool(config: ScanConfig, files: int, nbytes: int) -> bool:
    return (config.jobs or os.cpu_count() or 1) > 1 and files >= POOL_MIN_FILES and nbytes >= POOL_MIN_BYTES


def _new_pool(config: ScanConfig, batches: int | None) -> Any:
    """Worker lanes (see scan/lanes.py): `--jobs` of them (every core by default), no more than `batches` when the
    work is known."""
    from jsonp2cors.scan.lanes import Lanes

    workers = config.jobs or os.cpu_count() or 1
    return Lanes(max(1, min(workers, batches or workers)), config, _run_batch)


def _execute(
    items: list[_Item],
    config: ScanConfig,
    progress: Callable[[int, int], None] | None,
) -> Iterator[_BatchResult]:
    """Read, prefilter and analyse a known list of files, largest first: in a process pool over all cores unless
    the work is too small to pay for one. Results arrive in completion order."""
    feeder = _Feeder(config, progress)
    for item in sorted(items, key=lambda it: it[0].size, reverse=True):
        feeder.add(item)
    return feeder.results()


class _Feeder:
    """Cuts files into batches as the walk finds them and, once there is enough work to pay for worker processes,
    starts them and keeps each busy (a couple of batches in flight per worker), so the cores read and analyse
    while the walk goes on. A file an analyzer hands back (its worker does not load the heavy parser it needs) goes
    to the worker that does; the batch of a worker that died is retried file by file.

    Small scans (fewer than POOL_MIN_FILES files or POOL_MIN_BYTES bytes in all) run in this process.
    `stream=False` holds every batch back until `results()` (a known list, already in the order wanted).
    """

    def __init__(self, config: ScanConfig, progress: Callable[[int, int], None] | None, *, stream: bool = True):
        from collections import deque

        from jsonp2cors.scan.lanes import Work

        self.config = config
        self.progress = progress
        self.stream = stream
        self.current: list[_Item] = []
        self.current_bytes = 0
        self.queue: deque[Work] = deque()  # batches not sent to a worker yet
        self.ready: deque[tuple[Work, _BatchResult]] = deque()  # results not handed to the caller yet
        self.files = 0
        self.nbytes = 0
        self.pool: Any = None
        self._work = Work
        self.handed_back: dict[str, int] = {}  # files handed back per heavy kind so far

    def add(self, item: _Item) -> None:
        size = item[0].size
        if self.current and (len(self.current) >= BATCH_FILES or self.current_bytes + size > BATCH_BYTES):
            self._cut()
        self.current.append(item)
        self.current_bytes += size
        self.files += 1
        self.nbytes += size
        if self.progress and self.stream and self.files % PROGRESS_WALK_STEP == 0:
            self.progress(0, self.files)  # a long walk shows its growing count before results arrive

    def _cut(self) -> None:
        self.queue.append(self._work(self.current))
        self.current, self.current_bytes = [], 0
        if self.stream and (self.pool is not None or _use_pool(self.config, self.files, self.nbytes)):
            if self.pool is None:
                self.pool = _new_pool(self.config, None)
            self.ready.extend(self.pool.poll(0))  # take what has arrived, so workers that finished get more
            self._top_up()

    def _top_up(self) -> None:
        while self.queue and (lane := self.pool.idle_lane()) is not None:
            self.pool.send(lane, self.queue.popleft())

    def _follow(self, result: _BatchResult) -> None:
        """Send the files an analyzer handed back to the worker that loads the parsers they need (ahead of the
        queue: a worker busy with them gets no new batches until it is through)."""
        by_kind: dict[str, list[_Item]] = {}
        for kind, index, entry in result.deferred:
            by_kind.setdefault(kind, []).append((entry, ((index, _ALWAYS),)))
        for kind, items in by_kind.items():
            handed = self.handed_back[kind] = self.handed_back.get(kind, 0) + len(items)
            # a few files go to the lane that loaded the kind; once many did, they go one at a time to the least
            # busy lane, which loads the kind too (its import costs less than the cores waiting on one lane)
            spread = handed > SPREAD_AFTER
            size = 1 if spread else BATCH_FILES
            for start in range(0, len(items), size):
                lane = self.pool.spread(kind) if spread else self.pool.lane_for(kind)
                self.pool.send(lane, self._work(items[start : start + size], redo=True))

    def _salvage(self) -> list[_BatchResult]:
        """Works lost with a worker that died: the one it was reading is retried file by file (a file that kills
        a worker twice is reported); the others are sent again as they were."""
        lost: list[_BatchResult] = []
        while self.pool.deaths:
            work, reason, victim = self.pool.deaths.pop(0)
            if not victim:
                self.queue.appendleft(work)
            elif len(work.items) > 1 or not work.retry:
                self.queue.extendleft(self._work([item], redo=work.redo, retry=True) for item in work.items)
            else:
                entry = work.items[0][0]
                result = _BatchResult(errors=[ScanError(entry.rel, f"analysis {reason}")])
                if not work.redo:
                    result.files, result.unread = 1, 1
                lost.append(result)
        return lost

    def results(self) -> Iterator[_BatchResult]:
        """Every batch's result, in completion order (the worker processes, if any, stop at the end)."""
        if self.current:
            self.queue.append(self._work(self.current))
            self.current = []
        total, done = self.files, 0
        if self.progress:
            self.progress(0, total)
        if self.pool is None and not _use_pool(self.config, self.files, self.nbytes):
            for work in self.queue:
                result = _run_batch(work.items, self.config)
                done += result.files
                if self.progress:
                    self.progress(done, total)
                yield result
            return
        if self.pool is None:
            self.pool = _new_pool(self.config, len(self.queue))
        try:
            self._top_up()
            while self.ready or self.queue or self.pool.busy():
                if not self.ready:
                    self.ready.extend(self.pool.poll(self.pool.wait_time()))
                    self.pool.expire()  # a worker stuck on one batch too long is stopped (see lanes.FILE_TIMEOUT)
                for result in self._salvage():
                    done += result.files
                    yield result
                if not self.ready:
                    self._top_up()
                    continue
                work, result = self.ready.popleft()
                self._follow(result)
                if work.redo:  # counted when the file was first read
                    result.files = result.unread = result.nbytes = result.analysed = result.vendored = 0
                self._top_up()
                done += result.files
                if self.progress:
                    self.progress(done, total)
                yield result
        finally:
            self.pool.close()


def scan(
    paths: Sequence[str | Path] = (".",),
    config: ScanConfig | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Find JSONP endpoints and consumers under `paths` (files or folders). Nothing is ever written.

    `config` defaults to `[tool.jsonp2cors]` of the scan root's pyproject.toml. `progress(done, total)` is
    called in this process as files are read and analysed.
    """
    with _rare_collections():
        return _scan(paths, config, progress)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """The cyclic garbage collector runs rarely while the scan runs in this process (its threshold raised as in
    the workers, see base.GC_THRESHOLD), and as before afterwards: the walk's and the results' many small objects
    made it run hundreds of times, for no garbage."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _scan(
    paths: Sequence[str | Path],
    config: ScanConfig | None,
    progress: Callable[[int, int], None] | None,
) -> ScanResult:
    from jsonp2cors.scan import files as fs

    started = time.perf_counter()
    paths = list(paths) or ["."]
    root = scan_root(paths)
    if config is None:
        config = fs.load_config(root)
    analyzers = _analyzers()

    routes = _router(analyzers)

    # The walk asks `wanted(rel)` of every file and then hands the accepted one to `accept`: the routes worked out
    # for the question are kept for the hand-over instead of being worked out twice.
    last_answer: dict[str, _Routes] = {}  # for the last file the walk asked about

    def wanted(rel: str) -> bool:
        last_answer.clear()
        last_answer[rel] = answer = routes(rel)
        return bool(answer)

    def accept(entry: FileEntry) -> None:
        feeder.add((entry, last_answer.pop(entry.rel, ()) or routes(entry.rel)))

    feeder = _Feeder(config, progress)
    walked = fs.walk([Path(p).absolute() for p in paths], root, config, wanted, accept)
    errors: list[ScanError] = list(walked.errors)
    found: list[tuple[int, str, FileFindings]] = []
    dropped: dict[int, list[FileEntry]] = {}
    analysed = nbytes = unread = 0
    skipped_vendored = walked.skipped_vendored
    for batch in feeder.results():
        errors.extend(batch.errors)
        found.extend(batch.found)
        for index, entry in batch.dropped:
            dropped.setdefault(index, []).append(entry)
        analysed += batch.analysed
        unread += batch.unread
        skipped_vendored += batch.vendored
        nbytes += batch.nbytes
    prefiltered_out = len(walked.files) - analysed - unread

    endpoints: list[Endpoint] = []
    consumers: list[Consumer] = []
    facts: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    parsed: set[str] = set()

    def absorb(results: list[tuple[int, str, FileFindings]]) -> None:
        for index, rel, result in sorted(results, key=lambda r: (r[1], r[0])):  # the same order on every run
            endpoints.extend(result.endpoints)
            consumers.extend(result.consumers)
            errors.extend(result.errors)
            if result.parsed:
                parsed.add(rel)
            facts.setdefault(index, []).append((rel, result.facts))

    absorb(found)

    # Another look at dropped files some analyzer asked for, with names learnt so far (a helper's name, a route
    # table's call, a renderer's name). A file a round reads may ask for more, hence up to FOLLOWUP_ROUNDS rounds;
    # each needle is asked for once and each dropped file read once.
    asked: dict[int, set[bytes]] = {}

    def follow_up(newest: dict[int, list[tuple[str, dict[str, Any]]]]) -> bool:
        """Read the dropped files holding a needle asked for in `newest`; did any get read?"""
        nonlocal prefiltered_out, skipped_vendored
        any_read = False
        for _ in range(FOLLOWUP_ROUNDS):
            followups: list[_Item] = []
            for i, items in newest.items():
                fresh = {n for _, f in items for n in f.get(FOLLOWUP_KEY, ()) if n} - asked.setdefault(i, set())
                asked[i] |= fresh
                if fresh and dropped.get(i):
                    followups.extend((entry, ((i, tuple(sorted(fresh))),)) for entry in dropped[i])
            if not followups:
                break
            again: list[tuple[int, str, FileFindings]] = []
            for batch in _execute(followups, config, None):
                errors.extend(batch.errors)
                again.extend(batch.found)
                prefiltered_out -= batch.analysed
                skipped_vendored += batch.vendored
            read = {(i, rel) for i, rel, _ in again}
            for i in {i for i, _ in read}:
                dropped[i] = [e for e in dropped[i] if (i, e.rel) not in read]
            absorb(again)
            any_read |= bool(again)
            newest = {}
            for i, rel, result in again:
                newest.setdefault(i, []).append((rel, result.facts))
        return any_read

    follow_up(facts)

    # The whole-repo passes. One may ask for dropped files too (the route table of a handler it found, say): they
    # are read as above and the passes run again over everything, at most FOLLOWUP_ROUNDS times.
    for passes in range(1, FOLLOWUP_ROUNDS + 2):
        extras: list[tuple[int, FileFindings]] = []  # (analyzer, what its pass found)
        for i, analyzer in enumerate(analyzers):
            if analyzer.finish is None:
                continue
            try:
                extras.append((i, analyzer.finish(facts.get(i, []), config)))
            except Exception as exc:
                name = type(exc).__name__
                extras.append((i, FileFindings(errors=[
                    ScanError(".", f"{analyzer.name}: internal error in the whole-repo pass: {name}: {str(exc)[:200]}")
                ])))
        asks = {i: [(".", extra.facts)] for i, extra in extras if extra.facts.get(FOLLOWUP_KEY)}
        if passes > FOLLOWUP_ROUNDS or not asks or not follow_up(asks):
            break
    for _, extra in extras:
        endpoints[:] = _refine(endpoints, extra.endpoints)
        consumers.extend(extra.consumers)
        errors.extend(extra.errors)
        parsed.update(extra.facts.get(PARSED_KEY, ()))

    from jsonp2cors.scan.link import link_consumers

    linked = link_consumers(_dedupe(endpoints), consumers)
    stats = ScanStats(
        files_seen=len(walked.files),
        files_parsed=len(parsed),
        seconds=round(time.perf_counter() - started, 3),
        files_skipped_vendored=skipped_vendored,
        files_prefiltered_out=prefiltered_out,
        bytes_read=nbytes,
    )
    return ScanResult(tuple(_dedupe(endpoints)), tuple(linked), tuple(dict.fromkeys(errors)), stats, str(root)).sorted()


def _key(e: Endpoint) -> tuple[str, int, str]:
    return (e.file, e.line, e.function)


def _refine(base: list[Endpoint], extra: Sequence[Endpoint]) -> list[Endpoint]:
    """A finish hook refines: its endpoint replaces a per-file one with the same file, line and function."""
    if not extra:
        return base
    newer = {_key(e): e for e in extra}
    out = [newer.pop(_key(e), e) for e in base]
    out.extend(newer.values())
    return out


def _dedupe(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    seen: dict[tuple[str, int, str], Endpoint] = {}
    for e in endpoints:
        prev = seen.get(_key(e))
        if prev is None or _rank(e) > _rank(prev):
            seen[_key(e)] = e
    return list(seen.values())


def _rank(e: Endpoint) -> tuple[int, int]:
    return ({"high": 2, "medium": 1}.get(e.confidence, 0), int(e.route is not None))


class _CallableModule(types.ModuleType):
    """`jsonp2cors.scan` is both this package and the function: once the package is imported it shadows the
    lazy `jsonp2cors.scan` attribute, so calling the package calls `scan()`."""

    def __call__(
        self,
        paths: Sequence[str | Path] = (".",),
        config: ScanConfig | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> ScanResult:
        return scan(paths, config, progress=progress)


sys.modules[__name__].__class__ = _CallableModule
