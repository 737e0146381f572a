"""How closely a student keeps its teacher's neighbourhoods: a dev signal needing no pairs.

Any monolingual text of the domains a user cares about works (chat, questions, titles):
the student and the teacher each embed it, and the signal is how many of each
sentence's nearest neighbours the two agree on. Widths may differ (128 vs 768 dims).
"""

from __future__ import annotations

import numpy as np

_BLOCK = 1024  # rows per similarity block: memory O(block x n), not O(n^2)


def nearest_neighbours(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's k nearest other rows by cosine (itself excluded), int [n, k], unordered."""
    x = np.asarray(x, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    out = np.empty((len(x), k), np.int64)
    for start in range(0, len(x), _BLOCK):
        sim = x[start : start + _BLOCK] @ x.T
        rows = np.arange(len(sim))
        sim[rows, start + rows] = -np.inf
        out[start : start + len(sim)] = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    return out


def knn_agreement(student: np.ndarray, teacher: np.ndarray, k: int = 10) -> float:
    """Mean share of each sentence's k nearest neighbours the two embeddings agree on.

        agreement = 1/n sum_i |N_k^S(i) ∩ N_k^T(i)| / k

    where N_k^E(i) are the k rows nearest to row i under embedding E (cosine, i
    excluded). 1.0: the student ranks every neighbourhood's members as the teacher does.

    Args:
      student: float [n, d_s] embeddings of n sentences.
      teacher: float [n, d_t] embeddings of the same sentences, in the same order.
      k: neighbours compared per sentence (< n).

    Raises:
      ValueError: the row counts differ, or there are not more than k rows.
    """
    if len(student) != len(teacher) or student.ndim != 2 or teacher.ndim != 2:
        raise ValueError(
            f"expected [n, d] embeddings of the same sentences, got {student.shape} and "
            f"{teacher.shape}"
        )
    if len(student) <= k:
        raise ValueError(f"kNN agreement needs more than k={k} sentences, got {len(student)}")
    a, b = nearest_neighbours(student, k), nearest_neighbours(teacher, k)
    shared = [len(np.intersect1d(x, y, assume_unique=True)) for x, y in zip(a, b, strict=True)]
    return float(np.mean(shared)) / k
