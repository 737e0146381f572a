"""int8 / binary search: numpy references, memory, recall against float32."""

import numpy as np
import pytest

from lealla.embeddings import exact_search
from lealla.mining import quantized_search as qs


def _unit(rows: int, d: int = 64, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(rows, d)).astype(np.float32)
    x *= np.linspace(0.3, 1.5, d, dtype=np.float32)  # dimensions of different spread
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_int8_codes_are_scaled_per_dimension_and_searched_exactly():
    base = _unit(3000)
    index = qs.QuantizedIndex.build(base, "int8")
    scales = np.percentile(np.abs(base), 99.9, axis=0) / 127  # every row sampled (< 10k)
    np.testing.assert_allclose(index.scales, scales, rtol=1e-5)
    inside = np.abs(base) <= 127 * scales
    error = np.abs(index.codes * index.scales - base)
    assert np.all(error[inside] <= scales[None, :].repeat(len(base), 0)[inside] / 2 + 1e-7)
    assert index.nbytes == base.size + 4 * base.shape[1]  # 1 byte a value + the scales
    queries = _unit(50, seed=1)
    scores, ids = index.search(queries, 5)
    ref_s, ref_i = exact_search.exact_knn(queries, index.codes * index.scales, 5)
    np.testing.assert_array_equal(ids, ref_i)
    np.testing.assert_allclose(scores, ref_s, rtol=1e-5, atol=1e-6)


def test_binary_candidates_by_hamming_then_float_rescoring():
    base = _unit(2000)
    index = qs.QuantizedIndex.build(base, "binary")
    assert index.codes.shape == (2000, 8) and index.nbytes == 2000 * 8  # 64 dims -> 8 bytes
    bits = (base > 0).astype(np.int32)
    queries = _unit(20, seed=2)
    hamming = ((queries > 0).astype(np.int32)[:, None, :] != bits[None]).sum(axis=2)
    # Re-scoring every candidate is exact float search.
    _, all_ids = index.search(queries, 3, rescore=len(base))
    np.testing.assert_array_equal(all_ids, exact_search.exact_knn(queries, base, 3)[1])
    # With few candidates, the results are the best of the nearest codes.
    scores, ids = index.search(queries, 3, rescore=50)
    for q, row, row_scores in zip(range(20), ids, scores, strict=True):
        worst_kept = np.sort(hamming[q])[49]
        assert np.all(hamming[q, row] <= worst_kept)
        np.testing.assert_allclose(row_scores, base[row] @ queries[q], rtol=1e-5)


def test_recall_against_float_on_clustered_data():
    centres = _unit(300, seed=3)
    rng = np.random.default_rng(4)
    base = centres[rng.integers(0, 300, 6000)] + 0.05 * rng.normal(size=(6000, 64))
    base = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
    queries = base[:200] + 0.02 * rng.normal(size=(200, 64)).astype(np.float32)
    int8 = qs.recall_against_float(queries, base, qs.QuantizedIndex.build(base, "int8"), 4)
    binary = qs.recall_against_float(queries, base, qs.QuantizedIndex.build(base, "binary"), 4)
    assert int8 >= 0.95 and binary >= 0.8, (int8, binary)
    assert qs.recall_against_float(queries, base, qs.QuantizedIndex.build(base, "binary"), 4,
                                   rescore=6000) == 1.0  # fmt: skip


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="int8, binary|float32"):
        qs.QuantizedIndex.build(_unit(10), "int4")


@pytest.mark.parametrize("dim", [8, 100, 128, 768])
def test_hamming_distances_on_packed_words_equal_counting_bits(dim):
    rng = np.random.default_rng(dim)
    a, b = rng.standard_normal((7, dim)) > 0, rng.standard_normal((11, dim)) > 0
    want = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    words_a = qs.packed_words(np.packbits(a, axis=1))
    words_b = qs.packed_words(np.packbits(b, axis=1))
    assert words_a.dtype == np.uint64 and words_a.shape == (7, -(-dim // 64))
    got = qs.hamming_distances(words_a.T.copy(), words_b.T.copy(), tile=4)  # tiles + rest
    np.testing.assert_array_equal(got, want)


def test_nearest_codes_are_the_smallest_distances_ties_by_lower_row():
    distances = np.array([[5, 1, 3, 1, 3, 0, 3, 9], [0, 0, 0, 0, 2, 2, 1, 1]], np.uint16)
    np.testing.assert_array_equal(qs.nearest_codes(distances, 4), [[1, 2, 3, 5], [0, 1, 2, 3]])
    np.testing.assert_array_equal(qs.nearest_codes(distances, 1), [[5], [0]])
    np.testing.assert_array_equal(qs.nearest_codes(distances, 5), [[1, 2, 3, 4, 5],
                                                                   [0, 1, 2, 3, 6]])  # fmt: skip
    np.testing.assert_array_equal(qs.nearest_codes(distances, 8), [np.arange(8)] * 2)
    rng = np.random.default_rng(0)
    many = rng.integers(0, 60, (3, 5000)).astype(np.uint16)
    want = np.sort(np.argsort(many, axis=1, kind="stable")[:, :100], axis=1)
    np.testing.assert_array_equal(qs.nearest_codes(many, 100), want)
