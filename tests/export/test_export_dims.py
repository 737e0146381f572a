"""`lealla export --dims`: a Matryoshka run exported at one of its trained widths."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.embeddings.truncation import truncate_embeddings


@pytest.fixture(scope="module")
def matryoshka_run(wordpiece_run, tmp_path_factory):
    """The wordpiece run (24-dim output) as if trained with --lealla.matryoshka_dims=8,16."""
    model_dir = tmp_path_factory.mktemp("matryoshka") / "run"
    shutil.copytree(wordpiece_run, model_dir)
    (model_dir / "distill_config.json").write_text(json.dumps({
        "data": {"seq_length": 16, "dev_data": ["demo:dev"]},
        "objective": {"name": "lealla", "lealla": {"matryoshka_dims": [8, 16]}},
    }))  # fmt: skip
    return str(model_dir)


def test_export_at_a_rotated_prefix(matryoshka_run, tmp_path):
    from lealla.embeddings.truncation import pca_rotation
    from lealla.models.export import exporter, restore

    out = str(tmp_path / "export12")
    texts = tuple(demo_corpus.split_path("train", lang) for lang in ("de", "en", "fr"))
    config = exporter.ExportConfig(labse_format=False, dims=12, representative_data=texts)
    metadata = exporter.export_model(matryoshka_run, out, config)
    probes = exporter.probe_sentences()
    got = tf.saved_model.load(out)(tf.constant(probes)).numpy()
    student = restore.restore_sentence_encoder(matryoshka_run)
    sample = exporter.representative_sentences(texts, student.tokenizer, count=4096)
    rotation = pca_rotation(student.encode(sample))
    assert got.shape == (len(probes), 12) and metadata["embedding_dim"] == 12
    np.testing.assert_allclose(got, truncate_embeddings(student.encode(probes) @ rotation, 12),
                               atol=1e-5)  # fmt: skip
    truncation = metadata["truncation"]
    assert truncation["trained_dims"] == [8, 16, 24] and truncation["dims"] == 12
    assert truncation["rotation"] == f"pca of {len(sample)} training sentences"
    assert set(truncation["dev_accuracy"]) == {"8", "12", "16", "24"}
    card = (tmp_path / "export12" / "README.md").read_text()
    assert "## Embedding width" in card and "rotated by the PCA" in card and "| 12 |" in card
    assert (tmp_path / "export12" / "dims.png").read_bytes()[:4] == b"\x89PNG"


def test_without_rotation_only_trained_prefixes(matryoshka_run, tmp_path):
    from lealla.models.export import exporter, restore

    out = tmp_path / "export"
    with pytest.raises(exporter.DimsError, match="--dims=30 exceeds the model's 24"):
        exporter.export_model(matryoshka_run, str(out), exporter.ExportConfig(dims=30))
    plain = {"labse_format": False, "pca_rotation": False}
    with pytest.raises(exporter.DimsError, match=r"--dims=12 is not a width .* 8, 16, 24.*--force"):
        exporter.export_model(matryoshka_run, str(out), exporter.ExportConfig(dims=12, **plain))
    with pytest.raises(ValueError, match="PCA rotation of --dims needs the model's training text"):
        exporter.export_model(matryoshka_run, str(out), exporter.ExportConfig(dims=12))
    assert not out.exists()
    metadata = exporter.export_model(
        matryoshka_run, str(out), exporter.ExportConfig(dims=16, **plain)
    )
    texts = exporter.probe_sentences()
    full = restore.restore_sentence_encoder(matryoshka_run).encode(texts)
    got = tf.saved_model.load(str(out))(tf.constant(texts)).numpy()
    np.testing.assert_allclose(got, truncate_embeddings(full, 16), atol=1e-5)
    assert metadata["truncation"]["rotation"] is None
    forced = exporter.ExportConfig(dims=12, force_dims=True, **plain)
    assert exporter.export_model(matryoshka_run, str(tmp_path / "f"), forced)["embedding_dim"] == 12
