"""Ratio margin and mining against a dense numpy reference computed from the formula."""

import numpy as np
import pytest

from lealla.mining import margin, mine


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _reference_margin(x, y, k):
    """score(x, y) = cos / (sum_{NN_k(x)} cos / 2k + sum_{NN_k(y)} cos / 2k), dense."""
    sim = x.astype(np.float64) @ y.T.astype(np.float64)
    knn_x = np.sort(sim, axis=1)[:, ::-1][:, :k].sum(1) / (2 * k)
    knn_y = np.sort(sim, axis=0)[::-1, :][:k, :].sum(0) / (2 * k)
    return sim / (knn_x[:, None] + knn_y[None, :])


def test_ratio_margin_hand_case():
    # cos 0.9, m(x) = 0.5, m(y) = 0.7 -> 0.9 / 0.6 = 1.5
    assert margin.ratio_margin(np.float32(0.9), 0.5, 0.7) == pytest.approx(1.5)
    np.testing.assert_allclose(margin.neighborhood_mean(np.array([[0.9, 0.5, 0.1]])), [0.5])


def test_margin_scores_match_dense_reference():
    rng = np.random.default_rng(0)
    # Shared component keeps neighbourhood means positive, as for real embeddings.
    base = rng.standard_normal(16)
    x = _unit(rng, 30, 16) + base
    y = _unit(rng, 40, 16) + base
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    k = 3
    ref = _reference_margin(x, y, k)
    pairs = mine.mine_pairs(x, y, k=k, mode="forward")
    # The forward best by margin among each source's k nearest targets.
    sim = x @ y.T
    knn = np.argsort(-sim, axis=1)[:, :k]
    expected_tgt = knn[np.arange(30), ref[np.arange(30)[:, None], knn].argmax(1)]
    got = dict(zip(pairs.src.tolist(), pairs.tgt.tolist(), strict=True))
    assert got == dict(enumerate(expected_tgt.tolist()))
    np.testing.assert_allclose(pairs.score, ref[pairs.src, pairs.tgt], rtol=1e-5)
    assert np.all(np.diff(pairs.score) <= 0)


def test_margin_demotes_a_hub():
    # Sources e1..e3; the hub (e1+e2+e3)/sqrt(3) has cosine 0.577 with each of them, more
    # than each true partner (0.55, its remaining length on a private axis e4..e6).
    # Hand-computed with k=2: margin(x1, hub) = 0.577 / ((0.5635 + 0.577) / 2) = 1.01,
    # margin(x1, y1) = 0.55 / ((0.5635 + 0.275) / 2) = 1.31.
    eye = np.eye(7, dtype=np.float32)
    x = eye[:3]
    partners = [0.55 * eye[i] + np.sqrt(1 - 0.55**2) * eye[3 + i] for i in range(3)]
    y = np.stack([eye[:3].sum(0) / np.sqrt(3), *partners]).astype(np.float32)
    assert np.all((x @ y.T).argmax(1) == 0)  # plain cosine picks the hub for every source
    pairs = mine.mine_pairs(x, y, k=2, mode="mutual")
    assert sorted(zip(pairs.src.tolist(), pairs.tgt.tolist(), strict=True)) == [
        (0, 1),
        (1, 2),
        (2, 3),
    ]
    np.testing.assert_allclose(pairs.score, 0.55 / ((0.5635 + 0.275) / 2), rtol=2e-3)


def test_modes_and_threshold():
    rng = np.random.default_rng(1)
    x = _unit(rng, 20, 8)
    y = np.concatenate([x[:10] + 0.05 * _unit(rng, 10, 8), _unit(rng, 15, 8)])
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    f = mine.mine_pairs(x, y, k=2, mode="forward")
    b = mine.mine_pairs(x, y, k=2, mode="backward")
    m = mine.mine_pairs(x, y, k=2, mode="mutual")
    u = mine.mine_pairs(x, y, k=2, mode="union")
    as_set = lambda p: set(zip(p.src.tolist(), p.tgt.tolist(), strict=True))  # noqa: E731
    assert len(f) == 20 and len(b) == 25
    assert as_set(m) == as_set(f) & as_set(b)
    assert as_set(u) == as_set(f) | as_set(b)
    assert {(i, i) for i in range(10)} <= as_set(m)
    high = mine.mine_pairs(x, y, k=2, mode="mutual", threshold=float(np.median(m.score)))
    assert 0 < len(high) < len(m) and high.score.min() >= np.median(m.score)


def test_bad_arguments():
    x = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError, match="mode must be one of"):
        mine.mine_pairs(x, x, mode="best")
    with pytest.raises(ValueError, match="expected \\[n, d\\] and \\[m, d\\]"):
        mine.mine_pairs(x, np.ones((2, 3), np.float32))
