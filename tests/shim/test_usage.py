"""Usage records: JSON-lines round trip, tolerant reading, summary, and the background file writer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsonp2cors.shim.usage import (
    CallableSink,
    FileSink,
    UsageRecord,
    make_sink,
    read_usage,
    referer_origin,
    summarize,
)

UTC = dt.timezone.utc


def rec(day: int = 20, hour: int = 10, path: str = "/api/weather", origin: str | None = "https://news.example.com",
        **kw: object) -> UsageRecord:
    base: dict[str, object] = dict(
        time=dt.datetime(2026, 11, day, hour, 11, 12, tzinfo=UTC), method="GET", path=path,
        callback_param="callback", callback="show", origin=origin, sec_fetch_site="cross-site",
        sec_fetch_dest="script", user_agent="Mozilla/5.0", status=200,
    )
    base.update(kw)
    return UsageRecord(**base)  # type: ignore[arg-type]


def test_line_format_matches_contract() -> None:
    line = rec().to_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    data = json.loads(line)
    assert data == {
        "time": "2026-11-20T10:11:12Z", "method": "GET", "path": "/api/weather", "callback_param": "callback",
        "callback": "show", "origin": "https://news.example.com", "sec_fetch_site": "cross-site",
        "sec_fetch_dest": "script", "user_agent": "Mozilla/5.0", "status": 200,
    }


def test_user_agent_with_newline_stays_on_one_line() -> None:
    line = rec(user_agent="evil\nUA\u2028x").to_line()
    assert line.count(b"\n") == 1
    assert UsageRecord.from_dict(json.loads(line)).user_agent == "evil\nUA\u2028x"


def test_time_converted_to_utc() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    r = rec(time=dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=plus2))
    assert json.loads(r.to_line())["time"] == "2026-11-20T10:00:00Z"


@pytest.mark.parametrize(
    ("referer", "origin"),
    [
        ("https://news.example.com/page?x=1#f", "https://news.example.com"),
        ("HTTPS://News.Example.COM:443/", "https://news.example.com"),
        ("http://example.com:80/a", "http://example.com"),
        ("http://example.com:8080/a", "http://example.com:8080"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("", None),
        (None, None),
        ("android-app://com.example/", None),
        ("about:blank", None),
        ("http://example.com:99999/", None),
        ("not a url", None),
    ],
)
def test_referer_origin(referer: str | None, origin: str | None) -> None:
    assert referer_origin(referer) == origin


def test_read_usage_skips_and_counts_garbled(tmp_path: Path) -> None:
    f = tmp_path / "u.jsonl"
    good = [rec(day=20), rec(day=22, origin=None)]
    f.write_bytes(
        good[0].to_line() + b"\n" + b"{not json\n" + b'{"time": "2026-11-20T00:00:00Z"}\n' + b"[1,2]\n"
        + b'{"time":"x","method":"GET","path":"/","callback_param":"c","callback":"f"}\n'
        + good[1].to_line() + b'{"time":"2026-11-2'  # cut short by a crash
    )
    log = read_usage([f])
    assert list(log) == good
    assert log.skipped == 6
    assert log.files == (str(f),)


def test_read_usage_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_usage([tmp_path / "nope.jsonl"])


def test_summarize_counts_and_daily_trend() -> None:
    records = [
        rec(day=20, hour=9), rec(day=20, hour=10), rec(day=23, path="/api/account", origin=None),
        rec(day=21, origin="https://blog.example.org"),
    ]
    s = summarize(records, skipped=2)
    assert s.total == 4 and s.skipped == 2
    assert [(c.key, c.count) for c in s.endpoints] == [("/api/weather", 3), ("/api/account", 1)]
    assert [(c.key, c.count) for c in s.origins] == [
        ("https://news.example.com", 2), ("https://blog.example.org", 1), (None, 1),
    ]
    weather = s.endpoints[0]
    assert weather.first == dt.datetime(2026, 11, 20, 9, 11, 12, tzinfo=UTC)
    assert weather.last == dt.datetime(2026, 11, 21, 10, 11, 12, tzinfo=UTC)
    assert [(d.isoformat(), n) for d, n in s.daily] == [
        ("2026-11-20", 2), ("2026-11-21", 1), ("2026-11-22", 0), ("2026-11-23", 1),
    ]
    assert ("/api/weather", "https://news.example.com", 2) in s.endpoint_origins
    assert s.statuses == ((200, 4),)
    data = s.to_dict()
    assert json.loads(json.dumps(data))["origins"][2] == {
        "origin": None, "count": 1, "first": "2026-11-23T10:11:12Z", "last": "2026-11-23T10:11:12Z",
    }


def test_summarize_empty() -> None:
    s = summarize([])
    assert s.total == 0 and s.first is None and s.daily == () and s.endpoints == ()


def test_file_sink_appends_whole_lines(tmp_path: Path) -> None:
    f = tmp_path / "usage.jsonl"
    f.write_bytes(rec(day=1).to_line())  # existing content is kept
    sink = FileSink(f)
    for i in range(500):
        sink.emit(rec(callback=f"cb{i}"))
    sink.close()
    log = read_usage([f])
    assert log.skipped == 0
    assert [r.callback for r in log[1:]] == [f"cb{i}" for i in range(500)]
    sink.emit(rec())  # after close: ignored, no error
    assert len(read_usage([f])) == 501


def test_file_sink_missing_folder_logged_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = FileSink(tmp_path / "missing" / "usage.jsonl")
    with caplog.at_level(logging.WARNING, logger="jsonp2cors.shim.usage"):
        for _ in range(3):
            sink.emit(rec())
            sink.flush()
        sink.close()
    assert sink.dropped == 3
    assert len([r for r in caplog.records if "cannot open usage file" in r.getMessage()]) == 1


def test_file_sink_full_disk_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    sink = FileSink("/dev/full")
    with caplog.at_level(logging.WARNING, logger="jsonp2cors.shim.usage"):
        for _ in range(3):
            sink.emit(rec())
            sink.flush()
        sink.close()
    assert sink.dropped == 3
    assert len([r for r in caplog.records if "disk full" in r.getMessage()]) == 1


def test_file_sink_full_queue_drops_without_blocking(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "u.jsonl", max_queue=1)
    for _ in range(2000):
        sink.emit(rec())
    sink.close()
    assert sink.written + sink.dropped == 2000
    assert len(read_usage([tmp_path / "u.jsonl"])) == sink.written


def _writer_process(path: str, tag: str, n: int) -> None:
    sink = FileSink(path)
    for i in range(n):
        sink.emit(rec(callback=f"{tag}_{i}", user_agent="x" * 3000))  # long lines: several KiB per batch
    sink.close()


def test_file_sink_several_processes_never_interleave(tmp_path: Path) -> None:
    f = str(tmp_path / "u.jsonl")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer_process, args=(f, f"p{k}", 300)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    log = read_usage([f])
    assert log.skipped == 0
    assert sorted(r.callback for r in log) == sorted(f"p{k}_{i}" for k in range(3) for i in range(300))


def test_callable_sink_swallows_errors(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[UsageRecord] = []

    def bad(record: UsageRecord) -> None:
        seen.append(record)
        raise RuntimeError("boom")

    sink = CallableSink(bad)
    with caplog.at_level(logging.ERROR, logger="jsonp2cors.shim.usage"):
        sink.emit(rec())
        sink.emit(rec())
    assert len(seen) == 2
    assert len([r for r in caplog.records if "usage callable raised" in r.getMessage()]) == 1


def test_make_sink(tmp_path: Path) -> None:
    assert make_sink(None) is None
    assert isinstance(make_sink(tmp_path / "a.jsonl"), FileSink)
    assert isinstance(make_sink(str(tmp_path / "a.jsonl")), FileSink)
    assert isinstance(make_sink(lambda r: None), CallableSink)
    with pytest.raises(TypeError):
        make_sink(42)  # type: ignore[arg-type]


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=60, deadline=None)
@given(
    path=_text, callback=_text, origin=st.none() | _text, ua=st.none() | _text,
    status=st.integers(100, 599),
    when=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
)
def test_round_trip_property(path: str, callback: str, origin: str | None, ua: str | None, status: int,
                             when: dt.datetime) -> None:
    r = UsageRecord(time=when, method="GET", path=path, callback_param="callback", callback=callback,
                    origin=origin, user_agent=ua, status=status)
    line = r.to_line()
    assert line.count(b"\n") == 1
    assert UsageRecord.from_dict(json.loads(line)) == r


def _emit_in_child(sink: FileSink, n: int) -> None:
    for i in range(n):
        sink.emit(rec(callback=f"child{i}"))
    sink.close()


def test_file_sink_survives_fork_after_start(tmp_path: Path) -> None:
    """gunicorn --preload: the sink (and its thread) exist before the workers are forked."""
    f = tmp_path / "u.jsonl"
    sink = FileSink(f)
    sink.emit(rec(callback="parent"))
    sink.flush()
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_emit_in_child, args=(sink, 50))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    sink.close()
    names = sorted(r.callback for r in read_usage([f]))
    assert names == sorted(["parent", *(f"child{i}" for i in range(50))])
