"""One entry point for k-nearest-neighbour search: ScaNN (approximate) or exact."""

from __future__ import annotations

import numpy as np

from lealla.embeddings import exact_search
from lealla.mining.scann_search import ScannConfig, ScannIndex

SEARCH_METHODS = ("scann", "exact")


def knn_search(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
    *,
    method: str = "scann",
    scann_config: ScannConfig | None = None,
    progress: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows of `base` most similar (inner product) to each query.

    Args:
      queries: float [n, d], unit rows.
      base: float [m, d], unit rows.
      k: neighbours per query, 1 <= k <= m.
      method: "scann" (tree + asymmetric hashing + exact reordering) or "exact"
        (chunked brute force).
      scann_config: ScaNN settings (defaults when None).
      progress: a description for the progress display, or None.

    Returns:
      (scores float32 [n, k], indices int64 [n, k]), rows by descending score.

    Raises:
      ValueError: an unknown method, or bad shapes / k.
    """
    if method not in SEARCH_METHODS:
        raise ValueError(f"method must be one of {SEARCH_METHODS}, got {method!r}")
    if method == "exact":
        return exact_search.exact_knn(queries, base, k, progress=progress)
    return ScannIndex(base, scann_config).search(queries, k, progress=progress)
