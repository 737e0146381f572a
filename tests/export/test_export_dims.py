"""`lealla export --dims`: a Matryoshka run exported at one of its trained widths."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from lealla.truncation import truncate_embeddings


@pytest.fixture(scope="module")
def matryoshka_run(wordpiece_run, tmp_path_factory):
    """The wordpiece run (24-dim output) as if trained with --matryoshka_dims=8,16."""
    model_dir = tmp_path_factory.mktemp("matryoshka") / "run"
    shutil.copytree(wordpiece_run, model_dir)
    (model_dir / "distill_config.json").write_text(json.dumps(
        {"seq_length": 16, "matryoshka_dims": [8, 16], "dev_data": ["demo:dev"]}))  # fmt: skip
    return str(model_dir)


def test_export_at_a_trained_prefix(matryoshka_run, tmp_path):
    from export import exporter, restore

    out = str(tmp_path / "export16")
    config = exporter.ExportConfig(labse_format=False, dims=16)
    metadata = exporter.export_model(matryoshka_run, out, config)
    texts = exporter.probe_sentences()
    got = tf.saved_model.load(out)(tf.constant(texts)).numpy()
    full = restore.restore_sentence_encoder(matryoshka_run).encode(texts)
    assert got.shape == (len(texts), 16) and metadata["embedding_dim"] == 16
    np.testing.assert_allclose(got, truncate_embeddings(full, 16), atol=1e-5)
    matryoshka = metadata["matryoshka"]
    assert matryoshka["trained_dims"] == [8, 16, 24] and matryoshka["dims"] == 16
    assert set(matryoshka["dev_accuracy"]) == {"8", "16", "24"}
    card = (tmp_path / "export16" / "README.md").read_text()
    assert "## Truncatable embeddings" in card and "| 16 |" in card
    assert (tmp_path / "export16" / "dims.png").read_bytes()[:4] == b"\x89PNG"


def test_export_refuses_widths_it_was_not_trained_for(matryoshka_run, tmp_path):
    from export import exporter

    out = tmp_path / "export"
    with pytest.raises(exporter.DimsError, match="--dims=30 exceeds the model's 24"):
        exporter.export_model(matryoshka_run, str(out), exporter.ExportConfig(dims=30))
    with pytest.raises(exporter.DimsError, match=r"--dims=12 is not a width .* 8, 16, 24.*--force"):
        exporter.export_model(matryoshka_run, str(out), exporter.ExportConfig(dims=12))
    assert not out.exists()
    forced = exporter.ExportConfig(labse_format=False, dims=12, force_dims=True)
    assert exporter.export_model(matryoshka_run, str(out), forced)["embedding_dim"] == 12
