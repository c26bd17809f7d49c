"""The scan's worker processes: one lane per core, each a process with a pipe for work and a pipe for results.

Why not `concurrent.futures.ProcessPoolExecutor`: a pool hands any batch to any worker, so on a big tree every
worker ends up importing every heavy parser (libcst ~0.15 s, beautifulsoup4 and tree-sitter ~0.1 s of CPU
each, per process), and a worker that dies (a native parser crashing on hostile input) breaks the whole pool.
Lanes give the scan both controls it needs:

- each heavy parser kind (`base.HEAVY_KINDS`) is loaded by one lane only; an analyzer elsewhere that needs it
  hands the file back (`FileFindings.deferred`) and the scan sends it to that lane (`Lanes.lane_for`), until so
  many files were handed back that the import pays for itself in other lanes too (`Lanes.spread`);
- a lane whose process dies is replaced; the files of the batch it was reading are tried again one by one, and a
  file that kills a worker twice is reported as an error instead of stopping the scan.

Batches go out in order and come back in order per lane; the parent keeps a few in flight per lane
(`Lanes.idle_lane`) so no worker waits for the parent and a late heavy file does not queue behind much work.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import queue
import signal
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from jsonp2cors.scan import base
from jsonp2cors.scan.base import ScanConfig

# Batches in flight per lane: one being read and one waiting, so the worker never waits for the parent.
AHEAD = 2
# A worker still on one batch after FILE_TIMEOUT seconds, plus BATCH_FILE_SECONDS per file of it, is stopped:
# its batch is tried again file by file, and a file that runs out of time alone is reported ("analysis took
# over 120 s (stopped)") instead of hanging the scan. Real files take a few seconds at worst (libcst on a
# 100 KB module full of JSONP code).
FILE_TIMEOUT = 120.0
BATCH_FILE_SECONDS = 5.0


@dataclass
class Work:
    """A batch of items for a lane. `redo`: files handed back by another lane (or retried after a crash): their
    counts were taken the first time, so the scan does not count them again."""

    items: Sequence[Any]
    redo: bool = False
    retry: bool = False  # one file of a batch whose worker died: a second death reports the file


# What runs a batch in a worker: (items, config) -> result. Set by the scan (its `_run_batch`).
Runner = Callable[[Sequence[Any], ScanConfig], Any]


def _reader(conn: Connection, inbox: queue.SimpleQueue[Any]) -> None:
    """Drains the work pipe into a local queue, so the parent never blocks sending while this worker sends."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            message = None
        inbox.put(message)
        if message is None:
            return


def lane_main(work: Connection, results: Connection, config: ScanConfig, kinds: frozenset[str], run: Runner) -> None:
    """A worker: read batches until told to stop (None) or the parent goes away; send back each result in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the lanes
    gc.freeze()  # what the fork inherited (modules, the config) is never garbage: the collector skips it
    gc.set_threshold(base.GC_THRESHOLD, *gc.get_threshold()[1:])
    _may_load(kinds)
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_reader, args=(work, inbox), daemon=True).start()
    while (message := inbox.get()) is not None:
        ticket, items, granted = message
        if granted is not None:  # the parent lets this worker load more parser kinds from now on
            _may_load(granted)
        base.set_heavy_budget(base.HEAVY_PER_BATCH if len(items) > base.HEAVY_PER_BATCH else None)
        try:
            result: Any = run(items, config)
        except Exception as exc:  # the batch runner catches analyzer errors itself: this is a bug of ours
            detail = "".join(traceback.format_exception(exc)[-3:]).strip()
            result = RuntimeError(f"scan worker failed: {type(exc).__name__}: {exc}\n{detail}")
        try:
            results.send((ticket, result))
        except (BrokenPipeError, OSError):
            return


def _may_load(kinds: frozenset[str]) -> None:
    if "markup" in kinds:
        _without_css_selectors()
    base.set_loadable(kinds)


def _without_css_selectors() -> None:
    """In the worker that loads beautifulsoup4: keep bs4 from importing soupsieve, its CSS-selector engine, which
    compiles some 50 ms of regular expressions at import (a third of the markup lane's start) for `select()`,
    which the scan never calls. bs4 treats soupsieve as optional and warns when it is missing: that one warning
    is silenced. Only in a worker process the scan owns, never in the caller's."""
    if "bs4" not in sys.modules:
        sys.modules.setdefault("soupsieve", None)  # type: ignore[arg-type]  # `import soupsieve` raises ImportError
        warnings.filterwarnings("ignore", message="The soupsieve package is not installed")


class Lane:
    """One worker process and the batches sent to it that have not come back yet."""

    def __init__(self, index: int, kinds: frozenset[str], config: ScanConfig, run: Runner) -> None:
        self.index = index
        self.kinds = kinds
        # fork keeps the modules already imported (the CLI, the analyzers); elsewhere the default start method.
        ctx = multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context()
        work_r, self.work = ctx.Pipe(duplex=False)
        self.results, results_w = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=lane_main, args=(work_r, results_w, config, kinds, run), daemon=True, name=f"jsonp2cors-lane-{index}"
        )
        self.process.start()
        work_r.close()
        results_w.close()
        self.sent: deque[tuple[int, Work]] = deque()
        self.granted = False  # kinds changed since the worker last heard: the next batch tells it
        self.since = 0.0  # when the worker started on the batch at the head of `sent` (time.monotonic)

    def deadline(self) -> float | None:
        """When the batch the worker is on runs out of time (None when it has nothing)."""
        if not self.sent:
            return None
        return self.since + FILE_TIMEOUT + BATCH_FILE_SECONDS * (len(self.sent[0][1].items) - 1)

    def grant(self, kind: str) -> None:
        """Let this worker load `kind`'s parsers too (it learns so with its next batch)."""
        if kind not in self.kinds:
            self.kinds = self.kinds | {kind}
            self.granted = True

    def send(self, ticket: int, work: Work) -> None:
        self.work.send((ticket, work.items, self.kinds if self.granted else None))
        self.granted = False
        if not self.sent:
            self.since = time.monotonic()
        self.sent.append((ticket, work))

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.work.send(None)
        self.work.close()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2)
        self.results.close()


class LaneDied(Exception):
    """A lane's process ended while it held batches (its exit code is in the message)."""


class Lanes:
    """`count` worker processes; heavy parser kinds are spread over them, one lane per kind."""

    def __init__(self, count: int, config: ScanConfig, run: Runner) -> None:
        self.config = config
        self.run = run
        count = max(1, count)
        self.kinds: list[frozenset[str]] = [
            frozenset(k for i, k in enumerate(base.HEAVY_KINDS) if i % count == lane) for lane in range(count)
        ]
        self.lanes = [Lane(i, self.kinds[i], config, run) for i in range(count)]
        self.tickets = 0
        # Works a dead lane held, for the caller: (work, what happened to the lane: "crashed its worker process
        # (signal 11)", "took over 120 s (stopped)", was it the one being read).
        self.deaths: list[tuple[Work, str, bool]] = []

    def lane_for(self, kind: str) -> Lane:
        return next((lane for lane in self.lanes if kind in lane.kinds), self.lanes[0])

    def spread(self, kind: str) -> Lane:
        """The least busy lane, allowed to load `kind` if it was not: once a kind's work has piled up (a legacy
        app with hundreds of JSONP views), every core reads it instead of the one lane that loaded it first."""
        lane = min(self.lanes, key=lambda la: (len(la.sent), kind not in la.kinds))
        lane.grant(kind)
        return lane

    def idle_lane(self) -> Lane | None:
        """The lane with the fewest batches in flight, if it has fewer than AHEAD."""
        lane = min(self.lanes, key=lambda la: len(la.sent))
        return lane if len(lane.sent) < AHEAD else None

    def send(self, lane: Lane, work: Work) -> None:
        self.tickets += 1
        try:
            lane.send(self.tickets, work)
        except (BrokenPipeError, OSError):  # the lane is gone: its batches, and this one, go to `deaths`
            self._replace(lane)
            self.deaths.append((work, "crashed its worker process (it had ended)", False))

    def busy(self) -> bool:
        return any(lane.sent for lane in self.lanes)

    def poll(self, timeout: float | None) -> list[tuple[Work, Any]]:
        """Results that have arrived ((work, result) in per-lane order), waiting up to `timeout` for the first.
        A lane found dead is replaced and its lost works are put in `deaths`."""
        waiting = [lane for lane in self.lanes if lane.sent]
        if not waiting:
            return []
        ready = wait([lane.results for lane in waiting], timeout)
        out: list[tuple[Work, Any]] = []
        for lane in waiting:
            if lane.results not in ready:
                continue
            try:
                ticket, result = lane.results.recv()
            except (EOFError, OSError):
                self._replace(lane)
                continue
            sent_ticket, work = lane.sent.popleft()
            lane.since = time.monotonic()  # the worker goes on with its next batch now
            if sent_ticket != ticket:  # cannot happen: a lane answers in order
                raise RuntimeError(f"scan lane {lane.index} answered batch {ticket}, expected {sent_ticket}")
            if isinstance(result, BaseException):
                raise result
            out.append((work, result))
        return out

    def wait_time(self) -> float | None:
        """How long the caller may wait for results before a worker's time runs out (None: no limit running)."""
        deadlines = [d for d in (lane.deadline() for lane in self.lanes) if d is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def expire(self) -> None:
        """Stop every worker whose batch ran out of time; its works go to `deaths` like a crashed worker's."""
        now = time.monotonic()
        for lane in list(self.lanes):
            deadline = lane.deadline()
            if deadline is not None and now >= deadline:
                limit = deadline - lane.since
                lane.process.kill()
                self._replace(lane, f"took over {limit:.0f} s (stopped)")

    def _replace(self, lane: Lane, why: str | None = None) -> None:
        lane.process.join(timeout=2)
        code = lane.process.exitcode
        reason = why or (
            f"crashed its worker process (signal {-code})"
            if code is not None and code < 0
            else f"crashed its worker process (exit code {code})"
        )
        for i, (_, work) in enumerate(lane.sent):
            self.deaths.append((work, reason, i == 0))
        lane.sent.clear()
        lane.work.close()
        lane.results.close()
        self.lanes[lane.index] = Lane(lane.index, lane.kinds, self.config, self.run)

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
