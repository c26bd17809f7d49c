"""Benchmark `jsonp2cors scan` against grep and against parsing every file with libcst, side by side.

Run: `python bench/scan_bench.py [--repeat N]` (it re-runs itself under the project's .venv when there is
one). The tree is a copy of that interpreter's site-packages in a temporary folder (under its own name, so
the scan's site-packages/vendored rules do not skip it), plus a second tree made of the markup and
JavaScript files found in it. Every timed command runs in turn within each round (the order rotates between
rounds) and the median of the rounds is reported: 11 rounds of the quick commands by default (on a shared
machine single runs swing by a third), 3 of the minutes-long libcst pass, each joined by one more scan and grep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GREP_PATTERN = "callback|jsonp"
MARKUP_SUFFIXES = (".html", ".htm", ".j2", ".jinja", ".jinja2", ".php", ".erb", ".jsp", ".vue",
                   ".js", ".mjs", ".cjs", ".jsx")
TARGET_GREP_RATIO = 3.0  # the scan within 3x of grep
TARGET_LIBCST_RATIO = 20.0  # and at least 20x faster than parsing everything with libcst


# -- the trees ----------------------------------------------------------------------------------------


def copy_site_packages(source: Path, dest: Path) -> None:
    """Copy `source` to `dest`, leaving out bytecode caches (a cache, not code anyone would scan)."""
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))


def copy_markup(source: Path, dest: Path) -> None:
    """The markup and JavaScript files under `source` (Django admin static files, package test pages, ...)."""
    for path in walk_files(source):
        if path.name.lower().endswith(MARKUP_SUFFIXES) or "templates" in path.relative_to(source).parts[:-1]:
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def walk_files(top: Path) -> Iterator[Path]:
    for dirpath, _dirnames, filenames in os.walk(top):
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                yield path


def describe(tree: Path) -> str:
    files = list(walk_files(tree))
    size = sum(p.stat().st_size for p in files)
    py = [p for p in files if p.suffix == ".py"]
    py_size = sum(p.stat().st_size for p in py)
    return f"{len(files):,} files, {size / 1e6:.0f} MB; {len(py):,} .py files ({py_size / 1e6:.1f} MB)"


# -- the timed commands -------------------------------------------------------------------------------


SCAN_EXTRA_ARGS: list[str] = []  # e.g. --include-vendored, from the command line


#: The scan's own `stats.seconds` per tree (scan() call to result: walk, prefilter, analyzer imports, parse).
SCAN_INNER: dict[Path, list[float]] = {}


def run_scan(tree: Path, report: Path | None = None) -> float:
    command = [sys.executable, "-m", "jsonp2cors", "scan", str(tree), "--format", "json", "--no-progress",
               *SCAN_EXTRA_ARGS]
    if report is not None:
        command += ["--output", str(report)]
    # Bytecode caches as an installed package has them (pip compiles them at install): this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which made every run (and every worker) compile the project's modules from source.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"jsonp2cors scan failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    if report is None:
        SCAN_INNER.setdefault(tree, []).append(json.loads(done.stdout)["stats"]["seconds"])
    return elapsed


def run_grep(tree: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(["grep", "-rliE", GREP_PATTERN, str(tree)], stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"grep failed ({done.returncode})")
    return elapsed


def _parse_one(path: str) -> bool:
    import libcst

    try:
        with open(path, "rb") as handle:
            libcst.parse_module(handle.read())
    except Exception:  # Python 2 files, syntax libcst rejects, undecodable bytes: counted, not fatal
        return False
    return True


def run_libcst(tree: Path, failures: list[int] | None = None) -> float:
    """Wall time of parsing every .py file with libcst in a pool of every core, largest files first."""
    started = time.perf_counter()
    files = sorted((p for p in walk_files(tree) if p.suffix == ".py"), key=lambda p: p.stat().st_size,
                   reverse=True)
    with Pool(os.cpu_count() or 1) as pool:
        parsed = pool.map(_parse_one, [str(p) for p in files], chunksize=4)
    elapsed = time.perf_counter() - started
    if failures is not None:
        failures.append(parsed.count(False))
    return elapsed


# -- measuring ----------------------------------------------------------------------------------------


def measure(contenders: dict[str, Callable[[], float]], repeat: int) -> dict[str, list[float]]:
    """Run every contender once per round, rotating the order so no one always goes first."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_no in range(repeat):
        order = names[round_no % len(names):] + names[: round_no % len(names)]
        for name in order:
            times[name].append(contenders[name]())
    return times


def show(times: dict[str, list[float]]) -> dict[str, float]:
    medians = {name: statistics.median(runs) for name, runs in times.items()}
    width = max(len(name) for name in times)
    for name, runs in times.items():
        all_runs = " ".join(f"{t:.3f}" for t in runs)
        print(f"  {name:<{width}}  median {medians[name]:8.3f} s   runs: {all_runs}")
    return medians


def paired_ratio(scans: list[float], greps: list[float]) -> float:
    """Median over rounds of scan time / grep time measured in the same round (seconds apart)."""
    return statistics.median(a / b for a, b in zip(scans, greps, strict=False))


def verdict(ratio: float, target: float, at_most: bool) -> str:
    ok = ratio <= target if at_most else ratio >= target
    return f"({'target' if ok else 'MISSES target'} {'<=' if at_most else '>='} {target:g}x)"


def scan_summary(report: Path) -> str:
    data = json.loads(report.read_text(encoding="utf-8"))
    stats = data["stats"]
    return (f"{len(data['endpoints'])} endpoints, {len(data['consumers'])} consumers, {len(data['errors'])} "
            f"errors; files seen {stats['files_seen']:,}, parsed {stats['files_parsed']:,}, skipped as "
            f"vendored {stats.get('files_skipped_vendored', 0):,}")


def _rounds(count: int) -> str:
    return "1 round" if count == 1 else f"{count} rounds"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def use_project_venv() -> None:
    """Re-run under the project's .venv when started by another interpreter (its site-packages is the tree)."""
    venv = ROOT / ".venv"
    python = venv / "bin" / "python"
    if python.exists() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=11,
                        help="rounds of the quick commands: scan, start-up, grep (median is reported)")
    parser.add_argument("--libcst-repeat", type=int, default=3,
                        help="rounds of the slow libcst pass (each also runs the scan and grep once more)")
    parser.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["purelib"]),
                        help="tree to copy (default: this interpreter's site-packages)")
    parser.add_argument("--no-libcst", action="store_true", help="skip the parse-everything baseline")
    parser.add_argument("--no-markup", action="store_true", help="skip the markup+JS tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    parser.add_argument("--include-vendored", action="store_true",
                        help="pass --include-vendored to the scan (vendor/, _vendor/, minified bundles ...)")
    args = parser.parse_args(argv)
    if args.include_vendored:
        SCAN_EXTRA_ARGS.append("--include-vendored")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="jsonp2cors-bench-"))
    try:
        site = work / "site"
        markup = work / "markup"
        print(f"copying {args.source} ...", flush=True)
        copy_site_packages(args.source, site)
        copy_markup(site, markup)
        print(f"python tree: {site} ({describe(site)})")
        print(f"before: {load()}", flush=True)

        report = work / "scan.json"
        run_scan(site, report)  # warm the page cache and the imports; keep its findings for the summary
        run_grep(site)
        print(f"scan found: {scan_summary(report)}")

        empty = work / "empty"
        empty.mkdir()
        print(f"\nPython tree, {_rounds(args.repeat)}:", flush=True)
        times = measure({
            "jsonp2cors scan": lambda: run_scan(site),
            "jsonp2cors scan of an empty folder (start-up)": lambda: run_scan(empty),
            f"grep -rliE '{GREP_PATTERN}'": lambda: run_grep(site),
        }, args.repeat)
        failures: list[int] = []
        if not args.no_libcst:
            libcst_rounds = max(1, args.libcst_repeat)
            # libcst takes minutes: its rounds interleave with extra scan/grep rounds so all share the load
            extra = measure({
                f"libcst parse, pool of {os.cpu_count()}": lambda: run_libcst(site, failures),
                "jsonp2cors scan": lambda: run_scan(site),
                f"grep -rliE '{GREP_PATTERN}'": lambda: run_grep(site),
            }, libcst_rounds)
            for name, runs in extra.items():
                times.setdefault(name, []).extend(runs)
        medians = show(times)
        scan_time = medians["jsonp2cors scan"]
        grep_time = medians[f"grep -rliE '{GREP_PATTERN}'"]
        ratio = scan_time / grep_time
        print(f"  scan / grep   = {ratio:6.1f}x  {verdict(ratio, TARGET_GREP_RATIO, at_most=True)}")
        paired = paired_ratio(times["jsonp2cors scan"], times[f"grep -rliE '{GREP_PATTERN}'"])
        print(f"  (per round, scan / grep of the same round: median {paired:.1f}x; on a shared machine the two"
              f" ratios differ when other load comes and goes)")
        inner = statistics.median(SCAN_INNER[site])
        print(f"  (stats.seconds, from the call of scan() to its result: median {inner:.3f} s; the rest is"
              f" interpreter start-up, CLI imports and JSON output)")
        if not args.no_libcst:
            libcst_time = medians[f"libcst parse, pool of {os.cpu_count()}"]
            ratio = libcst_time / scan_time
            print(f"  libcst / scan = {ratio:6.1f}x  {verdict(ratio, TARGET_LIBCST_RATIO, at_most=False)}"
                  f"   ({failures[0] if failures else 0} files libcst could not parse)")

        if not args.no_markup:
            print(f"\nmarkup+JS tree: {markup} ({describe(markup)})")
            report = work / "markup.json"
            run_scan(markup, report)
            print(f"scan found: {scan_summary(report)}")
            print(f"markup+JS tree, {_rounds(args.repeat)}:", flush=True)
            medians = show(measure({
                "jsonp2cors scan": lambda: run_scan(markup),
                f"grep -rliE '{GREP_PATTERN}'": lambda: run_grep(markup),
            }, args.repeat))
            ratio = medians["jsonp2cors scan"] / medians[f"grep -rliE '{GREP_PATTERN}'"]
            print(f"  scan / grep   = {ratio:6.1f}x  (no target here: on 300 files the interpreter's start-up and"
                  f" the parsers' imports are most of the time; the target is the Python tree's)")
            print(f"  (stats.seconds of the scan: median {statistics.median(SCAN_INNER[markup]):.3f} s)")
        print(f"\nafter: {load()}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    use_project_venv()
    raise SystemExit(main())
