"""Random access to the sentences of a large text file without holding them in memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from lealla.files import textio
from lealla.mining import dedupe as dedupe_lib


class LineFile:
    """A validated UTF-8 file of one sentence per line, indexed by byte offset.

    A scan checks every line (strict UTF-8, not empty) and keeps only an int64 byte
    offset and line number per usable line (16 bytes per sentence), so millions of
    sentences can be embedded in batches and re-read by index afterwards.

    Args:
      path: the text file.
      on_bad_line: "error" raises on the first bad line (naming file and line);
        "skip" leaves it out (row indices then count usable lines only).
      report: where skipped lines are counted (created if None).
      dedupe: keep only the first occurrence of each sentence (`duplicates` counts the
        others; row indices then count distinct sentences).

    Raises:
      FileNotFoundError: `path` is missing.
      textio.CorpusError: a bad line with on_bad_line="error", or no usable line.

    Example:
      >>> lines = LineFile("news.de")
      >>> for batch in lines.batches(256): ...
      >>> lines.read([3, 0])
    """

    def __init__(
        self,
        path: str,
        *,
        on_bad_line: str = "error",
        report: textio.BadLineReport | None = None,
        dedupe: bool = False,
    ):
        textio.check_on_bad_line(on_bad_line)
        self.path = path
        self.report = report if report is not None else textio.BadLineReport()
        offsets: list[int] = []
        numbers: list[int] = []
        text_hashes: list[int] = []
        offset = 0
        for index, raw in enumerate(_raw_lines(path)):
            try:
                text = _decode(path, index + 1, raw)
                offsets.append(offset)
                numbers.append(index + 1)
                if dedupe:
                    text_hashes.append(dedupe_lib.text_hash(text))
            except textio.CorpusError as e:
                if on_bad_line == "error":
                    raise
                self.report.add(e)
            offset += len(raw)
        if not offsets:
            raise textio.CorpusError(path, None, "no sentences (the file is empty)")
        keep = (dedupe_lib.first_occurrences(np.asarray(text_hashes, np.int64)) if dedupe
                else np.ones(len(offsets), bool))  # fmt: skip
        self.duplicates = int(len(keep) - keep.sum())
        self.offsets = np.asarray(offsets, np.int64)[keep]
        self.line_numbers = np.asarray(numbers, np.int64)[keep]

    def __len__(self) -> int:
        return len(self.offsets)

    def batches(self, batch_size: int) -> Iterator[list[str]]:
        """Yields the usable sentences in order, `batch_size` at a time (one pass)."""
        batch: list[str] = []
        next_row = 0
        for index, raw in enumerate(_raw_lines(self.path)):
            if next_row >= len(self) or self.line_numbers[next_row] != index + 1:
                continue
            batch.append(_decode(self.path, index + 1, raw))
            next_row += 1
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def read(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        """The sentences of the given rows (any order), by seeking to their offsets."""
        out = []
        with open(self.path, "rb") as f:
            for row in np.asarray(rows, np.int64):
                if not 0 <= row < len(self):
                    raise IndexError(f"{self.path}: row {row} out of range [0, {len(self)})")
                f.seek(int(self.offsets[row]))
                raw = f.readline()
                out.append(_decode(self.path, int(self.line_numbers[row]), raw))
        return out


def _raw_lines(path: str) -> Iterator[bytes]:
    """Lines with their b"\\n" (for offsets), split on b"\\n" only as textio does."""
    textio.require_file(path)
    with open(path, "rb") as f:
        yield from f


def _decode(path: str, line_no: int, raw: bytes) -> str:
    raw = raw[:-1] if raw.endswith(b"\n") else raw
    text = textio.decode_line(path, line_no, raw)
    return textio.split_fields(path, line_no, text, None)[0]
