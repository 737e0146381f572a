"""Writes mined pairs as TSV rows `score<TAB>source<TAB>target`, atomically."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from lealla.mining.line_file import LineFile
from lealla.mining.mine import MinedPairs

WRITE_CHUNK = 10_000  # pairs whose sentences are read (by seek) at a time


def write_pairs_tsv(path: str, pairs: MinedPairs, src: LineFile, tgt: LineFile) -> int:
    """Writes one row per pair, best first, re-reading the sentences by offset.

    A tab inside a sentence would shift the columns, so it is written as a space.

    Args:
      path: the output .tsv (replaced atomically: temp file, then rename).
      pairs: mined pairs (row indices into `src` and `tgt`).
      src: the source sentences.
      tgt: the target sentences.

    Returns:
      The number of rows written.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for start in range(0, len(pairs), WRITE_CHUNK):
                stop = start + WRITE_CHUNK
                texts_s = src.read(pairs.src[start:stop])
                texts_t = tgt.read(pairs.tgt[start:stop])
                scores = np.asarray(pairs.score[start:stop])
                for score, a, b in zip(scores, texts_s, texts_t, strict=True):
                    f.write(f"{score:.6f}\t{_cell(a)}\t{_cell(b)}\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return len(pairs)


def _cell(text: str) -> str:
    return text.replace("\t", " ")
