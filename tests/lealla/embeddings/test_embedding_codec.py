"""Stored embedding precisions of `lealla embed`: int8 codes with scales, sign bits."""

import numpy as np
import pytest

from lealla.embeddings import embedding_codec


def _clustered(n=600, d=64, seed=0):
    """Unit rows around 60 centres: neighbourhoods a search should keep."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(60, d))
    x = centres[rng.integers(0, 60, n)] + 0.5 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_int8_round_trip_keeps_directions():
    x = _clustered()
    stored, scales = embedding_codec.encode(x, "int8")
    assert stored.dtype == np.int8 and stored.shape == x.shape and scales.shape == (64,)
    decoded = embedding_codec.decode(stored, "int8", 64, scales)
    np.testing.assert_allclose(np.linalg.norm(decoded, axis=1), 1.0, rtol=1e-5)
    cosine = np.sum(decoded * x, axis=1)
    assert np.mean(cosine) > 0.9999 and np.min(cosine) > 0.995  # outliers past 127 clip


def test_binary_inner_products_are_hamming_similarities():
    x = _clustered(d=70)  # not a multiple of 8: padding bits must not count
    stored, scales = embedding_codec.encode(x, "binary")
    assert stored.dtype == np.uint8 and stored.shape == (600, 9) and scales is None
    decoded = embedding_codec.decode(stored, "binary", 70)
    signs = x > 0
    hamming = (signs[:5, None, :] != signs[None, :5, :]).sum(axis=2)
    np.testing.assert_allclose(decoded[:5] @ decoded[:5].T, 1 - 2 * hamming / 70, atol=1e-6)


def test_recall_against_float_orders_the_precisions():
    x = _clustered()
    recall = {}
    for dtype in ("float32", "int8", "binary"):
        stored, scales = embedding_codec.encode(x, dtype)
        recall[dtype] = embedding_codec.recall_against_float(x, stored, dtype, scales)
    assert recall["float32"] == 1.0
    assert 0.9 < recall["int8"] <= 1.0 and 0.3 < recall["binary"] < recall["int8"], recall


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype must be one of"):
        embedding_codec.encode(np.zeros((2, 4), np.float32), "int4")
