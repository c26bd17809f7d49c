"""Web origins as browsers serialise them, allowlist patterns, and the one matching function.

Everything that asks "is this origin allowed?" (shim, exporters, lint, tests) uses `OriginMatcher`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import idna

__all__ = [
    "DEFAULT_PORTS",
    "NULL_ORIGIN",
    "Origin",
    "OriginError",
    "OriginMatcher",
    "OriginPattern",
    "is_public_suffix",
    "parse_allow_entry",
]

DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Wildcard subdomain patterns only make sense for web schemes.
PATTERN_SCHEMES = frozenset({"http", "https"})

ErrorKind = Literal[
    "syntax", "path", "query", "fragment", "userinfo", "regex", "wildcard", "public-suffix", "null", "any",
    "host", "port", "scheme", "whitespace",
]


class OriginError(ValueError):
    """An origin or allowlist entry that is not acceptable; the message names the entry."""

    def __init__(self, entry: str, reason: str, kind: ErrorKind = "syntax") -> None:
        super().__init__(f"{entry!r}: {reason}")
        self.entry = entry
        self.reason = reason
        self.kind: ErrorKind = kind


_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.\-]*\Z")
_LABEL_RE = re.compile(r"[a-z0-9_\-]{1,63}\Z")
# Characters that never appear in an origin or a pattern but do in regular expressions.
_REGEX_CHARS = frozenset("^$\\(){}|+")
_DOT_STAR_RE = re.compile(r"\.[*+?](?!\.)")
# The serialised form browsers put in the Origin header (ASCII, lower case, no default port, no path).
CANONICAL_ORIGIN = (
    r"([a-z][a-z0-9+.\-]*)://([a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*\.?|\[[0-9a-f:.]+\])(?::(0|[1-9][0-9]{0,4}))?"
)
_CANONICAL_RE = re.compile(CANONICAL_ORIGIN)
_LABELS_RE = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*")


@dataclass(frozen=True)
class Origin:
    """A serialised origin (scheme, host, port), or the opaque origin `null` (see `NULL_ORIGIN`).

    `host` is lower case ASCII (IDNA hosts in punycode, IPv6 in brackets); `port` is None for the scheme's
    default port, which browsers elide.
    """

    scheme: str
    host: str
    port: int | None = None

    @property
    def is_null(self) -> bool:
        return self.scheme == "null" and not self.host

    @property
    def is_ip(self) -> bool:
        return _is_ip_host(self.host)

    def __str__(self) -> str:
        if self.is_null:
            return "null"
        if self.port is None:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def effective_port(self) -> int | None:
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme)

    @classmethod
    def parse(cls, text: str) -> Origin:
        """Parse and normalise an origin; raise `OriginError` for anything that is not one.

        Accepts what a person writes (`HTTPS://Bücher.Example:443`) and returns the browser form
        (`https://xn--bcher-kva.example`). Paths (even a lone `/`), queries, fragments, userinfo and
        wildcards are errors.
        """
        if not isinstance(text, str):
            raise OriginError(repr(text), "expected a string", "syntax")
        if text == "null":
            return NULL_ORIGIN
        scheme, host, port = _split(text)
        return cls(scheme, _normalise_host(text, host), port)


NULL_ORIGIN = Origin("null", "", None)


@dataclass(frozen=True)
class OriginPattern:
    """`scheme://*.domain[:port]`: one or more labels before `domain`, on exactly that scheme and port."""

    scheme: str
    domain: str
    port: int | None = None

    def __str__(self) -> str:
        base = f"{self.scheme}://*.{self.domain}"
        return base if self.port is None else f"{base}:{self.port}"

    def matches(self, origin: Origin) -> bool:
        return (
            origin.scheme == self.scheme
            and origin.port == self.port
            and origin.host.endswith("." + self.domain)
        )

    @classmethod
    def parse(cls, text: str) -> OriginPattern:
        """Parse `scheme://*.domain[:port]`; the domain must not be a public suffix."""
        _reject_regex(text)
        scheme, authority_host, port = _split(text, allow_star=True)
        if scheme not in PATTERN_SCHEMES:
            raise OriginError(text, f"patterns are only for http and https, not {scheme!r}", "scheme")
        if not authority_host.startswith("*."):
            raise OriginError(
                text,
                "'*' must be the whole leftmost label, as in 'https://*.example.com'",
                "wildcard",
            )
        domain_text = authority_host[2:]
        if "*" in domain_text:
            raise OriginError(text, "only one '*', as the whole leftmost label, is allowed", "wildcard")
        domain = _normalise_host(text, domain_text)
        if domain.endswith("."):
            raise OriginError(text, "the domain has a trailing dot; write it without one", "host")
        if _is_ip_host(domain) or domain.rsplit(".", 1)[-1].isdigit():
            raise OriginError(text, "a wildcard cannot stand in front of an IP address", "host")
        if is_public_suffix(domain):
            raise OriginError(
                text,
                f"{domain!r} is a public suffix: the pattern would allow sites of unrelated owners",
                "public-suffix",
            )
        return cls(scheme, domain, port)


def parse_allow_entry(text: str) -> Origin | OriginPattern:
    """Validate one allowlist entry: an exact origin or a `scheme://*.domain[:port]` pattern.

    `*` (any origin) and `null` are not entries of this kind: `*` is handled by `OriginMatcher` and the
    policy, `null` by `allow_null`. Both raise `OriginError` here with a message saying so.
    """
    if not isinstance(text, str):
        raise OriginError(repr(text), "expected a string", "syntax")
    if text == "*":
        raise OriginError(text, "'*' allows any origin; it is not a single origin or pattern", "any")
    if text.lower() == "null":
        raise OriginError(
            text,
            "the 'null' origin is shared by sandboxed iframes, file: pages and data: URLs of any site; "
            "set allow_null = true only if you really mean that",
            "null",
        )
    _reject_regex(text)
    if "*" in text:
        return OriginPattern.parse(text)
    origin = Origin.parse(text)
    if origin.host.endswith("."):
        raise OriginError(text, "the host has a trailing dot; browsers treat that as a different origin",
                          "host")
    return origin


class OriginMatcher:
    """Answers "is this request Origin allowed?" for an allowlist; the one matching function.

    `matches` takes the raw `Origin` header value and never raises. `*` allows every serialised origin
    but not the opaque `null`, which only `allow_null` lets in (never by default). Browsers always send the
    canonical serialisation (lower case, punycode, no default port), so anything else is refused rather
    than normalised: `HTTPS://EXAMPLE.COM`, `https://example.com:443` or a Unicode host are not what a
    browser sends and never match.
    """

    __slots__ = ("_exact", "_patterns", "_slow", "allow_null", "allows_any", "entries", "patterns")

    def __init__(self, entries: Iterable[str], *, allow_null: bool = False) -> None:
        exact: list[str] = []
        patterns: list[OriginPattern] = []
        allows_any = False
        normalised: list[str] = []
        for entry in entries:
            if entry == "*":
                allows_any = True
                normalised.append("*")
                continue
            parsed = parse_allow_entry(entry)
            text = str(parsed)
            if text in normalised:
                continue
            normalised.append(text)
            if isinstance(parsed, OriginPattern):
                patterns.append(parsed)
            else:
                exact.append(text)
        if allow_null:
            exact.append("null")
        self.entries: tuple[str, ...] = tuple(normalised)
        self.allows_any: bool = allows_any
        self.allow_null: bool = allow_null
        self.patterns: tuple[OriginPattern, ...] = tuple(patterns)
        self._exact: frozenset[str] = frozenset(exact)
        # Per pattern: the text an allowed origin starts with (`https://`), ends with (`.domain[:port]`, no
        # default port since browsers never write it) and, in between, one or more host labels.
        self._patterns: tuple[tuple[str, str], ...] = tuple(
            (f"{p.scheme}://", f".{p.domain}" + ("" if p.port is None else f":{p.port}")) for p in patterns
        )
        self._slow = allows_any or bool(patterns)

    def matches(self, origin: str) -> bool:
        """True when the raw request Origin value is allowed."""
        if origin in self._exact:
            return True
        if not self._slow or not isinstance(origin, str):
            return False
        for head, tail in self._patterns:
            if (origin.endswith(tail) and origin.startswith(head)
                    and _LABELS_RE.fullmatch(origin, len(head), len(origin) - len(tail)) is not None):
                return True
        if not self.allows_any:
            return False
        m = _CANONICAL_RE.fullmatch(origin)
        if m is None:
            return False
        port_text = m.group(3)
        if port_text is not None:
            port = int(port_text)
            if port > 65535 or port == DEFAULT_PORTS.get(m.group(1)):
                return False
        return True

    __call__ = matches

    @property
    def exact(self) -> frozenset[str]:
        """The serialised exact origins (with "null" when allow_null)."""
        return self._exact

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OriginMatcher):
            return NotImplemented
        mine = (self._exact, self.patterns, self.allows_any)
        return mine == (other._exact, other.patterns, other.allows_any)

    def __hash__(self) -> int:
        return hash((self._exact, self.patterns, self.allows_any))

    def __repr__(self) -> str:
        return f"OriginMatcher({list(self.entries)!r}, allow_null={self.allow_null})"


# --------------------------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    # The bundled list; unknown top-level labels count as public (`*.example`, `*.localhost`).
    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """True when `domain` (ASCII, punycode) is a public suffix such as `com`, `co.uk` or `github.io`."""
    psl = _psl()
    return bool(psl.is_public(domain.rstrip(".")))  # type: ignore[attr-defined]


def _reject_regex(text: str) -> None:
    after = text.split("://", 1)[-1]
    looks_regex = (
        any(c in _REGEX_CHARS for c in text)
        or _DOT_STAR_RE.search(text) is not None
        or "\\." in text
        or ("[" in after and not after.startswith("["))
        or (after.startswith("[") and "]" not in after)
    )
    if looks_regex:
        raise OriginError(
            text,
            "looks like a regular expression; write exact origins or 'https://*.example.com' patterns",
            "regex",
        )


def _split(text: str, *, allow_star: bool = False) -> tuple[str, str, int | None]:
    """Split `scheme://host[:port]` into lower-case scheme, raw host and port (None when default)."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise OriginError(text, "contains whitespace or control characters", "whitespace")
    scheme_text, sep, rest = text.partition("://")
    if not sep:
        hint = f"; did you mean 'https://{text}'?" if "." in text and "/" not in text else ""
        raise OriginError(text, f"expected scheme://host[:port]{hint}", "syntax")
    scheme = scheme_text.lower()
    if "*" in scheme:
        raise OriginError(text, "'*' is not allowed in the scheme", "wildcard")
    if not _SCHEME_RE.match(scheme):
        raise OriginError(text, f"{scheme_text!r} is not a URL scheme", "scheme")
    if scheme == "file":
        raise OriginError(text, "file: pages have the opaque origin 'null', not a file:// origin", "scheme")
    cut = len(rest)
    for ch in "/?#":
        i = rest.find(ch)
        if i != -1 and i < cut:
            cut = i
    authority, remainder = rest[:cut], rest[cut:]
    if remainder:
        if remainder[0] == "?":
            raise OriginError(text, "an origin has no query string", "query")
        if remainder[0] == "#":
            raise OriginError(text, "an origin has no fragment", "fragment")
        if remainder == "/":
            raise OriginError(text, "an origin has no path, not even '/': drop the trailing slash", "path")
        raise OriginError(text, f"an origin has no path ({remainder!r}); write scheme://host[:port]", "path")
    if "@" in authority:
        raise OriginError(text, "an origin has no user name or password", "userinfo")
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            raise OriginError(text, "unterminated IPv6 address", "host")
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise OriginError(text, "unexpected text after the IPv6 address", "host")
        port_text: str | None = after[1:] if after else None
    else:
        host, colon, port_part = authority.partition(":")
        port_text = port_part if colon else None
        if port_text is not None and ":" in port_text:
            raise OriginError(text, "more than one ':' in the host (IPv6 addresses go in [brackets])", "host")
    if not host:
        raise OriginError(text, "the host is empty", "host")
    if "*" in host and not allow_star:
        raise OriginError(text, "'*' is only allowed as the whole leftmost label of a pattern", "wildcard")
    port: int | None = None
    if port_text is not None:
        if "*" in port_text:
            raise OriginError(text, "a port cannot be a wildcard; list each port", "wildcard")
        if not port_text.isascii() or not port_text.isdigit():
            raise OriginError(text, f"the port {port_text!r} is not a number", "port")
        port = int(port_text)
        if port > 65535:
            raise OriginError(text, f"the port {port} is above 65535", "port")
        if port == DEFAULT_PORTS.get(scheme):
            port = None
    return scheme, host, port


def _is_ip_host(host: str) -> bool:
    if host.startswith("["):
        return True
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _normalise_host(entry: str, host: str) -> str:
    """Lower-case ASCII host: IDNA to punycode (UTS #46 as browsers do), canonical IP addresses."""
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise OriginError(entry, "IPv6 zone identifiers are not part of an origin", "host")
        try:
            return f"[{ipaddress.IPv6Address(inner).compressed}]"
        except ValueError as exc:
            raise OriginError(entry, f"{inner!r} is not an IPv6 address", "host") from exc
    if "%" in host:
        raise OriginError(entry, "percent-escapes are not allowed in a host", "host")
    if host.isascii():
        lowered = host.lower()
    else:
        trailing = "." if host.endswith(".") else ""
        try:
            lowered = idna.encode(host.rstrip("."), uts46=True, transitional=False).decode("ascii") + trailing
        except (idna.IDNAError, UnicodeError) as exc:
            raise OriginError(entry, f"the host is not a valid internationalised domain name ({exc})",
                              "host") from exc
    body = lowered[:-1] if lowered.endswith(".") else lowered
    if not body:
        raise OriginError(entry, "the host is empty", "host")
    if len(body) > 253:
        raise OriginError(entry, "the host is longer than 253 characters", "host")
    labels = body.split(".")
    last = labels[-1]
    if last.isdigit() or last.startswith("0x"):
        try:
            return str(ipaddress.IPv4Address(body))  # a trailing dot is dropped, as WHATWG URL does
        except ValueError as exc:
            raise OriginError(entry, f"{body!r} is not a canonical IPv4 address (write a.b.c.d)",
                              "host") from exc
    for label in labels:
        if not label:
            raise OriginError(entry, "the host has an empty label ('..')", "host")
        if label == "*":
            raise OriginError(entry, "'*' is only allowed as the leftmost label of a pattern", "wildcard")
        if "*" in label:
            raise OriginError(entry, f"'*' inside the label {label!r}; write '*.domain' instead", "wildcard")
        if not _LABEL_RE.match(label):
            raise OriginError(entry, f"the host label {label!r} has characters a host cannot have", "host")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise OriginError(entry, f"the label {label!r} is not valid punycode", "host") from exc
    return lowered
