"""Ratio-margin scoring of candidate pairs (Artetxe & Schwenk 2019, arXiv 1811.01136)."""

from __future__ import annotations

import numpy as np


def neighborhood_mean(knn_scores: np.ndarray) -> np.ndarray:
    """Mean similarity of each point to its k nearest neighbours on the other side.

        m(x) = 1/k sum_{z in NN_k(x)} cos(x, z)

    Args:
      knn_scores: float [n, k], the cosines of each point's k nearest neighbours.

    Returns:
      float32 [n].
    """
    if knn_scores.ndim != 2 or knn_scores.shape[1] == 0:
        raise ValueError(f"expected [n, k] neighbour scores with k >= 1, got {knn_scores.shape}")
    return knn_scores.astype(np.float32).mean(axis=1)


def ratio_margin(cosine: np.ndarray, mean_x: np.ndarray, mean_y: np.ndarray) -> np.ndarray:
    """The ratio margin of candidate pairs (x, y).

        score(x, y) = cos(x, y) / ( sum_{z in NN_k(x)} cos(x, z) / 2k
                                   + sum_{z in NN_k(y)} cos(y, z) / 2k )
                    = cos(x, y) / ((m(x) + m(y)) / 2)

    where NN_k(x) are x's k nearest neighbours among the targets and NN_k(y) are y's
    among the sources. A pair scores above 1 when it is closer than the two points'
    typical neighbours, which removes the hubness of plain cosine ranking. The score
    is meaningful when the means are positive, as they are for sentence embeddings.

    Args:
      cosine: float [...], cos(x, y) of each candidate.
      mean_x: float [...], m(x) of each candidate's source (broadcastable).
      mean_y: float [...], m(y) of each candidate's target (broadcastable).

    Returns:
      float32 [...] scores.

    Reference: Artetxe & Schwenk, "Margin-based Parallel Corpus Mining with
    Multilingual Sentence Embeddings", ACL 2019 (arXiv 1811.01136), ratio margin.
    """
    denominator = (np.asarray(mean_x, np.float32) + np.asarray(mean_y, np.float32)) / 2
    return (np.asarray(cosine, np.float32) / denominator).astype(np.float32)
