"""Exact duplicate sentences, collapsed before the kNN search (as LASER and stopes do).

Web text repeats itself (boilerplate, navigation, quotes). Copies of a sentence have
one embedding, so they fill each other's k-nearest-neighbour lists and wreck the
margin of every pair they touch; the output would also repeat the pair. Mining keeps
the first occurrence of each sentence (in file and line order) and drops the others,
on both sides. Sentences are compared by a 64-bit hash of their text: at 10^9
distinct sentences about one pair in 40 would collide and be merged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def text_hash(text: str) -> int:
    """A signed 64-bit hash of the sentence's UTF-8 bytes (stable across processes)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "little", signed=True)  # fmt: skip


def hashes(texts: Iterable[str]) -> np.ndarray:
    return np.fromiter((text_hash(t) for t in texts), np.int64)


def first_occurrences(values: np.ndarray) -> np.ndarray:
    """bool [n]: True where a value is seen for the first time (in array order)."""
    keep = np.zeros(len(values), bool)
    _, first = np.unique(values, return_index=True)
    keep[first] = True
    return keep
