"""What every per-file analyzer receives and returns, and the table that routes files to analyzers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jsonp2cors.findings import Consumer, Endpoint, ScanError

DEFAULT_CALLBACK_PARAMS: tuple[str, ...] = ("callback", "jsonp", "cb", "jsoncallback", "jsonp_callback")


@dataclass(frozen=True)
class ScanConfig:
    """Options of one scan, after merging the CLI with `[tool.jsonp2cors]` of the scanned repo.

    It crosses process boundaries (the pool pickles it), so it holds only plain values.
    """

    callback_params: tuple[str, ...] = DEFAULT_CALLBACK_PARAMS
    helper_names: tuple[str, ...] = ()  # extra project-local JSONP helper/decorator names
    excludes: tuple[str, ...] = ()  # glob patterns relative to the root
    include_vendored: bool = False  # minified bundles, vendor/, node_modules/, site-packages ...
    respect_gitignore: bool = True
    max_file_bytes: int = 5 * 1024 * 1024  # larger files are reported as "huge generated file" and skipped
    jobs: int = 0  # 0 = every core


@dataclass
class FileFindings:
    """What one analyzer found in one file.

    `facts` carries per-file data for a second, whole-repo pass (for example JSONP helpers defined in one
    module and called from another); it must be picklable plain data.
    """

    endpoints: list[Endpoint] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    parsed: bool = False  # did this file go through a real parser (counts into stats.files_parsed)
    # The heavy parser kind (HEAVY_KINDS) this file needs and this process may not load (`may_load`): the scan
    # discards these findings and has the file analysed again in the worker that loads that kind.
    deferred: str | None = None


# Parsers that cost much to import, by kind. In a scan's worker processes each kind is loaded by one worker only
# (importing libcst takes ~0.15 s of CPU, beautifulsoup4 with tree-sitter ~0.1 s: paid once, not once per core).
HEAVY_KINDS: tuple[str, ...] = ("libcst", "markup")
_LOADABLE: list[frozenset[str] | None] = [None]  # None: any kind (the parent process, a scan without workers)


def may_load(kind: str) -> bool:
    """May this process import the parsers of `kind`? An analyzer that may not returns `FileFindings(deferred=kind)`
    before importing them."""
    kinds = _LOADABLE[0]
    return kinds is None or kind in kinds


def set_loadable(kinds: frozenset[str] | None) -> None:
    """Which heavy kinds this process loads (set in each scan worker; None: any)."""
    _LOADABLE[0] = kinds


# In a scan worker, how many files of one batch may be read with libcst (the slow stage: seconds for a large
# JSONP module) before the rest are handed back: the scan then sends them one at a time to the least busy worker
# (see lanes.Lanes.spread), so a batch full of JSONP modules does not keep one core busy while another idles.
# Not below the scan's SPREAD_AFTER: a batch handed back before spreading starts holds at most that many files,
# and a batch that small is read whole (no file goes back and forth).
HEAVY_PER_BATCH = 4
_BUDGET: list[int | None] = [None]  # None: no limit (the parent process, a scan without workers, small batches)


def set_heavy_budget(count: int | None) -> None:
    """How many libcst analyses the batch this worker starts may do (None: any)."""
    _BUDGET[0] = count


def use_heavy(kind: str) -> bool:
    """`may_load(kind)`, and for libcst one of the batch's analyses (see HEAVY_PER_BATCH): False once spent, and
    the analyzer hands the file back like one this worker may not load."""
    if not may_load(kind):
        return False
    budget = _BUDGET[0]
    if budget is None or kind != "libcst":
        return True
    if budget <= 0:
        return False
    _BUDGET[0] = budget - 1
    return True


# While a scan runs, the cyclic garbage collector (the scan's process and its workers) waits for this many new
# container objects (Python's default: 700). Syntax trees are large and acyclic: with the default the collector
# ran hundreds of times a scan, re-walking every parser module's objects each full collection (about 6% of a
# worker's time). The little cyclic garbage a scan makes is collected rarely instead.
GC_THRESHOLD = 100_000

# `facts` key of a whole-repo pass's findings: the files it read fully (they count as parsed in the stats).
PARSED_KEY = "parsed_files"

# (relative path with "/" separators, raw bytes, config) -> findings
AnalyzerFn = Callable[[str, bytes, ScanConfig], FileFindings]


@dataclass(frozen=True)
class Analyzer:
    """One registered analyzer: which files it reads and the cheap byte needles that make a file a candidate.

    A file is parsed only when its lower-cased bytes contain at least one needle (needles are lower-case), unless
    the analyzer's module has a `candidate_for(config)` hook, which then decides (see scan/python.py).
    """

    name: str
    suffixes: tuple[str, ...]  # lower-case, with the dot: (".py",)
    needles: tuple[bytes, ...]
    function: AnalyzerFn
    # For files without a matching suffix (e.g. templates/ without extension) a predicate on the rel path.
    path_predicate: Callable[[str], bool] | None = None
    # Optional whole-repo pass run in the parent process after the pool: receives (rel_path, facts) of every
    # file this analyzer handled and returns extra findings (e.g. handlers that call a helper from another module).
    finish: Callable[[list[tuple[str, dict[str, Any]]], ScanConfig], FileFindings] | None = None
