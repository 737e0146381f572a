"""Exact chunked kNN vs a dense argsort; ScaNN vs exact on small clustered data."""

import numpy as np
import pytest

from lealla.embeddings import exact_search
from lealla.mining import neighbors, scann_search


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# k=5: repeated argmax (and a last chunk of exactly k columns); k=20: argpartition.
@pytest.mark.parametrize(("k", "base_chunk"), [(1, 16), (5, 16), (20, 32)])
def test_exact_knn_matches_dense_sort(k, base_chunk):
    rng = np.random.default_rng(0)
    q, b = _unit(rng.standard_normal((37, 8))), _unit(rng.standard_normal((101, 8)))
    scores, idx = exact_search.exact_knn(q, b, k, query_chunk=10, base_chunk=base_chunk)
    dense = q @ b.T
    expected = np.argsort(-dense, axis=1)[:, :k]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(dense, expected, 1), rtol=1e-6)


def test_exact_knn_errors():
    b = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\]"):
        exact_search.exact_knn(b, b, 4)
    with pytest.raises(ValueError, match="same d"):
        exact_search.exact_knn(b, np.ones((3, 5), np.float32), 1)


def test_scann_matches_exact_on_clustered_data():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((50, 32))
    base = _unit(centers[rng.integers(0, 50, 5000)] + 0.5 * rng.standard_normal((5000, 32)))
    queries = _unit(base[:500] + 0.2 * rng.standard_normal((500, 32)))
    _, exact = neighbors.knn_search(queries, base, 10, method="exact")
    index = scann_search.ScannIndex(base, scann_search.ScannConfig(num_leaves=100))
    assert index.config.leaves_to_search == scann_search.MIN_LEAVES_TO_SEARCH  # tree used
    scores, approx = index.search(queries, 10)
    # The tree's k-means is randomly initialized: 0.976-0.99 over builds at 32 leaves.
    assert np.mean(approx[:, 0] == exact[:, 0]) >= 0.95
    _, every_leaf = index.search(queries, 1, leaves_to_search=100)
    assert np.mean(every_leaf[:, 0] == exact[:, 0]) >= 0.99
    # Reordering is exact float32: returned scores are the true inner products.
    np.testing.assert_allclose(
        scores, np.einsum("nd,nkd->nk", queries, base[approx]), rtol=1e-4, atol=1e-5
    )


def test_scann_small_input_has_no_tree_and_is_exact():
    rng = np.random.default_rng(1)
    base = _unit(rng.standard_normal((60, 16)))
    index = scann_search.ScannIndex(base)
    assert index.config.num_leaves == 0
    _, idx = index.search(base, 3)
    _, exact = exact_search.exact_knn(base, base, 3)
    np.testing.assert_array_equal(idx, exact)


def test_scann_config_validation():
    with pytest.raises(ValueError, match="ScannConfig.reorder must be >= 1"):
        scann_search.ScannConfig(reorder=0)
    with pytest.raises(ValueError, match="method must be one of"):
        neighbors.knn_search(np.ones((1, 2)), np.ones((1, 2)), 1, method="faiss")
