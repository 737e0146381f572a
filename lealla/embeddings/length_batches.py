"""Embedding many sentences in batches of similar length: less padding for the model.

The batches depend only on the texts and the batch size, so every runner and worker
computes exactly the same batches (and the same float results) for a shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np


def length_order(texts: Sequence[str]) -> list[int]:
    """Indices of `texts` shortest first (characters; ties in their given order)."""
    return sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))


def length_batches(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """The row indices of each batch: `texts` shortest first, cut every `batch_size`."""
    order = length_order(texts)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def embed_in_length_order(
    embed_batch: Callable[[list[str]], np.ndarray], texts: Sequence[str], batch_size: int
) -> np.ndarray:
    """Embeddings of `texts` in their given order, computed in batches sorted by length.

    Args:
      embed_batch: strings -> float [len, d].
      texts: the sentences.
      batch_size: sentences per call.

    Returns:
      float32 [len(texts), d]; [0, 0] for no texts.
    """
    if not texts:
        return np.zeros((0, 0), np.float32)
    out: np.ndarray | None = None
    for rows in length_batches(texts, batch_size):
        part = np.asarray(embed_batch([texts[i] for i in rows]), np.float32)
        if out is None:
            out = np.empty((len(texts), part.shape[1]), np.float32)
        out[rows] = part
    return out
