"""Bitext mining from two embedding sets: kNN both ways, ratio margin, pair selection."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from absl import logging

from lealla.mining import margin, neighbors

MINING_MODES = ("mutual", "union", "forward", "backward")
DEFAULT_K = 4  # LASER's and LaBSE's k for the margin neighbourhood

# (queries [n, d], base [m, d], k) -> (scores [n, k], indices [n, k]), descending.
SearchFn = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class MinedPairs:
    """Mined pairs sorted by descending margin score.

    Attributes:
      src: int64 [p], source row (line) indices.
      tgt: int64 [p], target row indices.
      score: float32 [p], ratio-margin scores.
      cosine: float32 [p], cosine similarities.
    """

    src: np.ndarray
    tgt: np.ndarray
    score: np.ndarray
    cosine: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    def take(self, selector: np.ndarray) -> MinedPairs:
        """The pairs picked by a boolean mask or an index array, in that order."""
        return MinedPairs(
            self.src[selector], self.tgt[selector], self.score[selector], self.cosine[selector]
        )

    def concat(self, other: MinedPairs) -> MinedPairs:
        return MinedPairs(
            np.concatenate([self.src, other.src]),
            np.concatenate([self.tgt, other.tgt]),
            np.concatenate([self.score, other.score]),
            np.concatenate([self.cosine, other.cosine]),
        )


def mine_pairs(
    src: np.ndarray,
    tgt: np.ndarray,
    *,
    k: int = DEFAULT_K,
    mode: str = "mutual",
    threshold: float | None = None,
    search: SearchFn | None = None,
) -> MinedPairs:
    """Finds translation pairs between two sets of unit-length embeddings.

    Candidates are each source's k nearest targets (forward) and each target's k
    nearest sources (backward). Each candidate is scored with the ratio margin
    (`margin.ratio_margin`), using the same kNN lists for the neighbourhood means.
    Each source keeps its best-scoring forward candidate and each target its best
    backward candidate ("max" retrieval of LASER); then, by `mode`:

      mutual:   pairs that are the best of both their source and their target;
      union:    best pairs of either direction (deduplicated);
      forward:  the best target of every source;  backward: the best source of every target.

    Args:
      src: float [n, d] source embeddings.
      tgt: float [m, d] target embeddings.
      k: neighbourhood size (clipped to the other side's size).
      mode: one of MINING_MODES.
      threshold: keep only pairs whose margin score is >= this, or None.
      search: the kNN function (default: exact search).

    Returns:
      MinedPairs, by descending score.

    Raises:
      ValueError: a bad mode or k, or the embedding sets disagree in width.
    """
    if mode not in MINING_MODES:
        raise ValueError(f"mode must be one of {MINING_MODES}, got {mode!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if src.ndim != 2 or tgt.ndim != 2 or src.shape[1] != tgt.shape[1]:
        raise ValueError(f"expected [n, d] and [m, d] embeddings, got {src.shape}, {tgt.shape}")
    search = search or (lambda q, b, kk: neighbors.knn_search(q, b, kk, method="exact"))
    logging.info("mining: %d sources x %d targets, k=%d, mode=%s", len(src), len(tgt), k, mode)
    fwd_s, fwd_i = search(src, tgt, min(k, len(tgt)))
    bwd_s, bwd_i = search(tgt, src, min(k, len(src)))
    mean_src, mean_tgt = margin.neighborhood_mean(fwd_s), margin.neighborhood_mean(bwd_s)

    fwd_margin = margin.ratio_margin(fwd_s, mean_src[:, None], mean_tgt[fwd_i])
    bwd_margin = margin.ratio_margin(bwd_s, mean_src[bwd_i], mean_tgt[:, None])
    best_f = fwd_margin.argmax(axis=1)
    best_b = bwd_margin.argmax(axis=1)
    rows_f, rows_b = np.arange(len(src)), np.arange(len(tgt))
    forward = MinedPairs(
        rows_f, fwd_i[rows_f, best_f], fwd_margin[rows_f, best_f], fwd_s[rows_f, best_f]
    )
    backward = MinedPairs(
        bwd_i[rows_b, best_b], rows_b, bwd_margin[rows_b, best_b], bwd_s[rows_b, best_b]
    )
    pairs = select(forward, backward, mode, len(tgt))
    if threshold is not None:
        pairs = pairs.take(pairs.score >= threshold)
    pairs = pairs.take(np.lexsort((pairs.tgt, pairs.src, -pairs.score)))
    logging.info("mining: kept %d pairs", len(pairs))
    return pairs


def select(forward: MinedPairs, backward: MinedPairs, mode: str, num_tgt: int) -> MinedPairs:
    """The pairs `mode` keeps of the best forward and backward candidates (no threshold)."""
    if mode == "forward":
        return forward
    if mode == "backward":
        return backward
    # A pair is identified by src * num_tgt + tgt (int64: fine up to ~3e9 x 3e9).
    key_f = forward.src * num_tgt + forward.tgt
    key_b = backward.src * num_tgt + backward.tgt
    if mode == "mutual":
        return forward.take(np.isin(key_f, key_b))
    return forward.concat(backward.take(~np.isin(key_b, key_f)))
