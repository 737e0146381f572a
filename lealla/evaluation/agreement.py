"""How closely a student keeps its teacher's neighbourhoods: a dev signal needing no pairs.

Any monolingual text of the domains a user cares about works (chat, questions, titles):
the student and the teacher each embed it, and the signal is how many of each
sentence's nearest neighbours the two agree on. Widths may differ (128 vs 768 dims).
"""

from __future__ import annotations

import numpy as np

from lealla.embeddings import exact_search


def nearest_neighbours(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's k nearest other rows by cosine (itself excluded), int [n, k]."""
    x = np.asarray(x, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    _, ids = exact_search.exact_knn(x, x, k + 1)
    is_self = ids == np.arange(len(x))[:, None]
    # A row tied with others may see itself ranked out of its k + 1: drop the farthest.
    is_self[~is_self.any(axis=1), -1] = True
    return ids[~is_self].reshape(len(x), k)


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
