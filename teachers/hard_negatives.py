"""Hard negatives for contrastive distillation, mined from the teacher's own embeddings.

Each cached example gets the teacher embeddings of its nearest other sentences of the
same cache shard (one language pair or language, one domain: the confusable ones),
found with our ScaNN index (exact search on small shards). The student then has to
tell its sentence from the teacher's nearest neighbours of it, not only from random
ones. Mined per shard while the shard is cached, so it runs on the cache's Beam
runner, needs no global index and resumes with the shard.
"""

from __future__ import annotations

import numpy as np

from lealla.mining import neighbors

# Below this many rows exact search is cheap (n^2 d) and ScaNN's quantizer has too few
# points to train on.
EXACT_BELOW = 2048
# Neighbours searched beyond k, to replace the near-duplicates that are left out.
_SPARE = 8


def mine(
    embeddings: np.ndarray,
    k: int,
    *,
    max_similarity: float,
    num_queries: int | None = None,
) -> np.ndarray:
    """The `k` nearest other rows of each query row, near-duplicates left out.

        N(i) = the k rows j != i with the largest e_i . e_j such that
               e_i . e_j < max_similarity

    Rows as similar as `max_similarity` or more are duplicates, paraphrases or
    translations of the query: they would be false negatives.

    Args:
      embeddings: float [n, d], unit rows (the candidates).
      k: neighbours per query, >= 1.
      max_similarity: in (0, 1]; more similar candidates are left out.
      num_queries: the first rows, which get neighbours (all when None); the rows
        after them (e.g. augmented variants, near-copies of the queries) are neither
        queries nor candidates.

    Returns:
      int64 [num_queries, k] row indices by decreasing similarity, -1 where fewer than
      k were found.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0 < max_similarity <= 1:
        raise ValueError(f"max_similarity must be in (0, 1], got {max_similarity}")
    n = len(embeddings) if num_queries is None else num_queries
    out = np.full((n, k), -1, np.int64)
    if n < 2:
        return out
    base = np.ascontiguousarray(embeddings[:n], dtype=np.float32)
    search = min(n, k + 1 + _SPARE)
    method = "exact" if n < EXACT_BELOW else "scann"
    scores, ids = neighbors.knn_search(base, base, search, method=method)
    keep = (ids != np.arange(n)[:, None]) & (scores < max_similarity) & (ids >= 0)
    for i in range(n):
        found = ids[i][keep[i]][:k]
        out[i, : len(found)] = found
    return out


def gather(embeddings: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The rows `ids` [n, k] of `embeddings` [m, d] as [n, k, d]; zeros where ids is -1."""
    rows = embeddings[np.maximum(ids, 0)]
    return np.where((ids >= 0)[..., None], rows, 0).astype(embeddings.dtype)
