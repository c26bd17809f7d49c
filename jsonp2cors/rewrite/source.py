"""Reading a file for rewriting and writing it back: encoding, BOM and line endings kept, writes atomic."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

_PEP263 = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class SourceError(ValueError):
    """The file cannot be decoded or encoded faithfully, so it is left alone."""


@dataclass(frozen=True)
class SourceText:
    """A file's text with what is needed to write it back byte-for-byte outside the edits."""

    text: str  # decoded, BOM removed, line endings as in the file
    encoding: str
    bom: bytes
    newline: str  # the dominant line ending, used for lines the rewrite adds

    def encode(self, text: str) -> bytes:
        try:
            return self.bom + text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise SourceError(f"the new text cannot be encoded as {self.encoding}: {exc.reason}") from exc


def _normal_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise SourceError(f"unknown encoding {name!r}") from exc


def _declared_encoding(data: bytes, kind: str) -> str | None:
    if kind == "python":
        for line in data.splitlines()[:2]:
            found = _PEP263.match(line)
            if found:
                return found.group(1).decode("ascii")
        return None
    if kind == "markup":
        found = _META_CHARSET.search(data[:4096])
        if found:
            return found.group(1).decode("ascii", "replace")
    return None


def detect_newline(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if crlf > lf and crlf >= cr:
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"


def decode(data: bytes, kind: str = "text") -> SourceText:
    """Decode `data` the way its own language declares it (PEP 263 for Python, <meta charset> for markup)."""
    bom = b""
    encoding: str | None = None
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, encoding = mark, name
            break
    if encoding is None:
        declared = _declared_encoding(data, kind)
        encoding = _normal_codec(declared) if declared else "utf-8"
        if encoding == "utf-8-sig":
            encoding = "utf-8"
    body = data[len(bom):]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid {encoding} at byte {exc.start + len(bom)}") from exc
    if text.encode(encoding) != body:
        raise SourceError(f"{encoding} does not round-trip this file")
    return SourceText(text=text, encoding=encoding, bom=bom, newline=detect_newline(text))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temporary file in the same folder, fsync, rename; mode kept.

    A symlink is followed, so the link stays a link and its target gets the new content. If anything
    fails before the rename, the original file is untouched and the temporary file is removed.
    """
    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".jsonp2cors")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
