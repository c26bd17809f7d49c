"""Lint a `cors-policy.toml`: findings with codes and `path:line:col` into the TOML, linter-style.

Errors make the policy unsafe or unusable; warnings are probably not what the author meant.
`# noqa` or `# noqa: CP101` at the end of a line silences findings on that line.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from jsonp2cors.policy import Policy, PolicyError
from jsonp2cors.policy.origin import Origin, OriginError, OriginPattern, parse_allow_entry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = ["RULES", "LintFinding", "lint_file", "lint_text", "render_json", "render_text"]

Severity = Literal["error", "warning"]

# Browsers clamp Access-Control-Max-Age: Chromium to 7200 s, Firefox to 86400 s.
CHROMIUM_MAX_AGE = 7200
FIREFOX_MAX_AGE = 86400

RULES: dict[str, tuple[Severity, str]] = {
    "CP001": ("error", "'*' origin together with credentials"),
    "CP002": ("error", "the 'null' origin is allowed"),
    "CP003": ("error", "allowlist entry looks like a regular expression"),
    "CP004": ("error", "wildcard pattern over a public suffix"),
    "CP005": ("error", "allowlist entry has a path, query, fragment or userinfo"),
    "CP006": ("error", "allowlist entry is not a valid origin or pattern"),
    "CP010": ("error", "the file is not a valid policy (TOML syntax, unknown key, wrong type)"),
    "CP101": ("warning", "plain http: origin next to https: origins"),
    "CP102": ("warning", "max_age above what browsers honour"),
    "CP103": ("warning", "'*' in allow_headers, expose_headers or allow_methods together with credentials"),
    "CP104": ("warning", "a method that needs no preflight is listed as if it did"),
    "CP105": ("warning", "the JSONP sunset date is in the past"),
    "CP106": ("warning", "duplicate entry"),
    "CP107": ("warning", "the JSONP deprecation date is after the sunset date"),
}

_ORIGIN_KIND_CODES = {
    "regex": "CP003",
    "public-suffix": "CP004",
    "path": "CP005",
    "query": "CP005",
    "fragment": "CP005",
    "userinfo": "CP005",
    "null": "CP002",
}
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_NOQA_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_TOML_POS_RE = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True, order=True)
class LintFinding:
    """One problem in a policy file."""

    line: int
    column: int
    code: str
    message: str
    key: str = ""

    @property
    def severity(self) -> Severity:
        return RULES[self.code][0]


# ------------------------------------------------------------------------------ locating keys in TOML

Table = tuple[str, int]  # ("cors", 0), ("jsonp", 0), ("route", i), ("", 0) for the root


class _Locator:
    """Finds the line/column of a key, or of a string item inside an array value, in TOML source text."""

    _HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\-\"']+)\s*\]\]?")
    _KEY = re.compile(r"\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.keys: dict[tuple[Table, str], tuple[int, int]] = {}
        self.items: dict[tuple[Table, str], list[tuple[str, int, int]]] = {}
        self.headers: dict[Table, int] = {}
        self._scan()

    def _scan(self) -> None:
        table: Table = ("", 0)
        routes = -1
        current_array: tuple[Table, str] | None = None
        depth = 0
        for number, line in enumerate(self.lines, start=1):
            if current_array is None:
                header = self._HEADER.match(line)
                if header and not self._KEY.match(line):
                    name = header.group(2).strip("\"'")
                    if header.group(1) == "[[" and name == "route":
                        routes += 1
                        table = ("route", routes)
                    else:
                        table = (name, 0)
                    self.headers.setdefault(table, number)
                    continue
                key = self._KEY.match(line)
                if not key:
                    continue
                name = key.group(1).strip("\"'")
                self.keys.setdefault((table, name), (number, key.start(1) + 1))
                start = key.end()
                current_array = (table, name)
                depth = 0
                depth = self._strings(line, start, number, current_array, depth)
                if depth <= 0:
                    current_array = None
            else:
                depth = self._strings(line, 0, number, current_array, depth)
                if depth <= 0:
                    current_array = None

    def _strings(self, line: str, start: int, number: int, where: tuple[Table, str], depth: int) -> int:
        """Record string literals from `start`; track [ ] nesting; return the depth after the line."""
        i = start
        saw_bracket = depth > 0
        while i < len(line):
            ch = line[i]
            if ch == "#":
                break
            if ch == "[":
                depth += 1
                saw_bracket = True
            elif ch == "]":
                depth -= 1
            elif ch in "\"'":
                end = i + 1
                while end < len(line) and line[end] != ch:
                    end += 2 if ch == '"' and line[end] == "\\" else 1
                literal = line[i : end + 1]
                try:
                    value = json.loads(literal) if ch == '"' else literal[1:-1]
                except ValueError:
                    value = literal[1:-1]
                self.items.setdefault(where, []).append((str(value), number, i + 1))
                i = end
            i += 1
        return depth if saw_bracket else 0

    def key(self, table: Table, name: str) -> tuple[int, int]:
        found = self.keys.get((table, name))
        if found:
            return found
        return self.headers.get(table, 1), 1

    def item(self, table: Table, name: str, value: str, occurrence: int = 0) -> tuple[int, int]:
        hits = [(ln, col) for v, ln, col in self.items.get((table, name), []) if v == value]
        if len(hits) > occurrence:
            return hits[occurrence]
        return self.key(table, name)

    def noqa(self, line: int, code: str) -> bool:
        if not 1 <= line <= len(self.lines):
            return False
        text = self.lines[line - 1]
        if "#" not in text:
            return False
        m = _NOQA_RE.search(text[text.index("#"):])
        if m is None:
            return False
        codes = m.group("codes")
        return codes is None or code in {c.strip().upper() for c in codes.split(",")}


# --------------------------------------------------------------------------------------------- rules


def _table_key(table: Table) -> str:
    return f"route[{table[1]}]" if table[0] == "route" else table[0]


class _Linter:
    def __init__(self, text: str, today: datetime.date) -> None:
        self.loc = _Locator(text)
        self.today = today
        self.findings: list[LintFinding] = []

    def add(self, code: str, message: str, pos: tuple[int, int], key: str) -> None:
        if not self.loc.noqa(pos[0], code):
            self.findings.append(LintFinding(pos[0], pos[1], code, message, key))

    def run(self, data: Mapping[str, Any]) -> None:
        cors = data.get("cors") if isinstance(data.get("cors"), Mapping) else {}
        assert isinstance(cors, Mapping)
        raw_routes = data.get("route") if isinstance(data.get("route"), list) else []
        assert isinstance(raw_routes, list)
        tables: list[tuple[Table, Mapping[str, Any]]] = [(("cors", 0), cors)]
        tables += [(("route", i), r) for i, r in enumerate(raw_routes) if isinstance(r, Mapping)]
        bad: dict[Table, set[str]] = {}
        for table, values in tables:
            bad[table] = self.check_origins(table, values.get("allow_origins"))
            self.check_methods(table, values.get("allow_methods"))
            self.check_max_age(table, values.get("max_age"))
            for name in ("allow_headers", "expose_headers"):
                self.check_duplicates(table, name, values.get(name), fold=True)
        if cors.get("allow_null") is True:
            self.add("CP002", "allow_null = true lets any sandboxed iframe, file: page or data: URL in "
                     "through the 'null' origin", self.loc.key(("cors", 0), "allow_null"), "cors.allow_null")
        for table, values in tables:
            self.check_effective(table, values, cors, bad)
        self.check_jsonp(data.get("jsonp"))

    def check_origins(self, table: Table, value: object) -> set[str]:
        """Per-entry checks; returns the entries that are invalid (so later checks skip them)."""
        bad: set[str] = set()
        if not isinstance(value, list):
            return bad
        seen: dict[str, int] = {}
        key = f"{_table_key(table)}.allow_origins"
        for entry in value:
            if not isinstance(entry, str):
                continue
            occurrence = seen.get(entry, 0)
            seen[entry] = occurrence + 1
            pos = self.loc.item(table, "allow_origins", entry, occurrence)
            if occurrence:
                self.add("CP106", f"{entry!r} is listed more than once", pos, key)
                continue
            if entry == "*":
                continue
            try:
                parse_allow_entry(entry)
            except OriginError as exc:
                bad.add(entry)
                self.add(_ORIGIN_KIND_CODES.get(exc.kind, "CP006"), str(exc), pos, key)
        return bad

    def check_methods(self, table: Table, value: object) -> None:
        if not isinstance(value, list):
            return
        key = f"{_table_key(table)}.allow_methods"
        self.check_duplicates(table, "allow_methods", value, fold=True)
        for method in value:
            if not isinstance(method, str):
                continue
            pos = self.loc.item(table, "allow_methods", method)
            upper = method.upper()
            if upper == "POST":
                self.add("CP104", "POST is CORS-safelisted: a cross-origin form or text/plain POST arrives "
                         "without a preflight whatever allow_methods says; the endpoint must reject such "
                         "bodies itself (CSRF)", pos, key)
            elif upper == "OPTIONS":
                self.add("CP104", "OPTIONS is the preflight itself and never needs to be allowed", pos, key)

    def check_duplicates(self, table: Table, name: str, value: object, *, fold: bool) -> None:
        if not isinstance(value, list):
            return
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, str):
                continue
            norm = item.lower() if fold else item
            if norm in seen:
                self.add("CP106", f"{item!r} is listed more than once in {name}",
                         self.loc.item(table, name, item, 1), f"{_table_key(table)}.{name}")
            seen.add(norm)

    def check_max_age(self, table: Table, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= CHROMIUM_MAX_AGE:
            return
        if value > FIREFOX_MAX_AGE:
            why = (f"above what any browser honours: Chromium caps it at {CHROMIUM_MAX_AGE} s, "
                   f"Firefox at {FIREFOX_MAX_AGE} s")
        else:
            why = f"above Chromium's cap of {CHROMIUM_MAX_AGE} s (Firefox caps at {FIREFOX_MAX_AGE} s)"
        self.add("CP102", f"max_age = {value} is {why}", self.loc.key(table, "max_age"),
                 f"{_table_key(table)}.max_age")

    def check_effective(self, table: Table, values: Mapping[str, Any], cors: Mapping[str, Any],
                        bad: Mapping[Table, set[str]]) -> None:
        """Rules on the settings that apply in a section: its own values, else the [cors] ones.

        A combination is reported once, in the section that creates it.
        """
        def pick(name: str) -> tuple[Table, Any]:
            if name in values:
                return table, values[name]
            return ("cors", 0), cors.get(name)

        cred_table, credentials = pick("allow_credentials")
        origins_table, origins = pick("allow_origins")
        if isinstance(origins, list):
            self.check_http_beside_https(table, origins_table, origins, bad.get(origins_table, set()))
        if credentials is not True:
            return
        where = f" (route {values.get('path')!r})" if table[0] == "route" else ""

        def position(src: Table, name: str) -> tuple[int, int] | None:
            if src == table:
                return self.loc.item(src, name, "*")
            if cred_table == table:
                return self.loc.key(table, "allow_credentials")
            return None  # both inherited: reported for [cors]

        if isinstance(origins, list) and "*" in origins:
            pos = position(origins_table, "allow_origins")
            if pos is not None:
                self.add("CP001", f"'*' cannot be combined with allow_credentials = true{where}: browsers "
                         "refuse such responses; list the origins instead", pos,
                         f"{_table_key(table)}.allow_origins")
        for name in ("allow_headers", "expose_headers", "allow_methods"):
            src, items = pick(name)
            if isinstance(items, list) and "*" in items:
                pos = position(src, name)
                if pos is not None:
                    self.add("CP103", f"'*' in {name} with credentials{where} is taken literally by "
                             "browsers (a name '*'), not as a wildcard; list the names", pos,
                             f"{_table_key(table)}.{name}")

    def check_http_beside_https(self, table: Table, origins_table: Table, origins: list[Any],
                                bad: set[str]) -> None:
        if origins_table != table:
            return  # reported where the list is written
        parsed: list[tuple[str, Origin | OriginPattern]] = []
        for entry in origins:
            if isinstance(entry, str) and entry not in bad and entry != "*":
                try:
                    parsed.append((entry, parse_allow_entry(entry)))
                except OriginError:
                    continue
        if not any(p.scheme == "https" for _, p in parsed):
            return
        for entry, p in parsed:
            host = p.host if isinstance(p, Origin) else p.domain
            if p.scheme == "http" and host not in _LOOPBACK_HOSTS:
                self.add("CP101", f"{entry!r} is plain http next to https origins: anyone on the network "
                         "path can inject a page on it and read responses meant for the https site",
                         self.loc.item(table, "allow_origins", entry), f"{_table_key(table)}.allow_origins")

    def check_jsonp(self, jsonp: object) -> None:
        if not isinstance(jsonp, Mapping):
            return
        self.check_duplicates(("jsonp", 0), "callback_params", jsonp.get("callback_params"), fold=False)
        day = _as_date(jsonp.get("sunset"))
        deprecation = _as_date(jsonp.get("deprecation"))
        if day is not None and deprecation is not None and deprecation > day:
            self.add("CP107", f"deprecation {deprecation.isoformat()} comes after the sunset {day.isoformat()}: "
                     "callers get no warning before JSONP stops", self.loc.key(("jsonp", 0), "deprecation"),
                     "jsonp.deprecation")
        if day is not None and day < self.today:
            self.add("CP105", f"sunset {day.isoformat()} is in the past: every JSONP request already gets "
                     "410 Gone; move the date or remove the JSONP endpoints",
                     self.loc.key(("jsonp", 0), "sunset"), "jsonp.sunset")


def _as_date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _structure(text: str, data: Mapping[str, Any], linter: _Linter, known_bad: set[str]) -> None:
    """Load the file as a Policy (without the entries already reported) to catch key and type errors."""
    def clean(values: Any) -> Any:
        if isinstance(values, Mapping):
            out = dict(values)
            if isinstance(out.get("allow_origins"), list):
                out["allow_origins"] = [o for o in out["allow_origins"]
                                        if o not in known_bad and not (o == "*" and linter_has("CP001"))]
            return out
        return values

    def linter_has(code: str) -> bool:
        return any(f.code == code for f in linter.findings)

    cleaned = dict(data)
    if "cors" in cleaned:
        cleaned["cors"] = clean(cleaned["cors"])
    if isinstance(cleaned.get("route"), list):
        cleaned["route"] = [clean(r) for r in cleaned["route"]]
    try:
        Policy.from_dict(cleaned)
    except PolicyError as exc:
        if "'*' cannot be combined" in exc.detail and linter_has("CP001"):
            return
        linter.add("CP010", str(exc), _key_position(linter.loc, exc.key), exc.key)


def _key_position(loc: _Locator, key: str) -> tuple[int, int]:
    m = re.match(r"(route)\[(\d+)\]\.?([a-z_]*)|(cors|jsonp)\.?([a-z_]*)", key)
    if not m:
        return 1, 1
    if m.group(1):
        return loc.key(("route", int(m.group(2))), m.group(3) or "path")
    return loc.key((m.group(4), 0), m.group(5) or "")


def lint_text(text: str, *, today: datetime.date | None = None) -> list[LintFinding]:
    """Lint policy TOML source; findings are sorted by position."""
    linter = _Linter(text, today or datetime.date.today())
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS_RE.search(str(exc))
        pos = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        return [LintFinding(pos[0], pos[1], "CP010", f"not valid TOML: {exc}")]
    linter.run(data)
    known_bad: set[str] = set()
    routes = data.get("route") if isinstance(data.get("route"), list) else []
    for values in [data.get("cors"), *routes]:
        if isinstance(values, Mapping) and isinstance(values.get("allow_origins"), list):
            for entry in values["allow_origins"]:
                if isinstance(entry, str) and entry != "*":
                    try:
                        parse_allow_entry(entry)
                    except OriginError:
                        known_bad.add(entry)
    _structure(text, data, linter, known_bad)
    return sorted(set(linter.findings))


def lint_file(path: str | Path, *, today: datetime.date | None = None) -> list[LintFinding]:
    """Lint a policy file; an unreadable file is one CP010 finding."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [LintFinding(1, 1, "CP010", f"cannot read the file: {exc}")]
    return lint_text(text, today=today)


def render_text(path: str, findings: list[LintFinding]) -> Iterator[str]:
    for f in findings:
        yield f"{path}:{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}"
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if findings:
        yield f"Found {errors} error(s) and {warnings} warning(s)."
    else:
        yield "All checks passed."


def render_json(path: str, findings: list[LintFinding]) -> str:
    items: list[dict[str, Any]] = []
    for f in findings:
        item = asdict(f)
        item["severity"] = f.severity
        item["file"] = path
        items.append(item)
    errors = sum(f.severity == "error" for f in findings)
    return json.dumps({"file": path, "findings": items, "errors": errors,
                       "warnings": len(findings) - errors}, indent=2)

