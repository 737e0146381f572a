"""Validated, streaming line reading: every bad line is an error naming file and line."""

from __future__ import annotations

import collections
import dataclasses
import os
import re
import unicodedata
from collections.abc import Iterator

from lealla.files import fileio

ON_BAD_LINE_CHOICES = ("error", "skip")
# Only ASCII whitespace is stripped, exactly as tf.strings.strip does in the tf.data
# pipeline, so the Python scan and the graph agree on what an empty field is.
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"
_MAX_EXAMPLES = 5


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file and the 1-based line."""

    def __init__(self, path: str, line: int | None, reason: str):
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


@dataclasses.dataclass
class BadLineReport:
    """Counts lines skipped with `on_bad_line="skip"`, by reason, with a few examples."""

    counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    examples: list[str] = dataclasses.field(default_factory=list)

    def add(self, error: CorpusError) -> None:
        self.counts[_reason_kind(error.reason)] += 1
        if len(self.examples) < _MAX_EXAMPLES:
            self.examples.append(str(error))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line, e.g. "skipped 3 bad lines: empty line 2, invalid UTF-8 1"."""
        if not self.total:
            return "skipped 0 bad lines"
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.counts.most_common())
        return f"skipped {self.total} bad lines: {kinds}; first: {self.examples[0]}"


def check_on_bad_line(on_bad_line: str) -> None:
    """Raises ValueError unless `on_bad_line` is "error" or "skip"."""
    if on_bad_line not in ON_BAD_LINE_CHOICES:
        raise ValueError(f"on_bad_line must be one of {ON_BAD_LINE_CHOICES}, got {on_bad_line!r}")


def require_file(path: str, what: str = "file") -> None:
    """Raises FileNotFoundError naming `path` unless it is an existing regular file."""
    if not fileio.exists(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    if not fileio.is_remote(path) and not os.path.isfile(path):
        raise FileNotFoundError(f"{what} is not a regular file: {path}")


BOM = "\ufeff"
# C0 controls but tab (a field separator or ordinary text), and DEL. A trailing \r
# (Windows line ends) is allowed.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
# Line breaks to Unicode-aware readers (str.splitlines, editors): inside a line they would
# shift every later line of the file for such a reader.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
# Characters that show nothing: Unicode spaces (U+00A0, U+3000, ...) and format characters
# (zero-width U+200B-U+200D, bidi marks and isolates, U+FEFF, ...). A field of only
# these is empty to a reader.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf"})


def decode_line(path: str, line_no: int, raw: bytes) -> str:
    """Decodes one raw line (without its newline) as strict UTF-8.

    A byte-order mark at the start of the file is dropped (the tf.data pipeline drops
    it too).

    Raises:
      CorpusError: naming the byte offset of the first invalid byte, or the first
        control character (NUL, ...).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = raw[e.start : e.start + 1].hex()
        raise CorpusError(
            path, line_no, f"invalid UTF-8 (byte 0x{bad} at byte offset {e.start})"
        ) from None
    if line_no == 1 and text.startswith(BOM):  # editors on Windows write one
        text = text[1:]
    bad = _CONTROL.search(text.rstrip("\r"))
    if bad:
        raise CorpusError(
            path, line_no,
            f"control character U+{ord(bad.group()):04X} at column {bad.start() + 1}",
        )  # fmt: skip
    bad = _LINE_BREAKS.search(text)
    if bad:
        raise CorpusError(
            path, line_no,
            f"line-break character U+{ord(bad.group()):04X} at column {bad.start() + 1}",
        )  # fmt: skip
    return text


def _invisible(text: str) -> str | None:
    """The code points of `text` ("U+3000, U+200B") when none of them shows, else None."""
    if any(c not in ASCII_WHITESPACE and unicodedata.category(c) not in _INVISIBLE_CATEGORIES
           for c in text):  # fmt: skip
        return None
    shown = sorted({f"U+{ord(c):04X}" for c in text if c not in ASCII_WHITESPACE})
    return ", ".join(shown[:4]) + (", ..." if len(shown) > 4 else "")


def split_fields(path: str, line_no: int, text: str, num_fields: int | None) -> tuple[str, ...]:
    """Splits a decoded line into stripped, non-empty fields.

    Args:
      path: file name, for errors.
      line_no: 1-based line number, for errors.
      text: the decoded line without its newline.
      num_fields: expected number of tab-separated fields, or None for a whole line
        (monolingual text, where a tab is ordinary content).

    Returns:
      The stripped fields.

    Raises:
      CorpusError: an empty line, a wrong number of fields or an empty field (also one
        of only invisible characters: Unicode spaces, zero-width or bidi marks).
    """
    if not text.strip(ASCII_WHITESPACE):
        raise CorpusError(path, line_no, "empty line")
    if num_fields is None:
        line = text.strip(ASCII_WHITESPACE)
        invisible = _invisible(line)
        if invisible:
            raise CorpusError(path, line_no, f"empty line (only invisible {invisible})")
        return (line,)
    fields = text.rstrip("\r").split("\t")
    if len(fields) != num_fields:
        raise CorpusError(
            path,
            line_no,
            f"expected {num_fields} tab-separated fields, found {len(fields)}",
        )
    stripped = tuple(f.strip(ASCII_WHITESPACE) for f in fields)
    for i, field in enumerate(stripped):
        if not field:
            raise CorpusError(path, line_no, f"field {i + 1} of {num_fields} is empty")
        invisible = _invisible(field)
        if invisible:
            reason = f"field {i + 1} of {num_fields} is empty (only invisible {invisible})"
            raise CorpusError(path, line_no, reason)
    return stripped


def iter_raw_lines(path: str) -> Iterator[bytes]:
    """Yields each line of a file as bytes without the trailing b"\\n".

    Lines are split on b"\\n" only, as tf.data.TextLineDataset does, so line numbers
    agree between the Python scan and the tf.data pipeline.
    """
    require_file(path)
    with fileio.open_read(path) as f:
        for raw in f:
            yield raw[:-1] if raw.endswith(b"\n") else raw


def iter_records(
    path: str,
    num_fields: int | None = None,
    *,
    on_bad_line: str = "error",
    report: BadLineReport | None = None,
) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Streams validated records of a text file.

    Args:
      path: a UTF-8 text file, one record per line.
      num_fields: tab-separated fields per line, or None for whole lines.
      on_bad_line: "error" raises on the first bad line; "skip" skips it and counts
        it in `report`.
      report: where skipped lines are counted (required with "skip").

    Yields:
      (line_no, fields): the 1-based line number and the stripped fields.

    Raises:
      FileNotFoundError: `path` does not exist.
      CorpusError: a bad line, with on_bad_line="error".
    """
    check_on_bad_line(on_bad_line)
    if on_bad_line == "skip" and report is None:
        raise ValueError("on_bad_line='skip' needs a BadLineReport to count skipped lines")
    for index, raw in enumerate(iter_raw_lines(path)):
        line_no = index + 1
        try:
            text = decode_line(path, line_no, raw)
            fields = split_fields(path, line_no, text, num_fields)
        except CorpusError as e:
            if on_bad_line == "error":
                raise
            report.add(e)
            continue
        yield line_no, fields


def _reason_kind(reason: str) -> str:
    """Groups reasons for the summary: "invalid UTF-8 (byte ...)" -> "invalid UTF-8"."""
    kinds = ("invalid UTF-8", "empty line", "tab-separated fields", "is empty", "line count",
             "control character", "line-break character")  # fmt: skip
    for kind in kinds:
        if kind in reason:
            return {"tab-separated fields": "wrong field count", "is empty": "empty field"}.get(
                kind, kind
            )
    return reason
