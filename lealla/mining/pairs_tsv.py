"""Writes mined pairs as TSV rows `score<TAB>source<TAB>target`, atomically."""

from __future__ import annotations

from collections import Counter

import numpy as np

from lealla.files import atomic
from lealla.mining import pair_filters
from lealla.mining.line_file import LineFile
from lealla.mining.mine import MinedPairs

WRITE_CHUNK = 10_000  # pairs whose sentences are read (by seek) at a time


def write_pairs_tsv(
    path: str,
    pairs: MinedPairs,
    src: LineFile,
    tgt: LineFile,
    filters: pair_filters.PairFilter = pair_filters.NO_FILTER,
    dropped: Counter | None = None,
) -> int:
    """Writes one row per pair that passes `filters`, best first, re-reading the
    sentences by offset.

    A tab inside a sentence would shift the columns, so it is written as a space.

    Args:
      path: the output .tsv (replaced atomically: temp file, then rename).
      pairs: mined pairs (row indices into `src` and `tgt`).
      src: the source sentences.
      tgt: the target sentences.
      filters: junk filters applied to each pair's text.
      dropped: counts pairs dropped per filter, when given.

    Returns:
      The number of rows written.
    """
    written = 0
    with atomic.built_aside(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for start in range(0, len(pairs), WRITE_CHUNK):
            stop = start + WRITE_CHUNK
            texts_s = src.read(pairs.src[start:stop])
            texts_t = tgt.read(pairs.tgt[start:stop])
            scores = np.asarray(pairs.score[start:stop])
            keep, reasons = pair_filters.filter_pairs(texts_s, texts_t, filters)
            if dropped is not None:
                dropped.update(reasons)
            for score, a, b, ok in zip(scores, texts_s, texts_t, keep, strict=True):
                if ok:
                    f.write(f"{score:.6f}\t{_cell(a)}\t{_cell(b)}\n")
                    written += 1
    return written


def _cell(text: str) -> str:
    return text.replace("\t", " ")
