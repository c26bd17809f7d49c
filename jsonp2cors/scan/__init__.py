"""The scan: discover files, prefilter their bytes, run the registered analyzers in a process pool, merge.

`scan()` never writes anything. Heavy analyzer dependencies (libcst, bs4, tree-sitter) load only in the
analyzers, and only when a file survives the prefilter.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, ScanError, ScanResult, ScanStats
from jsonp2cors.scan.base import Analyzer, FileFindings, ScanConfig

__all__ = ["ANALYZER_MODULES", "collect_analyzers", "scan", "scan_root"]

ANALYZER_MODULES: tuple[str, ...] = (
    "jsonp2cors.scan.python",
    "jsonp2cors.scan.web",  # markup and JavaScript; loads bs4/tree-sitter only for files that reach them
)
# Below these the pool's start-up costs more than it saves.
POOL_MIN_FILES = 8
POOL_MIN_BYTES = 400_000
# `facts` key through which an analyzer asks for a second look at files the prefilter dropped
# (for example modules importing a JSONP helper whose name holds no needle).
FOLLOWUP_KEY = "followup_needles"
# `facts` key asking the parent to keep the file's bytes (as facts["source"]) for the `finish` hook, instead of
# sending a copy back from the worker.
KEEP_SOURCE_KEY = "keep_source"


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


@dataclass(frozen=True)
class _Job:
    analyzer: int  # index into collect_analyzers()
    rel: str
    data: bytes


def _run_job(job: _Job, config: ScanConfig) -> tuple[_Job, FileFindings]:
    analyzer = _analyzers()[job.analyzer]
    try:
        found = analyzer.function(job.rel, job.data, config)
    except RecursionError:
        found = FileFindings(errors=[ScanError(job.rel, f"{analyzer.name}: nesting too deep to analyse")])
    except Exception as exc:  # one bad file must never stop the scan
        found = FileFindings(
            errors=[ScanError(job.rel, f"{analyzer.name}: internal error: {type(exc).__name__}: {str(exc)[:200]}")]
        )
    return _Job(job.analyzer, job.rel, b""), found


_CACHE: list[Analyzer] = []


def _analyzers() -> list[Analyzer]:
    if not _CACHE:
        _CACHE.extend(collect_analyzers())
    return _CACHE


def _pool_worker(args: tuple[_Job, ScanConfig]) -> tuple[_Job, FileFindings]:
    return _run_job(*args)


def _execute(
    jobs: list[_Job],
    config: ScanConfig,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[_Job, FileFindings]]:
    """Run jobs largest first; in a process pool over all cores unless the work is too small to pay for it."""
    jobs = sorted(jobs, key=lambda j: len(j.data), reverse=True)
    total = len(jobs)
    workers = config.jobs or os.cpu_count() or 1
    nbytes = sum(len(j.data) for j in jobs)
    done = 0
    if progress:
        progress(0, total)
    if workers <= 1 or total < POOL_MIN_FILES or nbytes < POOL_MIN_BYTES:
        for job in jobs:
            _, found = _run_job(job, config)
            done += 1
            if progress:
                progress(done, total)
            yield job, found
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork keeps the already imported analyzers; elsewhere the default start method re-imports them.
    ctx = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=ctx) as pool:
        for job, (_, found) in zip(jobs, pool.map(_pool_worker, [(j, config) for j in jobs], chunksize=1), strict=True):
            done += 1
            if progress:
                progress(done, total)
            yield job, found  # the parent's job still holds the bytes (they are not sent back)


def scan(
    paths: Sequence[str | Path] = (".",),
    config: ScanConfig | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Find JSONP endpoints and consumers under `paths` (files or folders). Nothing is ever written.

    `config` defaults to `[tool.jsonp2cors]` of the scan root's pyproject.toml. `progress(done, total)` is
    called in this process as analysed files complete.
    """
    from jsonp2cors.scan import files as fs

    started = time.perf_counter()
    paths = list(paths) or ["."]
    root = scan_root(paths)
    if config is None:
        config = fs.load_config(root)
    analyzers = _analyzers()

    def routes(rel: str) -> list[int]:
        low = rel.lower()
        return [
            i
            for i, a in enumerate(analyzers)
            if low.endswith(a.suffixes) or (a.path_predicate is not None and a.path_predicate(rel))
        ]

    needles = [_needles(a, config) for a in analyzers]
    walked = fs.walk([Path(p).absolute() for p in paths], root, config, lambda rel: bool(routes(rel)))
    errors: list[ScanError] = list(walked.errors)
    jobs: list[_Job] = []
    dropped: dict[int, list[fs.FileEntry]] = {}
    prefiltered_out = 0
    skipped_vendored = walked.skipped_vendored
    nbytes = 0
    for entry in walked.files:
        outcome = fs.read_file(entry, config.max_file_bytes)
        if outcome.data is None:
            errors.append(ScanError(entry.rel, outcome.error or "unreadable"))
            continue
        data = outcome.data
        nbytes += len(data)
        low = data.lower()
        wanted = False
        for i in routes(entry.rel):
            if not needles[i] or any(n in low for n in needles[i]):
                if (
                    not config.include_vendored
                    and entry.rel.lower().endswith((".js", ".mjs", ".css"))
                    and fs.looks_generated(entry.rel, data)
                ):
                    skipped_vendored += 1
                    wanted = True  # counted once, as vendored
                    break
                jobs.append(_Job(i, entry.rel, data))
                wanted = True
            else:
                dropped.setdefault(i, []).append(entry)
        if not wanted:
            prefiltered_out += 1

    endpoints: list[Endpoint] = []
    consumers: list[Consumer] = []
    facts: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    parsed: set[str] = set()

    def absorb(job: _Job, found: FileFindings) -> None:
        endpoints.extend(found.endpoints)
        consumers.extend(found.consumers)
        errors.extend(found.errors)
        if found.parsed:
            parsed.add(job.rel)
        if found.facts.pop(KEEP_SOURCE_KEY, False):
            found.facts["source"] = job.data
        facts.setdefault(job.analyzer, []).append((job.rel, found.facts))

    for job, found in _execute(jobs, config, progress):
        absorb(job, found)

    # Second look at dropped files some analyzer asked for (names learnt in the first round).
    followups: list[_Job] = []
    for i, items in facts.items():
        wanted_needles = sorted({n for _, f in items for n in f.get(FOLLOWUP_KEY, ()) if n})
        if not wanted_needles or i not in dropped:
            continue
        for entry in dropped[i]:
            outcome = fs.read_file(entry, config.max_file_bytes)
            if outcome.data is not None and fs.prefilter(outcome.data, wanted_needles):
                followups.append(_Job(i, entry.rel, outcome.data))
                prefiltered_out -= 1
    for job, found in _execute(followups, config, None):
        absorb(job, found)

    for i, analyzer in enumerate(analyzers):
        if analyzer.finish is None:
            continue
        try:
            extra = analyzer.finish(facts.get(i, []), config)
        except Exception as exc:
            errors.append(
                ScanError(
                    ".",
                    f"{analyzer.name}: internal error in the whole-repo pass: {type(exc).__name__}: {str(exc)[:200]}",
                )
            )
            continue
        endpoints[:] = _refine(endpoints, extra.endpoints)
        consumers.extend(extra.consumers)
        errors.extend(extra.errors)

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


def _needles(analyzer: Analyzer, config: ScanConfig) -> tuple[bytes, ...]:
    """The analyzer's needles; its module may widen them per scan with `needles_for(config)`."""
    module = sys.modules.get(getattr(analyzer.function, "__module__", ""))
    hook = getattr(module, "needles_for", None)
    if callable(hook):
        return tuple(hook(config))
    return analyzer.needles


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
