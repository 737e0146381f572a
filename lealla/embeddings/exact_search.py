"""Exact (brute-force) k-nearest-neighbour search by inner product, in bounded memory."""

from __future__ import annotations

import numpy as np

from lealla.ui.progress import Progress

# A [QUERY_CHUNK, BASE_CHUNK] float32 block is 64 MiB: large enough for BLAS to run at
# full speed, small enough that no [n, m] matrix is ever held for large inputs.
QUERY_CHUNK = 1024
BASE_CHUNK = 16384
SMALL_K = 16  # up to here, top-k by repeated argmax


def exact_knn(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
    *,
    query_chunk: int = QUERY_CHUNK,
    base_chunk: int = BASE_CHUNK,
    progress: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows of `base` with the largest inner product with each query.

    For unit-length rows the inner product is the cosine similarity. The similarity
    matrix is computed in [query_chunk, base_chunk] blocks, keeping a running top-k
    per query, so memory is O(query_chunk * (base_chunk + k)) whatever n and m are.

    Args:
      queries: float [n, d].
      base: float [m, d] (an np.memmap works: it is read block by block).
      k: neighbours per query, 1 <= k <= m.
      query_chunk: queries per block.
      base_chunk: base rows per block.
      progress: a description to show progress over the queries, or None.

    Returns:
      (scores float32 [n, k], indices int64 [n, k]), each row sorted by descending
      score.

    Raises:
      ValueError: shapes disagree, or k is out of range.
    """
    _check_inputs(queries, base, k)
    n = len(queries)
    scores = np.empty((n, k), np.float32)
    indices = np.empty((n, k), np.int64)
    bar = Progress(progress, total=n, unit="queries") if progress else None
    for start in range(0, n, query_chunk):
        block = np.asarray(queries[start : start + query_chunk], np.float32)
        s, i = _knn_block(block, base, k, base_chunk)
        scores[start : start + len(block)] = s
        indices[start : start + len(block)] = i
        if bar is not None:
            bar.update(len(block))
    if bar is not None:
        bar.close()
    return scores, indices


def _knn_block(
    queries: np.ndarray, base: np.ndarray, k: int, base_chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of one query block against all of `base`, merging base chunks."""
    rows = np.arange(len(queries))[:, None]
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for b_start in range(0, len(base), base_chunk):
        chunk = np.asarray(base[b_start : b_start + base_chunk], np.float32)
        sim = queries @ chunk.T  # [q, b]
        top, top_s = _block_top_k(sim, k)
        cand_s = np.concatenate([best_s, top_s], axis=1)
        cand_i = np.concatenate([best_i, top + b_start], axis=1)
        # Stable sort on -score keeps earlier (lower) indices first among ties.
        order = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s = cand_s[rows, order]
        best_i = cand_i[rows, order]
    return best_s, best_i


def _block_top_k(sim: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k largest entries per row (unordered); `sim` is
    overwritten. For small k, k argmax passes are ~10x faster than argpartition."""
    if k >= sim.shape[1]:
        return np.broadcast_to(np.arange(sim.shape[1]), sim.shape), sim
    rows = np.arange(len(sim))
    if k > SMALL_K:
        top = np.argpartition(sim, sim.shape[1] - k, axis=1)[:, -k:]
        return top, sim[rows[:, None], top]
    top = np.empty((len(sim), k), np.int64)
    values = np.empty((len(sim), k), sim.dtype)
    for j in range(k):
        top[:, j] = sim.argmax(axis=1)
        values[:, j] = sim[rows, top[:, j]]
        sim[rows, top[:, j]] = -np.inf
    return top, values


def _check_inputs(queries: np.ndarray, base: np.ndarray, k: int) -> None:
    if queries.ndim != 2 or base.ndim != 2 or queries.shape[1] != base.shape[1]:
        raise ValueError(
            f"expected queries [n, d] and base [m, d] of the same d, got {queries.shape} "
            f"and {base.shape}"
        )
    if not 1 <= k <= len(base):
        raise ValueError(f"k must be in [1, {len(base)}] (the base size), got {k}")
