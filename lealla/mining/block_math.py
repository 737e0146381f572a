"""The numpy steps of sharded mining, each on one block, so any runner can apply them.

`lealla mine` splits `mine.mine_pairs` into steps that need only one block at a time:
search one index block (`search_block`), merge partial top-k lists (`merge_top_k`, a
commutative, associative merge: a Beam combine), score each query's candidates with
the ratio margin once the other side's neighbourhood means are known
(`best_candidates`), and select pairs among those of one target block
(`select_pairs`). Ties are broken by the lower row everywhere, as in `exact_knn`, so
with exact search the result equals `mine_pairs` on the whole sets.
"""

from __future__ import annotations

import numpy as np

from lealla.mining import margin, mine, neighbors
from lealla.mining.scann_search import ScannConfig, ScannIndex


def search_block(
    queries: np.ndarray,
    base: np.ndarray,
    base_ids: np.ndarray,
    k: int,
    *,
    method: str,
    scann_config: ScannConfig | None = None,
    index: ScannIndex | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each query's min(k, len(base)) best rows of one base block.

    Args:
      queries: float [n, d].
      base: float [m, d], the block's embeddings.
      base_ids: int64 [m], their global rows.
      k: neighbours wanted overall.
      method: "exact" or "scann".
      scann_config: ScaNN settings (resolved for the block's size).
      index: a ScaNN index of `base` already built (reused across query blocks).

    Returns:
      (scores float32 [n, kk], global ids int64 [n, kk]), by descending score.
    """
    kk = min(k, len(base))
    if len(queries) == 0 or kk == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    if index is not None:
        scores, local = index.search(queries, kk)
    else:
        scores, local = neighbors.knn_search(
            queries, base, kk, method=method, scann_config=scann_config
        )
    return scores, np.asarray(base_ids, np.int64)[local]


def merge_top_k(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of two partial neighbour lists of the same queries.

    Rows are ordered by descending score, then ascending id, so the result does not
    depend on the order in which partial lists are merged.

    Args:
      a, b: (scores float32 [n, ka], ids int64 [n, ka]) and the same for kb.
      k: list length kept.

    Returns:
      (scores [n, min(k, ka + kb)], ids).
    """
    scores = np.concatenate([a[0], b[0]], axis=1)
    ids = np.concatenate([a[1], b[1]], axis=1)
    order = np.lexsort((ids, -scores), axis=1)[:, :k]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)


def best_candidates(
    scores: np.ndarray, ids: np.ndarray, mean_other: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each query's best candidate by ratio margin (the first among equal margins).

    Args:
      scores: float32 [n, k] cosines of the query's k nearest rows of the other side.
      ids: int64 [n, k] those rows.
      mean_other: float32 [n, k] the neighbourhood mean of each candidate.

    Returns:
      (candidate ids [n], margins float32 [n], cosines float32 [n]).
    """
    margins = margin.ratio_margin(scores, margin.neighborhood_mean(scores)[:, None], mean_other)
    best = margins.argmax(axis=1)
    rows = np.arange(len(scores))
    return ids[rows, best], margins[rows, best], scores[rows, best]


def select_pairs(
    forward: mine.MinedPairs,
    backward: mine.MinedPairs,
    mode: str,
    num_tgt: int,
    threshold: float | None,
) -> mine.MinedPairs:
    """`mine_pairs`' selection, on the pairs whose target lies in one block.

    Args:
      forward: the best (margin) target of sources whose best target is in the block.
      backward: the best source of each target of the block.
      mode: one of mine.MINING_MODES.
      num_tgt: the target side's size (pair keys).
      threshold: keep scores >= this, or None.

    Returns:
      The block's pairs, by descending score, then source, then target row.
    """
    pairs = mine.select(forward, backward, mode, num_tgt)
    if threshold is not None:
        pairs = pairs.take(pairs.score >= threshold)
    return pairs.take(np.lexsort((pairs.tgt, pairs.src, -pairs.score)))


def lookup(ids: np.ndarray, table_ids: np.ndarray, table_values: np.ndarray) -> np.ndarray:
    """table_values at the position of each of `ids` in the sorted `table_ids`.

    Raises:
      KeyError: an id is missing from the table.
    """
    position = np.searchsorted(table_ids, ids)
    position = np.minimum(position, len(table_ids) - 1)
    if len(ids) and (len(table_ids) == 0 or not np.array_equal(table_ids[position], ids)):
        raise KeyError("neighbourhood means missing for some candidate rows")
    return table_values[position]
