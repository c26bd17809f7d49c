"""JSONP usage records: one JSON line per JSONP response, written off the request path, then summarised.

The same files feed `jsonp2cors usage FILE...` and `jsonp2cors policy generate --from-usage FILE...`.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import datetime as dt
import errno
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = [
    "CallableSink",
    "FileSink",
    "UsageCount",
    "UsageLog",
    "UsageRecord",
    "UsageSink",
    "UsageSummary",
    "make_sink",
    "read_usage",
    "record_from_fields",
    "referer_origin",
    "summarize",
]

log = logging.getLogger("jsonp2cors.shim.usage")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _format_time(when: dt.datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> dt.datetime:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def referer_origin(referer: str | None) -> str | None:
    """The serialised origin (`scheme://host[:port]`) of a Referer value, or None when it has none.

    Script tags send no `Origin` header, so the Referer is the only trace of the calling page.
    """
    if not referer:
        return None
    try:
        parts = urlsplit(referer.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class UsageRecord:
    """One JSONP response as the shim saw it."""

    time: dt.datetime  # timezone-aware, UTC
    method: str
    path: str
    callback_param: str
    callback: str
    origin: str | None = None  # of the Referer: script tags send no Origin
    sec_fetch_site: str | None = None
    sec_fetch_dest: str | None = None
    user_agent: str | None = None
    status: int = 200

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": _format_time(self.time),
            "method": self.method,
            "path": self.path,
            "callback_param": self.callback_param,
            "callback": self.callback,
            "origin": self.origin,
            "sec_fetch_site": self.sec_fetch_site,
            "sec_fetch_dest": self.sec_fetch_dest,
            "user_agent": self.user_agent,
            "status": self.status,
        }

    def to_line(self) -> bytes:
        """The record as one JSON line (UTF-8, `\\n`-terminated, no raw newlines inside)."""
        return (_ENCODER.encode(self.to_dict()) + "\n").encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UsageRecord:
        """Raises ValueError/KeyError/TypeError for a record that lacks a field or has the wrong type."""
        def opt(key: str) -> str | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{key} must be a string or null")
            return value

        def req(key: str) -> str:
            value = data[key]
            if not isinstance(value, str):
                raise TypeError(f"{key} must be a string")
            return value

        status = data.get("status", 200)
        if not isinstance(status, int) or isinstance(status, bool):
            raise TypeError("status must be an integer")
        return cls(
            time=_parse_time(req("time")),
            method=req("method"),
            path=req("path"),
            callback_param=req("callback_param"),
            callback=req("callback"),
            origin=opt("origin"),
            sec_fetch_site=opt("sec_fetch_site"),
            sec_fetch_dest=opt("sec_fetch_dest"),
            user_agent=opt("user_agent"),
            status=status,
        )


# ------------------------------------------------------------------------------------------- reading


class UsageLog(list[UsageRecord]):
    """The records read from usage files; `skipped` counts blank or garbled lines that were left out."""

    skipped: int
    files: tuple[str, ...]

    def __init__(self, records: Iterable[UsageRecord] = (), *, skipped: int = 0,
                 files: tuple[str, ...] = ()) -> None:
        super().__init__(records)
        self.skipped = skipped
        self.files = files


def _iter_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from handle


def read_usage(paths: Iterable[str | Path]) -> UsageLog:
    """Read usage records from JSON-lines files, skipping (and counting) blank and garbled lines.

    A line cut short by a crash or a full disk is garbled, not fatal. Missing files raise OSError.
    Records come back in file order; use `sorted(log, key=lambda r: r.time)` for time order.
    """
    records: list[UsageRecord] = []
    skipped = 0
    names: list[str] = []
    for raw_path in paths:
        path = Path(raw_path)
        names.append(str(path))
        for line in _iter_lines(path):
            if not line.strip():
                skipped += 1
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise TypeError("not an object")
                records.append(UsageRecord.from_dict(data))
            except (ValueError, KeyError, TypeError):
                skipped += 1
    return UsageLog(records, skipped=skipped, files=tuple(names))


# ------------------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class UsageCount:
    """How often one key (an endpoint path or a caller origin) was seen, and when."""

    key: str | None  # None: requests without a usable Referer
    count: int
    first: dt.datetime
    last: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "first": _format_time(self.first),
                "last": _format_time(self.last)}


@dataclass(frozen=True)
class UsageSummary:
    """JSONP traffic per endpoint, per caller origin and per day (UTC)."""

    total: int
    skipped: int
    first: dt.datetime | None
    last: dt.datetime | None
    endpoints: tuple[UsageCount, ...]  # most used first, then by path
    origins: tuple[UsageCount, ...]  # most used first, then by origin; None (no Referer) last among equals
    daily: tuple[tuple[dt.date, int], ...]  # every day from first to last, zero days included
    endpoint_origins: tuple[tuple[str, str | None, int], ...] = field(default=())  # (path, origin, count)
    statuses: tuple[tuple[int, int], ...] = field(default=())  # (status, count): 403/410 are refused callers

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "skipped": self.skipped,
            "first": _format_time(self.first) if self.first else None,
            "last": _format_time(self.last) if self.last else None,
            "endpoints": [{"path": c.key, **_strip_key(c.to_dict())} for c in self.endpoints],
            "origins": [{"origin": c.key, **_strip_key(c.to_dict())} for c in self.origins],
            "daily": [{"date": day.isoformat(), "count": n} for day, n in self.daily],
            "endpoint_origins": [{"path": p, "origin": o, "count": n} for p, o, n in self.endpoint_origins],
            "statuses": [{"status": code, "count": n} for code, n in self.statuses],
        }


def _strip_key(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("key", None)
    return data


class _Tally:
    __slots__ = ("count", "first", "last")

    def __init__(self, when: dt.datetime) -> None:
        self.count = 0
        self.first = when
        self.last = when

    def add(self, when: dt.datetime) -> None:
        self.count += 1
        if when < self.first:
            self.first = when
        if when > self.last:
            self.last = when


def _counts(tallies: dict[str | None, _Tally]) -> tuple[UsageCount, ...]:
    ordered = sorted(tallies.items(), key=lambda kv: (-kv[1].count, kv[0] is None, kv[0] or ""))
    return tuple(UsageCount(key, t.count, t.first, t.last) for key, t in ordered)


def summarize(records: Iterable[UsageRecord], *, skipped: int | None = None) -> UsageSummary:
    """Count records per endpoint path, per caller origin, per (path, origin) and per UTC day."""
    if skipped is None:
        skipped = getattr(records, "skipped", 0)
    by_path: dict[str | None, _Tally] = {}
    by_origin: dict[str | None, _Tally] = {}
    pairs: dict[tuple[str, str | None], int] = {}
    days: dict[dt.date, int] = {}
    statuses: dict[int, int] = {}
    total = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for record in records:
        when = record.time
        total += 1
        first = when if first is None or when < first else first
        last = when if last is None or when > last else last
        by_path.setdefault(record.path, _Tally(when)).add(when)
        by_origin.setdefault(record.origin, _Tally(when)).add(when)
        pairs[(record.path, record.origin)] = pairs.get((record.path, record.origin), 0) + 1
        day = when.astimezone(dt.timezone.utc).date()
        days[day] = days.get(day, 0) + 1
        statuses[record.status] = statuses.get(record.status, 0) + 1
    daily: list[tuple[dt.date, int]] = []
    if days:
        day, end = min(days), max(days)
        while day <= end:
            daily.append((day, days.get(day, 0)))
            day += dt.timedelta(days=1)
    ordered_pairs = sorted(pairs.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1] is None, kv[0][1] or ""))
    return UsageSummary(
        total=total,
        skipped=int(skipped or 0),
        first=first,
        last=last,
        endpoints=_counts(by_path),
        origins=_counts(by_origin),
        daily=tuple(daily),
        endpoint_origins=tuple((p, o, n) for (p, o), n in ordered_pairs),
        statuses=tuple(sorted(statuses.items())),
    )


# ------------------------------------------------------------------------------------------ writing


#: What the shim hands a sink per JSONP response, cheap to build on the request path:
#: (epoch seconds, method, path, callback parameter, callback, Referer, Sec-Fetch-Site, Sec-Fetch-Dest,
#: User-Agent, status). `UsageRecord.from_fields` turns it into a record.
# (time, method, path, callback parameter, callback, Referer, Sec-Fetch-Site, Sec-Fetch-Dest, User-Agent, status)
# as the shim emits them; the callback and the header values may still be raw bytes (ASGI), decoded as
# latin-1 off the request path.
UsageFields = tuple[float, str, str, str, "str | bytes", "str | bytes | None", "str | bytes | None",
                    "str | bytes | None", "str | bytes | None", int]


def _text(value: str | bytes | None) -> str | None:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def record_from_fields(fields: UsageFields) -> UsageRecord:
    ts, method, path, param, callback, referer, site, dest, agent, status = fields
    return UsageRecord(time=dt.datetime.fromtimestamp(int(ts), dt.timezone.utc), method=method, path=path,
                       callback_param=param, callback=_text(callback) or "", origin=referer_origin(_text(referer)),
                       sec_fetch_site=_text(site), sec_fetch_dest=_text(dest), user_agent=_text(agent),
                       status=status)


class UsageSink(Protocol):
    """Where the shim sends usage records. `emit` must be cheap and must never raise."""

    def emit(self, record: UsageRecord) -> None: ...

    def close(self) -> None: ...


class BaseSink:
    """Base of the bundled sinks: `emit_fields` is what the shim calls on the request path."""

    def emit(self, record: UsageRecord) -> None:
        raise NotImplementedError

    def emit_fields(self, fields: UsageFields) -> None:
        self.emit(record_from_fields(fields))

    def close(self) -> None:
        return None


class _ForeignSink(BaseSink):
    """Adapts a user object with `emit(record)`/`close()`; its exceptions are logged once."""

    def __init__(self, sink: UsageSink) -> None:
        self._sink = sink
        self._warned = False

    def emit(self, record: UsageRecord) -> None:
        try:
            self._sink.emit(record)
        except Exception:
            if not self._warned:
                self._warned = True
                log.exception("jsonp2cors: the usage sink raised; further errors from it are not logged")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sink.close()


class CallableSink(BaseSink):
    """Hands each record to a user callable on the request path; its exceptions are logged, never raised."""

    def __init__(self, func: Callable[[UsageRecord], None]) -> None:
        self._func = func
        self._warned = False

    def emit(self, record: UsageRecord) -> None:
        try:
            self._func(record)
        except Exception:
            if not self._warned:
                self._warned = True
                log.exception("jsonp2cors: the usage callable raised; further errors from it are not logged")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _string(value: str | None) -> str:
    return "null" if value is None else _encode_string(value)


class FileSink(BaseSink):
    """Appends records to a JSON-lines file from a background thread.

    The request path only appends a tuple to a deque. Every `interval` seconds (and on `flush`/`close`)
    the writer thread turns what is pending into whole lines and appends them with `write` calls on a
    descriptor opened with O_APPEND, so several worker processes can share one file without interleaving
    inside a line. A missing folder, a full disk or a full backlog (`max_queue` records) is logged once and
    the records are dropped: a request never fails because of usage logging. The file is opened per batch,
    so a rotated (moved) file is picked up by the next batch. At most `interval` seconds of records are
    lost if the process is killed (SIGKILL); a normal exit writes them (atexit).
    """

    MAX_QUEUE = 100_000
    MAX_BATCH_BYTES = 256 * 1024
    INTERVAL = 0.5

    def __init__(self, path: str | Path, *, max_queue: int = MAX_QUEUE, interval: float = INTERVAL) -> None:
        self.path = Path(path)
        self.max_queue = max_queue
        self.interval = interval
        self._pending: collections.deque[UsageFields | UsageRecord] = collections.deque()
        self._waiters: list[threading.Event] = []
        self._wake = threading.Event()
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._forks = _FORKS[0]
        self._stop = False
        self._closed = False
        self.dropped = 0
        self.written = 0
        self._last_second = -1
        self._last_time = ""
        self._origins: dict[str | bytes | None, str] = {}
        self._rests: dict[tuple[object, ...], str] = {}
        _OPEN_SINKS.add(self)

    # -- request path
    def emit_fields(self, fields: UsageFields) -> None:
        # `_FORKS` changes in a forked child (gunicorn --preload), where the writer thread does not exist:
        # cheaper than asking os.getpid() (a system call) on every record.
        if self._thread is None or self._forks != _FORKS[0]:
            if self._closed:
                return
            self._start()
        pending = self._pending
        if len(pending) >= self.max_queue:
            self.dropped += 1
            self._warn_once("full", "jsonp2cors: usage backlog is full; dropping records (disk too slow?)")
            return
        pending.append(fields)

    def emit(self, record: UsageRecord) -> None:
        self.emit_fields(record)  # type: ignore[arg-type]  # records are accepted as they are

    # -- lifecycle
    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid() or self._forks != _FORKS[0]:  # forked after the thread started
                self._pending = collections.deque()
                self._waiters = []
                self._pid = os.getpid()
                self._thread = None
            self._forks = _FORKS[0]
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="jsonp2cors-usage", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every pending record has been written (or dropped)."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        done = threading.Event()
        with self._lock:
            self._waiters.append(done)
        self._wake.set()
        done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending and stop the thread. Further records are ignored."""
        if self._closed:
            return
        self._closed = True
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            self._stop = True
            self._wake.set()
            thread.join(timeout)
        _OPEN_SINKS.discard(self)

    # -- writer thread
    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                waiters, self._waiters = self._waiters, []
            self._drain()
            for event in waiters:
                event.set()
            if self._stop:
                self._drain()
                self._closed = True
                return

    def _drain(self) -> None:
        pending = self._pending
        batch: list[str] = []
        size = 0
        line_of = self._line
        while pending:
            line = line_of(pending.popleft())
            batch.append(line)
            size += len(line)
            if size >= self.MAX_BATCH_BYTES:
                self._write(batch)
                batch, size = [], 0
        if batch:
            self._write(batch)

    def _line(self, item: UsageFields | UsageRecord) -> str:
        """One JSON line, formatted directly from the fields (the same text `UsageRecord.to_line` gives)."""
        if isinstance(item, UsageRecord):
            return _ENCODER.encode(item.to_dict())
        second = int(item[0])
        if second != self._last_second:
            self._last_second = second
            self._last_time = _format_time(dt.datetime.fromtimestamp(second, dt.timezone.utc))
        # Callers repeat themselves (same page, same browser, same callback): the rest of the line is cached.
        rest_key = item[1:]
        rest = self._rests.get(rest_key)
        if rest is None:
            method, path, param, raw_callback, referer, raw_site, raw_dest, raw_agent, status = rest_key
            callback, site, dest, agent = _text(raw_callback), _text(raw_site), _text(raw_dest), _text(raw_agent)
            origins = self._origins
            origin = origins.get(referer)
            if origin is None:
                origin = _string(referer_origin(_text(referer)))
                if len(origins) >= 4096:
                    origins.clear()
                origins[referer] = origin
            rest = (f'"method":{_string(method)},"path":{_string(path)},'
                    f'"callback_param":{_string(param)},"callback":{_string(callback)},"origin":{origin},'
                    f'"sec_fetch_site":{_string(site)},"sec_fetch_dest":{_string(dest)},'
                    f'"user_agent":{_string(agent)},"status":{int(status)}}}')
            if len(self._rests) >= 4096:
                self._rests.clear()
            self._rests[rest_key] = rest
        return f'{{"time":"{self._last_time}",{rest}'

    def _write(self, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        n = len(lines)
        try:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            self.dropped += n
            self._warn_once(f"open-{exc.errno}", f"jsonp2cors: cannot open usage file {self.path}: {exc}; "
                            "records are dropped until it can be opened")
            return
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            self.written += n
        except OSError as exc:
            self.dropped += n
            reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else str(exc)
            self._warn_once(f"write-{exc.errno}", f"jsonp2cors: cannot write usage file {self.path} "
                            f"({reason}); records are dropped")
        finally:
            os.close(fd)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)


_OPEN_SINKS: weakref.WeakSet[FileSink] = weakref.WeakSet()
_FORKS = [0]  # how many forks this process descends from (since this module was loaded)


def _after_fork_in_child() -> None:
    _FORKS[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _flush_at_exit() -> None:
    for sink in list(_OPEN_SINKS):
        sink.close(timeout=2.0)


atexit.register(_flush_at_exit)


def make_sink(usage: str | Path | Callable[[UsageRecord], None] | UsageSink | None) -> BaseSink | None:
    """The sink for the shim's `usage=` argument: a path (file sink), a callable, a sink, or None."""
    if usage is None:
        return None
    if isinstance(usage, BaseSink):
        return usage
    if isinstance(usage, (str, os.PathLike)):
        return FileSink(Path(usage))
    if hasattr(usage, "emit") and hasattr(usage, "close"):
        return _ForeignSink(usage)
    if callable(usage):
        return CallableSink(usage)
    raise TypeError("usage must be a path, a callable taking a UsageRecord, or None")


# ---------------------------------------------------------------------------------------- rendering


def render_table(summary: UsageSummary, console: Any, *, max_days: int = 60) -> None:
    """Print a summary as rich tables: endpoints, caller origins, and the daily trend (last `max_days`)."""
    from rich.table import Table

    def when(value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M")

    if summary.total == 0:
        console.print(f"No JSONP responses recorded ({summary.skipped} unreadable lines skipped).")
        return
    assert summary.first is not None and summary.last is not None
    console.print(f"{summary.total:,} JSONP responses from {when(summary.first)} to {when(summary.last)} UTC"
                  + (f" ({summary.skipped:,} unreadable lines skipped)" if summary.skipped else ""))
    console.print("by status: " + ", ".join(f"{code}: {n:,}" for code, n in summary.statuses)
                  + "  (403: refused by the Referer check, 410: after the sunset)")
    for title, column, counts in (("Endpoints", "path", summary.endpoints),
                                  ("Caller origins (from Referer)", "origin", summary.origins)):
        table = Table(title=title, title_justify="left")
        table.add_column(column)
        table.add_column("calls", justify="right")
        table.add_column("first seen")
        table.add_column("last seen")
        for c in counts:
            table.add_row(c.key if c.key is not None else "(no Referer)", f"{c.count:,}", when(c.first),
                          when(c.last))
        console.print(table)
    days = summary.daily[-max_days:]
    peak = max((n for _, n in days), default=0) or 1
    table = Table(title="Daily JSONP responses (UTC)", title_justify="left")
    table.add_column("day")
    table.add_column("calls", justify="right")
    table.add_column("")
    for day, n in days:
        table.add_row(day.isoformat(), f"{n:,}", "#" * max(1 if n else 0, round(30 * n / peak)))
    console.print(table)
