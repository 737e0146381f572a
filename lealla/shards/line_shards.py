"""Deterministic work units for corpus-scale pipelines: shards as (source, line range).

A plan depends only on the files and the shard size, never on the runner, worker count
or retries, so every way of running it writes the same shards. Planning is one fast
pass per file counting newlines (numpy over 16 MiB blocks, no decoding) and recording
the byte offset where each shard starts, so a worker seeks straight to its lines and
still names bad lines by their line number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from lealla.files import fileio, textio

_BLOCK = 1 << 24


@dataclasses.dataclass(frozen=True)
class LineShard:
    """Lines [first_line, first_line + num_lines) of one source (0-based indices).

    Attributes:
      source: index of the source in the planned list.
      index: the shard's number within its source.
      first_line: 0-based index of the shard's first line.
      num_lines: physical lines in the shard.
      offsets: byte offset of the first line in each of the source's files (two for
        line-aligned files).
    """

    source: int
    index: int
    first_line: int
    num_lines: int
    offsets: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.source:03d}-{self.index:05d}"


def count_lines(path: str, every: int) -> tuple[int, list[int]]:
    """Counts the lines of `path` as tf.data's TextLineDataset does (split on b"\\n"; a
    last line without newline counts) -> (number of lines, byte offsets of lines 0,
    every, 2 * every, ...)."""
    if every < 1:
        raise ValueError(f"lines per shard must be >= 1, got {every}")
    if not fileio.exists(path):
        raise FileNotFoundError(f"file not found: {path}")
    starts, newlines, last = [0], 0, b"\n"
    position = 0
    with fileio.open_read(path) as f:
        while block := f.read(_BLOCK):
            found = np.flatnonzero(np.frombuffer(block, np.uint8) == 10) + position
            # Line k starts after newline k - 1: the shard starts k = every * j inside here.
            first_k = -(-(newlines + 1) // every) * every
            ks = np.arange(first_k, newlines + len(found) + 1, every)
            starts.extend(int(found[k - 1 - newlines]) + 1 for k in ks)
            newlines += len(found)
            position += len(block)
            last = block[-1:]
    num_lines = newlines + (1 if position and last != b"\n" else 0)
    return num_lines, [s for i, s in enumerate(starts) if i * every < num_lines]


def plan(sources: Sequence[Sequence[str]], lines_per_shard: int) -> list[LineShard]:
    """Shards of every source; a source is one file or line-aligned files (src, tgt).

    Raises:
      CorpusError: aligned files with different line counts (naming both).
    """
    shards: list[LineShard] = []
    for source_id, paths in enumerate(sources):
        counted = [count_lines(p, lines_per_shard) for p in paths]
        if len({n for n, _ in counted}) > 1:
            raise textio.CorpusError(
                paths[0], None,
                f"line count mismatch with its aligned file {paths[1]}: "
                f"{counted[0][0]} lines vs {counted[1][0]} lines",
            )  # fmt: skip
        num_lines = counted[0][0]
        for index, offsets in enumerate(zip(*(o for _, o in counted), strict=True)):
            first = index * lines_per_shard
            size = min(lines_per_shard, num_lines - first)
            shards.append(LineShard(source_id, index, first, size, tuple(offsets)))
    return shards


def read_rows(paths: Sequence[str], shard: LineShard) -> Iterator[tuple[int, tuple[bytes, ...]]]:
    """(1-based line number, the raw line of each file without its newline) of a shard."""
    files = [fileio.open_read(p) for p in paths]
    try:
        for f, offset in zip(files, shard.offsets, strict=True):
            f.seek(offset)
        for i in range(shard.num_lines):
            raws = []
            for f in files:
                raw = f.readline()
                raws.append(raw[:-1] if raw.endswith(b"\n") else raw)
            yield shard.first_line + i + 1, tuple(raws)
    finally:
        for f in files:
            f.close()
