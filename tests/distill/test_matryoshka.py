"""Truncatable (Matryoshka) embeddings: the loss and the config (export: tests/export)."""

import numpy as np
import pytest
import tensorflow as tf

from lealla.embeddings.truncation import parse_dims, truncate_embeddings
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.objectives import lealla as objective
from lealla.models.students.student_config import StudentConfig
from lealla.models.students.truncated import TruncatedBackbone


def test_truncate_embeddings_matches_numpy():
    x = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    x[2] = 0.0
    got = truncate_embeddings(x, 3)
    ref = x[:, :3] / np.maximum(np.linalg.norm(x[:, :3], axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert np.allclose(np.linalg.norm(got[[0, 1, 3, 4]], axis=1), 1.0) and not got[2].any()
    with pytest.raises(ValueError, match="cannot cut 8-dimensional embeddings to 9"):
        truncate_embeddings(x, 9)
    assert parse_dims("32,64", "dims") == (32, 64)
    with pytest.raises(ValueError, match="--dims must be comma-separated integers"):
        parse_dims("32,x", "dims")


def _batch(rng, n=6, length=7, teacher_dim=12):
    lengths = rng.integers(3, length + 1, size=n)
    ids = rng.integers(5, 100, size=(n, length))
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    return {
        "src_ids": tf.constant(ids, tf.int32), "src_length": tf.constant(lengths, tf.int32),
        "tgt_ids": tf.constant(ids[::-1].copy(), tf.int32),
        "tgt_length": tf.constant(lengths[::-1].copy(), tf.int32),
        "is_parallel": tf.constant([True] * (n - 1) + [False]),
        "src_emb": tf.constant(unit(rng.normal(size=(n, teacher_dim))), tf.float32),
        "tgt_emb": tf.constant(unit(rng.normal(size=(n, teacher_dim))), tf.float32),
    }  # fmt: skip


def test_each_prefix_adds_the_full_recipe_on_the_truncated_student():
    """total = total(full) + w * total(first 8 dims): what the export at --dims=8 computes."""
    import keras

    rng = np.random.default_rng(1)
    batch = _batch(rng)
    student = StudentConfig.from_preset("tiny_test", dropout=0.0).build()
    projection, projection_8 = keras.layers.Dense(12), keras.layers.Dense(12)
    projection.build((None, 32)), projection_8.build((None, 8))
    bank = tf.constant(rng.normal(size=(5, 12)), tf.float32)
    base = dict(ams_weight=0.3, logit_weight=0.5, cross_weight=1.0)
    settings = objective.LeallaSettings(**base, matryoshka_dims=(8,), matryoshka_weight=0.7)
    losses = objective.lealla_losses(
        batch, student, projection, settings, training=False, bank=bank,
        prefix_projections={8: projection_8},
    )  # fmt: skip
    plain = objective.LeallaSettings(**base)
    full = objective.lealla_losses(batch, student, projection, plain, training=False, bank=bank)
    prefix = objective.lealla_losses(
        batch, TruncatedBackbone(student, 8), projection_8, plain, training=False, bank=bank
    )
    np.testing.assert_allclose(float(losses["total_8"]), float(prefix["total"]), rtol=1e-5)
    np.testing.assert_allclose(
        float(losses["total"]), float(full["total"]) + 0.7 * float(prefix["total"]), rtol=1e-5
    )
    assert float(prefix["total"]) != pytest.approx(float(full["total"]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"objective.lealla.matryoshka_dims": (64, 32)}, "increasing positive widths"),
        ({"objective.lealla.matryoshka_dims": (0,)}, "increasing positive widths"),
        (
            {"objective.lealla.matryoshka_dims": (32,), "objective.lealla.matryoshka_weight": 0.0},
            "matryoshka_weight must be > 0",
        ),
        (
            {"objective.lealla.matryoshka_dims": (32,), "objective.name": "ems+distill"},
            "applies to objective 'lealla'",
        ),
    ],
)
def test_bad_matryoshka_settings_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        DistillConfig().override({"data.train_data": ("x",), **overrides})
    config = DistillConfig().override({"data.train_data": ("x",),
                                       "objective.lealla.matryoshka_dims": (16, 32)})  # fmt: skip
    with pytest.raises(ValueError, match=r"matryoshka_dims \[32\] must be below .* width 32"):
        config.objective.settings.check_matryoshka_width(32)


def test_a_matryoshka_run_trains_its_prefix_heads_and_reports_each_width(trained_run, tmp_path):
    from lealla.data import corpus
    from lealla.evaluation.retrieval import pair_accuracies
    from lealla.models.distill.trainer import Distiller
    from lealla.models.export import restore

    config = trained_run[1].config.override({
        "objective.lealla.matryoshka_dims": (8, 16), "trainer.steps": 20,
        "trainer.checkpoint_every": 20, "trainer.eval_every": 0, "trainer.log_every": 10,
        "student.token_init": "table",  # no teacher call: the pieces start is the shared run's
    })  # fmt: skip
    distiller = Distiller(config, str(tmp_path / "m"), tf.distribute.get_strategy())
    assert {"projection", "projection_8", "projection_16"} <= set(distiller.heads)
    metrics = distiller.train()
    assert {"total_8", "total_16"} <= set(metrics["losses"])
    encoder = restore.restore_sentence_encoder(str(tmp_path / "m"))
    dev = corpus.parallel_groups(config.data.dev_data)
    for m in (8, 16):
        accuracy = pair_accuracies(lambda t, m=m: truncate_embeddings(encoder.encode(t), m), dev)
        assert metrics["dev_accuracy_by_dims"][str(m)] == pytest.approx(
            float(np.mean(list(accuracy.values()))), abs=1e-6
        )


@pytest.mark.large  # a demo_small student: minutes on 2 cores
def test_rotated_prefixes_beat_plain_ones_and_keep_the_full_width(trained_run, tmp_path):
    """What `export --dims` ships: the PCA-rotated prefix (RESULTS.md: better than
    Matryoshka training at 32 and 64 dims, and free at full width)."""
    from lealla.data import corpus
    from lealla.evaluation.retrieval import pair_accuracies
    from lealla.models.distill.trainer import Distiller
    from lealla.models.export import exporter

    config = DistillConfig().override({
        "student.name": "demo_small", "data.train_data": ("demo:train",),
        "data.dev_data": ("demo:dev",), "teacher.cache": trained_run[1].config.teacher.cache,
        "data.batch_size": 32, "data.seq_length": 32, "data.bucket_lengths": (32,),
        "trainer.steps": 300, "optimizer.warmup_steps": 30, "optimizer.learning_rate": 1e-3,
        "trainer.eval_every": 0, "trainer.log_every": 100, "trainer.checkpoint_every": 300,
    })  # fmt: skip
    model_dir = str(tmp_path / "run")
    Distiller(config, model_dir, tf.distribute.get_strategy()).train()
    dev = corpus.parallel_groups(("demo:dev",))

    def accuracy(encode):
        return float(np.mean(list(pair_accuracies(encode, dev).values())))

    full, _ = exporter.exported_encoder(model_dir, exporter.ExportConfig())
    plain, rotated = {}, {}
    for m in (32, 64, 128):
        plain[m] = accuracy(lambda t, m=m: truncate_embeddings(full.encode(t), m))
        encoder, truncation = exporter.exported_encoder(model_dir, exporter.ExportConfig(dims=m))
        rotated[m] = accuracy(encoder.encode)
        assert truncation["dev_accuracy"][str(m)] == pytest.approx(rotated[m], abs=1e-6)
    assert rotated[32] > plain[32] and rotated[64] > plain[64], (plain, rotated)
    assert rotated[128] == pytest.approx(plain[128], abs=1e-6)  # a rotation keeps cosines
