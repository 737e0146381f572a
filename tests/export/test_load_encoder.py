"""`lealla.load_encoder(spec).encode(texts)`: one student as a run folder, an export and its
.tflite files gives the same embeddings; empty, single, generator and large inputs."""

import os
import zlib

import numpy as np
import pytest

import lealla
from lealla.data import demo_corpus
from lealla.models.export import exporter, tflite_export

EXPORT = exporter.ExportConfig(
    checkpoint="latest", labse_format=False, tflite_variants=("float32", "dynamic_int8")
)


def _texts() -> list[str]:
    """Sentences of every demo language, of mixed lengths (length order != input order)."""
    return [
        s for lang in demo_corpus.DEMO_LANGUAGES for s in demo_corpus.read_split("dev", lang)[:3]
    ]


@pytest.fixture(scope="module")
def run_encoder(wordpiece_run):
    return lealla.load_encoder(wordpiece_run, checkpoint="latest")


def test_encode_returns_unit_float32_rows_in_input_order(run_encoder, wordpiece_run):
    texts = _texts()
    got = run_encoder.encode(texts, batch_size=5)
    assert got.dtype == np.float32 and got.shape == (len(texts), run_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    one_by_one = np.concatenate([run_encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(got, one_by_one, atol=1e-5)
    shuffled = np.random.default_rng(0).permutation(len(texts))
    again = run_encoder.encode([texts[i] for i in shuffled], batch_size=5)
    np.testing.assert_allclose(again, got[shuffled], atol=1e-5)
    assert run_encoder.name == wordpiece_run and isinstance(run_encoder, lealla.TextEncoder)


def test_empty_one_tuple_and_generator(run_encoder):
    texts = _texts()[:7]
    assert run_encoder.encode([]).shape == (0, run_encoder.dim)
    assert run_encoder.encode(t for t in []).shape == (0, run_encoder.dim)
    assert run_encoder.encode(["Hallo"]).shape == (1, run_encoder.dim)
    expected = run_encoder.encode(texts)
    np.testing.assert_array_equal(run_encoder.encode(tuple(texts)), expected)
    np.testing.assert_array_equal(run_encoder.encode(t for t in texts), expected)


def test_ten_thousand_texts(run_encoder):
    # Distinct texts of lengths 1..40 words in a scrambled order: every batch is cut from
    # the length-sorted texts, and each row must come back to its own position.
    words = demo_corpus.read_split("train", "en")[0].split()
    texts = [
        " ".join(words[(i + k) % len(words)] for k in range(1 + zlib.crc32(str(i).encode()) % 40))
        + f" {i}"
        for i in range(10_000)
    ]
    got = run_encoder.encode(texts, batch_size=256)
    assert got.shape == (10_000, run_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    probe = [0, 1, 4_999, 9_998, 9_999]
    np.testing.assert_allclose(got[probe], run_encoder.encode([texts[i] for i in probe]), atol=1e-5)


def test_bad_input_is_named(run_encoder):
    with pytest.raises(TypeError, match="not one string"):
        run_encoder.encode("Hallo")
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        run_encoder.encode(["Hallo", 3])
    with pytest.raises(ValueError, match="batch_size"):
        run_encoder.encode(["Hallo"], batch_size=0)
    with pytest.raises(ValueError, match="checkpoint must be one of"):
        lealla.load_encoder("use-multilingual", checkpoint="newest")


@pytest.mark.large  # an export with two TFLite conversions (~40 s)
def test_run_folder_export_and_tflite_agree(wordpiece_run, run_encoder, tmp_path):
    out = str(tmp_path / "export")
    lealla.export(wordpiece_run, out, EXPORT)
    texts = [*_texts(), ""]
    expected = run_encoder.encode(texts)
    exported = lealla.load_encoder(out)
    assert exported.dim == run_encoder.dim
    assert np.abs(exported.encode(texts) - expected).max() <= 1e-5
    tflite = lealla.load_encoder(os.path.join(out, tflite_export.FILES["float32"]))
    assert np.abs(tflite.encode(texts, batch_size=7) - expected).max() <= 1e-5
    int8 = lealla.load_encoder(os.path.join(out, tflite_export.FILES["dynamic_int8"]))
    cosine = np.sum(int8.encode(texts) * expected, axis=1)
    assert cosine.min() >= 0.99, cosine.min()
