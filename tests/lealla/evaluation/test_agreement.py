"""kNN agreement between two embeddings of the same sentences, against a brute-force reference."""

import numpy as np
import pytest

from lealla.evaluation import agreement


def _reference(a: np.ndarray, b: np.ndarray, k: int) -> float:
    def neighbours(x):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        out = []
        for i in range(len(x)):
            sims = [(float(x[i] @ x[j]), j) for j in range(len(x)) if j != i]
            out.append({j for _, j in sorted(sims, reverse=True)[:k]})
        return out

    return float(
        np.mean([len(p & q) / k for p, q in zip(neighbours(a), neighbours(b), strict=True)])
    )


def test_matches_the_brute_force_reference_across_widths():
    rng = np.random.default_rng(0)
    teacher = rng.normal(size=(70, 24))
    # A student of another width that keeps part of the structure.
    student = teacher[:, :8] + 0.5 * rng.normal(size=(70, 8))
    for k in (1, 5, 10):
        got = agreement.knn_agreement(student, teacher, k)
        assert got == pytest.approx(_reference(student, teacher, k))
        assert 0.0 < got < 1.0


def test_a_rotated_and_rescaled_copy_agrees_fully_and_noise_at_chance():
    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(200, 16))
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    scaled = (teacher @ rotation) * rng.uniform(0.5, 2.0, size=(200, 1))
    assert agreement.knn_agreement(scaled, teacher) == 1.0
    noise = agreement.knn_agreement(rng.normal(size=(200, 16)), teacher)
    assert noise < 0.15  # chance: k / (n - 1) = 0.05


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="same sentences"):
        agreement.knn_agreement(np.ones((5, 3)), np.ones((6, 3)), k=2)
    with pytest.raises(ValueError, match="more than k=10"):
        agreement.knn_agreement(np.ones((10, 3)), np.ones((10, 3)))
