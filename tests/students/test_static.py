"""The static tier: a SIF-weighted mean of token vectors, trained and exported like any student."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lealla.models.students import embedding_init
from lealla.models.students.static import StaticBackbone
from lealla.models.students.student_config import StudentConfig
from tests.conftest import train_file_reads


def test_output_is_the_weighted_mean_of_token_vectors():
    backbone = StudentConfig.from_preset("static_128", vocabulary_size=11, hidden_dim=4).build()
    assert isinstance(backbone, StaticBackbone) and backbone.embedding_dim == 4
    rng = np.random.default_rng(0)
    table = rng.normal(size=(11, 4)).astype(np.float32)
    weights = rng.uniform(0.1, 1.0, size=11).astype(np.float32)
    embedding_init.set_static_init(backbone, table, weights)
    ids = np.array([[3, 5, 7, 0], [2, 2, 0, 0]], np.int32)
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], np.int32)
    out = backbone({"token_ids": ids, "padding_mask": mask})
    for row in range(2):
        keep = ids[row][mask[row] == 1]
        mean = (table[keep] * weights[keep, None]).sum(0) / len(keep)
        np.testing.assert_allclose(out["pooled_output"][row], mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            out["sentence_embedding"][row], mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-6
        )


def test_sif_weights_and_piece_surfaces():
    w = embedding_init.sif_weights(np.array([0, 10, 990]), coefficient=1e-2)
    np.testing.assert_allclose(w, [1.0, 0.01 / (0.01 + 0.01), 0.01 / (0.01 + 0.99)], rtol=1e-6)
    assert [embedding_init.piece_surface(p) for p in ["\u2581house", "##ing", "<s>"]] == [
        "house", "ing", "<s>"
    ]  # fmt: skip


def test_config_rejects_layers_for_a_static_student():
    with pytest.raises(ValueError, match="a static student has no layers"):
        StudentConfig.from_preset("static_128", num_layers=2)


def test_static_student_trains_exports_and_reloads(use_m_module, tmp_path, corpus_reads):
    from lealla.data import demo_corpus
    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller
    from lealla.models.export import exporter
    from lealla.models.teachers import loading

    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    teacher = loading.load_teacher("use-multilingual")
    config = DistillConfig().override(
        {
            "student.name": "static_128",
            "student.overrides": {"hidden_dim": 64},
            "data.train_data": ("demo:train",),
            "data.dev_data": ("demo:dev",),
            "data.batch_size": 32,
            "data.seq_length": 32,
            "data.bucket_lengths": (32,),
            "trainer.steps": 60,
            "optimizer.warmup_steps": 5,
            "optimizer.learning_rate": 3e-3,
            "trainer.eval_every": 0,
            "trainer.log_every": 20,
            "trainer.checkpoint_every": 60,
        }
    )
    model_dir = str(tmp_path / "run")
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy(), teacher=teacher)
    # The pruning, the SIF counts and the input pipeline share one read of the corpus.
    assert train_file_reads(corpus_reads, "demo:train") == {1}
    weights = distiller.student.token_weight.embeddings.numpy()[:, 0]
    special = distiller.tokenizer.special_ids
    assert weights[special.cls] == 0 and weights[special.sep] == 0
    assert 0.0 < np.median(weights[weights > 0]) <= 1.0
    dev = demo_corpus.read_split("dev", "de"), demo_corpus.read_split("dev", "en")
    from lealla.evaluation.retrieval import retrieval_accuracy

    untrained = np.mean(retrieval_accuracy(*(distiller.encoder.encode(t) for t in dev)))
    assert untrained > 0.3  # the teacher's token vectors already carry meaning; chance 0.02
    metrics = distiller.train()
    assert metrics["step"] == 60 and metrics["dev_accuracy"] > 0.3, metrics
    out = str(tmp_path / "export")
    metadata = exporter.export_model(
        model_dir, out, exporter.ExportConfig(checkpoint="latest", labse_format=False)
    )
    assert metadata["embedding_dim"] == 64
    module = tf.saved_model.load(out)
    texts = demo_corpus.read_split("test", "ko")[:8]
    np.testing.assert_allclose(
        module(tf.constant(texts)).numpy(), distiller.encoder.encode(texts), atol=1e-5
    )
