"""Encoders batch texts by length (less padding) and still return rows in input order."""

import itertools
import zlib

import numpy as np
import pytest

from lealla.embeddings import length_batches
from lealla.embeddings.text_encoder import BatchEncoder

TEXTS = ["a much longer sentence than the rest", "hi", "medium length", "x", "four", "", "ok"]


def _vector(text: str) -> np.ndarray:
    """A deterministic unit vector per text, so a row in the wrong place shows."""
    v = np.random.default_rng(zlib.crc32(text.encode())).normal(size=8)
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_length_order_is_shortest_first_ties_in_given_order():
    assert length_batches.length_order(["bb", "a", "cc", ""]) == [3, 1, 0, 2]


def test_encoder_encode_batches_by_length_and_returns_input_order():
    batches = []

    def fn(batch: list[str]) -> np.ndarray:
        batches.append(batch)
        return np.stack([_vector(t) for t in batch])

    encoder = BatchEncoder("fake", 8, fn)
    got = encoder.encode(TEXTS, batch_size=3)
    np.testing.assert_array_equal(got, np.stack([_vector(t) for t in TEXTS]))
    lengths = [[len(t) for t in b] for b in batches]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert all(max(a) <= min(b) for a, b in itertools.pairwise(lengths)), lengths
    assert encoder.encode([]).shape == (0, 8)


def test_sentence_encoder_matches_one_sentence_at_a_time(trained_run):
    from lealla.models.export import restore

    encoder = restore.restore_sentence_encoder(trained_run[0], "latest")
    texts = ["Das ist ein ziemlich langer Satz über das Wetter.", "Hallo", "Good morning!"]
    one_by_one = np.concatenate([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(encoder.encode(texts, batch_size=2), one_by_one, atol=1e-5)
    assert encoder.encode([]).shape == (0, encoder.backbone.embedding_dim)


@pytest.mark.parametrize("n", [1, 5])
def test_embed_in_length_order_returns_rows_in_input_order(n):
    texts = TEXTS[:n]
    got = length_batches.embed_in_length_order(
        lambda batch: np.stack([_vector(t) for t in batch]), texts, batch_size=2
    )
    np.testing.assert_array_equal(got, np.stack([_vector(t) for t in texts]))
