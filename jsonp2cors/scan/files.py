"""Finding the files a scan reads: walking (.gitignore, excludes, vendored code), the byte prefilter,
decoding Python source with a clear error, and `[tool.jsonp2cors]` from the scanned repo's pyproject.toml.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import sys
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jsonp2cors.findings import ScanError
from jsonp2cors.scan.base import DEFAULT_CALLBACK_PARAMS, ScanConfig

# Directories that are never the project's own code and are always skipped.
ALWAYS_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".idea",
        ".vscode",
        ".tox",
        ".nox",
        ".eggs",
    }
)
# Third-party code: skipped unless `include_vendored`.
VENDORED_DIRS = frozenset(
    {
        "node_modules",
        "bower_components",
        "jspm_packages",
        "site-packages",
        "dist-packages",
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "thirdparty",
        "third-party",
        ".venv",
        "venv",
        "virtualenv",
        ".virtualenv",
        "env.bak",
        "venv.bak",
    }
)
MINIFIED_SUFFIXES = (".min.js", "-min.js", ".min.mjs", ".min.css", ".pack.js")
BINARY_SNIFF = 8192


class ConfigError(ValueError):
    """`[tool.jsonp2cors]` holds something invalid; the message names the key."""


@dataclass(frozen=True)
class FileEntry:
    """A file the walk found: where it is and its path relative to the scan root (`/` separators).

    `path` is the string the directory listing gave (building a `Path` per file was a third of the walk's time).
    """

    path: str
    rel: str
    size: int


@dataclass
class WalkResult:
    files: list[FileEntry] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    skipped_vendored: int = 0
    skipped_excluded: int = 0


# ----------------------------------------------------------------------------------------- ignore rules
def _glob_to_regex(glob: str) -> str:
    """Translate one gitignore-style glob (no leading `!`, no trailing `/`) to a regex body."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                # "**/" any number of directories, "/**" everything below, "**" elsewhere like "*"
                if glob.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 2 if glob.startswith("[!", i) or glob.startswith("[^", i) else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def compile_ignore(lines: Iterable[str]) -> tuple[IgnoreRule, ...]:
    """Compile gitignore lines (also used for `--exclude` globs) into rules matched against relative paths."""
    rules: list[IgnoreRule] = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _glob_to_regex(line)
        pattern = ("^" if anchored else "^(?:.*/)?") + body + "$"
        try:
            rules.append(IgnoreRule(re.compile(pattern, re.S), negated, dir_only))
        except re.error:
            continue  # a malformed pattern is ignored, as git does
    return tuple(rules)


def ignored(rules: Sequence[IgnoreRule], rel: str, is_dir: bool) -> bool | None:
    """True/False when a rule decides `rel` (last match wins), None when no rule matches."""
    verdict: bool | None = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel):
            verdict = not rule.negated
    return verdict


@dataclass(frozen=True)
class _IgnoreScope:
    """The rules of one .gitignore, matched against paths relative to its directory."""

    base: str  # directory of the .gitignore relative to the scan root ("" for the root or above it)
    rules: tuple[IgnoreRule, ...]
    prefix: str = ""  # for a .gitignore above the scan root: the root's path relative to it ("app/web")


def _is_ignored(scopes: Sequence[_IgnoreScope], rel: str, is_dir: bool) -> bool:
    verdict = False
    for scope in scopes:  # outer first, so deeper .gitignore files override
        if scope.base:
            if not rel.startswith(scope.base + "/"):
                continue
            sub = rel[len(scope.base) + 1 :]
        else:
            sub = f"{scope.prefix}/{rel}" if scope.prefix else rel
        decided = ignored(scope.rules, sub, is_dir)
        if decided is not None:
            verdict = decided
    return verdict


# ------------------------------------------------------------------------------------------------ walk
def is_minified_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(MINIFIED_SUFFIXES)


MINIFIED_MIN_BYTES = 4096
MINIFIED_AVERAGE = 500  # bytes per line on average: nobody writes code like that by hand
MINIFIED_LINE = 5000  # one line this long in a file averaging over 300 bytes a line: a bundle with a banner


def looks_minified(data: bytes) -> int | None:
    """The longest line's length when a JS/CSS file looks minified, else None.

    Minified means very long lines on average, or one enormous line in a file of long lines (a bundle that
    keeps a licence banner and a few short lines). The one rule for the scan (which counts such files as
    vendored) and for the JavaScript analyzer called on a single file (which reports it).
    """
    if len(data) < MINIFIED_MIN_BYTES:
        return None
    lines = data.count(b"\n") + 1
    average = len(data) / lines
    if average < 300:
        return None
    longest = max(map(len, data.split(b"\n")))
    if average > MINIFIED_AVERAGE or longest >= MINIFIED_LINE:
        return longest
    return None


# Hand-written JavaScript is almost never this large; bundlers (webpack, esbuild, rollup, vite) produce such files.
BUNDLE_BYTES = 1024 * 1024
_BUNDLE_NAME = re.compile(r"(?:^|[.\-_])(?:bundle|chunk)(?:[.\-_]|$)|[a-z0-9]bundle\.", re.IGNORECASE)


def looks_generated(rel: str, data: bytes) -> bool:
    """A JS/CSS file that a bundler or minifier wrote: very long lines, a bundle/chunk name, or over 1 MiB.

    Such files are skipped unless `include_vendored` (they are counted as vendored in the stats).
    """
    name = rel.rsplit("/", 1)[-1]
    return looks_minified(data) is not None or len(data) > BUNDLE_BYTES or bool(_BUNDLE_NAME.search(name))


def walk(
    paths: Sequence[Path],
    root: Path,
    config: ScanConfig,
    wanted: Callable[[str], bool],
    found: Callable[[FileEntry], None] | None = None,
) -> WalkResult:
    """Every file under `paths` that `wanted(rel)` accepts, honouring .gitignore, excludes and vendored dirs.

    Directory symlinks are followed once; a link back to one of its own ancestors is reported as a loop.
    `found(entry)`, when given, sees each file as soon as it is accepted (the scan starts work during the walk).
    """
    result = WalkResult()
    excludes = compile_ignore(config.excludes)
    root_scopes: list[_IgnoreScope] = []
    if config.respect_gitignore:
        root_scopes = _gitignore_chain(root)
    visited: set[tuple[int, int]] = set()

    def rel_of(p: Path) -> str:
        try:
            r = p.relative_to(root)
        except ValueError:
            r = Path(os.path.relpath(p, root))
        s = r.as_posix()
        return "" if s == "." else s

    for start in paths:
        rel = rel_of(start)
        try:
            st = start.stat()
        except OSError as exc:
            result.errors.append(ScanError(rel or start.name, f"unreadable: {_os_reason(exc)}"))
            continue
        if stat.S_ISREG(st.st_mode):
            if wanted(rel):
                result.files.append(FileEntry(str(start), rel, st.st_size))
                if found is not None:
                    found(result.files[-1])
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        stack: list[tuple[str, str, tuple[_IgnoreScope, ...], frozenset[tuple[int, int]]]] = []
        key = (st.st_dev, st.st_ino)
        visited.add(key)
        stack.append((str(start), rel, tuple(root_scopes), frozenset({key})))
        while stack:
            directory, drel, scopes, ancestors = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                result.errors.append(ScanError(drel or ".", f"unreadable directory: {_os_reason(exc)}"))
                continue
            names = {e.name for e in entries}
            if drel and not config.include_vendored and "pyvenv.cfg" in names:
                result.skipped_vendored += 1  # a virtual environment under an unusual name
                continue
            if config.respect_gitignore and ".gitignore" in names and drel:
                local = _read_gitignore(Path(directory, ".gitignore"))
                if local:
                    scopes = (*scopes, _IgnoreScope(drel, local))
            subdirs: list[tuple[str, str, frozenset[tuple[int, int]]]] = []
            for entry in entries:
                erel = f"{drel}/{entry.name}" if drel else entry.name
                try:
                    is_link = entry.is_symlink()
                    is_dir = entry.is_dir(follow_symlinks=True)
                    is_file = not is_dir and entry.is_file(follow_symlinks=True)
                except OSError:
                    continue
                if is_dir:
                    if entry.name in ALWAYS_SKIP_DIRS or entry.name.endswith(".egg-info"):
                        continue
                    if not config.include_vendored and entry.name in VENDORED_DIRS:
                        result.skipped_vendored += 1
                        continue
                    if excludes and ignored(excludes, erel, True):
                        result.skipped_excluded += 1
                        continue
                    if scopes and _is_ignored(scopes, erel, True):
                        continue
                    try:
                        dst = entry.stat(follow_symlinks=True)
                    except OSError as exc:
                        result.errors.append(ScanError(erel, f"unreadable directory: {_os_reason(exc)}"))
                        continue
                    dkey = (dst.st_dev, dst.st_ino)
                    if dkey in ancestors:
                        result.errors.append(ScanError(erel, "symlink loop: points back to a parent folder"))
                        continue
                    if dkey in visited:
                        continue  # already scanned through another path
                    visited.add(dkey)
                    subdirs.append((entry.path, erel, ancestors | {dkey}))
                    continue
                if not is_file:
                    if is_link and wanted(erel):
                        result.errors.append(ScanError(erel, "unreadable: broken symlink"))
                    continue
                if not wanted(erel):
                    continue
                if not config.include_vendored and is_minified_name(entry.name):
                    result.skipped_vendored += 1
                    continue
                if excludes and ignored(excludes, erel, False):
                    result.skipped_excluded += 1
                    continue
                if scopes and _is_ignored(scopes, erel, False):
                    continue
                try:
                    size = entry.stat(follow_symlinks=True).st_size
                except OSError as exc:
                    result.errors.append(ScanError(erel, f"unreadable: {_os_reason(exc)}"))
                    continue
                result.files.append(FileEntry(entry.path, erel, size))
                if found is not None:
                    found(result.files[-1])
            for path, srel, anc in reversed(subdirs):
                stack.append((path, srel, scopes, anc))
    return result


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return exc.strerror or type(exc).__name__


def _read_gitignore(path: Path) -> tuple[IgnoreRule, ...]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return compile_ignore(text.splitlines())


def _gitignore_chain(root: Path) -> list[_IgnoreScope]:
    """The .gitignore files that apply at the scan root: its own and, inside a git work tree, those of every
    folder from the repository root down to it (outer first)."""
    root = root.absolute()
    chain = [root]
    if not (root / ".git").exists():
        for parent in root.parents:
            chain.append(parent)
            if (parent / ".git").exists():
                break
        else:
            chain = [root]  # not in a git work tree: only the root's own file
    scopes: list[_IgnoreScope] = []
    for folder in reversed(chain):
        rules = _read_gitignore(folder / ".gitignore")
        if rules:
            prefix = root.relative_to(folder).as_posix()
            scopes.append(_IgnoreScope("", rules, "" if prefix == "." else prefix))
    return scopes


# -------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class ReadOutcome:
    data: bytes | None
    error: str | None = None


def read_file(entry: FileEntry, max_bytes: int) -> ReadOutcome:
    """The file's bytes, or a one-line reason it cannot be scanned (huge, binary, unreadable)."""
    if entry.size > max_bytes:
        return ReadOutcome(
            None, f"skipped: huge file ({_mb(entry.size)} > {_mb(max_bytes)} limit), probably generated"
        )
    try:
        data = _read_upto(entry.path, entry.size, max_bytes + 1)
    except OSError as exc:
        return ReadOutcome(None, f"unreadable: {_os_reason(exc)}")
    if len(data) > max_bytes:
        return ReadOutcome(None, f"skipped: huge file (> {_mb(max_bytes)} limit), probably generated")
    if b"\x00" in data[:BINARY_SNIFF] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        suffix = os.path.splitext(entry.path)[1] or "text"
        return ReadOutcome(None, f"skipped: binary file with a {suffix} name")
    return ReadOutcome(data)


_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_upto(path: str, expected: int, limit: int) -> bytes:
    """The file's bytes, at most `limit` of them.

    Plain `os.read` calls sized by the walk's `stat` (one for the bytes, one to see the end): half the cost of
    `open(...).read()`, whose buffered file object is most of the time spent on a small file. A file that grew
    or shrank since the walk is read to its end (or to `limit`) all the same."""
    fd = os.open(path, _O_READ)
    try:
        parts = [os.read(fd, min(max(expected, 0) + 1, limit))]
        total = len(parts[0])
        while total < limit and parts[-1]:
            parts.append(os.read(fd, min(1 << 20, limit - total)))
            total += len(parts[-1])
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 2 and not parts[1] else b"".join(parts)


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB"


def prefilter(data: bytes, needles: Sequence[bytes]) -> bool:
    """True when the lower-cased bytes contain a needle (plain `in`: far faster than a case-folding regex)."""
    if not needles:
        return True
    low = data.lower()
    return any(n in low for n in needles)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    error: str | None = None  # one-line reason when the bytes had to be repaired or the declaration is bad


def decode_python(data: bytes) -> Decoded:
    """Decode Python source as the interpreter would: BOM, then a PEP 263 coding cookie, else UTF-8.

    Never raises: an unknown declared encoding or undecodable bytes yield text decoded with replacement
    characters plus a one-line `error`.
    """
    error: str | None = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        msg = str(exc)
        m = re.search(r"unknown encoding(?: for [^:]*)?: (\S+)", msg)
        if m:
            error = f"unknown source encoding {m.group(1)!r} declared (PEP 263); read as UTF-8"
        elif "BOM" in msg or "bom" in msg:
            error = "encoding declaration conflicts with the UTF-8 BOM (PEP 263); read as UTF-8"
        else:
            error = f"bad encoding declaration (PEP 263): {msg.splitlines()[0] if msg else 'invalid'}"
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = None
        if isinstance(exc, UnicodeDecodeError):
            line = data.count(b"\n", 0, exc.start) + 1
        where = f" at line {line}" if line else ""
        if error is None:
            error = f"undecodable bytes{where}: not valid {encoding} (declare the encoding, PEP 263)"
        text = data.decode(encoding if not isinstance(exc, LookupError) else "utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text, encoding, error)


def decode_text(data: bytes) -> Decoded:
    """Decode markup/JS: BOM (UTF-8/16), else UTF-8, else Latin-1 with a one-line note."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return Decoded(data.decode(enc), enc)
            except UnicodeDecodeError:
                break
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        note = f"undecodable bytes at line {line}: not valid utf-8; read as latin-1"
        return Decoded(data.decode("latin-1"), "latin-1", note)


# --------------------------------------------------------------------------------------------- config
_CONFIG_KEYS = {
    "exclude",
    "callback-params",
    "helpers",
    "include-vendored",
    "respect-gitignore",
    "max-file-bytes",
    "jobs",
}


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with open(path, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except OSError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.jsonp2cors] {key}: expected a list of strings, got {value!r}")
    return tuple(value)


def load_config(root: Path, **cli_overrides: Any) -> ScanConfig:
    """ScanConfig from `[tool.jsonp2cors]` in `root/pyproject.toml`, then the CLI's options on top.

    Keys: `exclude` (globs, gitignore syntax), `callback-params` (added to the defaults), `helpers`
    (names of project JSONP helpers/decorators), `include-vendored`, `respect-gitignore`, `max-file-bytes`,
    `jobs`. List options given on the command line are added to the file's; scalars replace them.
    Unknown `cli_overrides` whose value is None are ignored.
    """
    config = ScanConfig()
    root = Path(root)
    table: dict[str, Any] = {}
    if root.is_file():
        root = root.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _load_toml(pyproject)
        tool = data.get("tool", {})
        raw = tool.get("jsonp2cors", {}) if isinstance(tool, dict) else {}
        if not isinstance(raw, dict):
            raise ConfigError("[tool.jsonp2cors] must be a table")
        table = raw
    unknown = sorted(set(table) - _CONFIG_KEYS)
    if unknown:
        known = ", ".join(sorted(_CONFIG_KEYS))
        raise ConfigError(f"[tool.jsonp2cors] {unknown[0]}: unknown key (known: {known})")
    changes: dict[str, Any] = {}
    if "exclude" in table:
        changes["excludes"] = _str_list(table["exclude"], "exclude")
    if "callback-params" in table:
        extra = _str_list(table["callback-params"], "callback-params")
        changes["callback_params"] = tuple(dict.fromkeys((*DEFAULT_CALLBACK_PARAMS, *extra)))
    if "helpers" in table:
        changes["helper_names"] = _str_list(table["helpers"], "helpers")
    for key, attr in (("include-vendored", "include_vendored"), ("respect-gitignore", "respect_gitignore")):
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(f"[tool.jsonp2cors] {key}: expected true or false, got {table[key]!r}")
            changes[attr] = table[key]
    for key, attr in (("max-file-bytes", "max_file_bytes"), ("jobs", "jobs")):
        if key in table:
            v = table[key]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"[tool.jsonp2cors] {key}: expected a non-negative integer, got {v!r}")
            changes[attr] = v
    config = replace(config, **changes)
    over: dict[str, Any] = {}
    for key, value in cli_overrides.items():
        if value is None:
            continue
        if key in ("exclude", "excludes"):
            over["excludes"] = tuple(dict.fromkeys((*config.excludes, *_str_list(list(value), "--exclude"))))
        elif key in ("callback_params", "callback-params"):
            over["callback_params"] = tuple(dict.fromkeys((*config.callback_params, *value)))
        elif key in ("helpers", "helper_names"):
            over["helper_names"] = tuple(dict.fromkeys((*config.helper_names, *value)))
        elif key in ("include_vendored", "respect_gitignore", "max_file_bytes", "jobs"):
            over[key] = value
        else:
            raise TypeError(f"load_config() got an unexpected option {key!r}")
    return replace(config, **over)
