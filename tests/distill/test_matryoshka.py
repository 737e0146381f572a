"""Truncatable (Matryoshka) embeddings: the loss and the config (export: tests/export)."""

import numpy as np
import pytest
import tensorflow as tf

from distill import objective
from distill.distill_config import DistillConfig
from lealla.truncation import parse_dims, truncate_embeddings
from students.student_config import StudentConfig
from students.truncated import TruncatedBackbone


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
    base = dict(train_data=("x",), ams_weight=0.3, logit_weight=0.5, cross_weight=1.0)
    config = DistillConfig(**base, matryoshka_dims=(8,), matryoshka_weight=0.7)
    losses = objective.lealla_losses(
        batch, student, projection, config, training=False, bank=bank,
        prefix_projections={8: projection_8},
    )  # fmt: skip
    plain = DistillConfig(**base)
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
        ({"matryoshka_dims": (64, 32)}, "increasing positive widths"),
        ({"matryoshka_dims": (0,)}, "increasing positive widths"),
        ({"matryoshka_dims": (32,), "matryoshka_weight": 0.0}, "matryoshka_weight must be > 0"),
        ({"matryoshka_dims": (32,), "objective": "ems+distill"}, "applies to objective 'lealla'"),
    ],
)
def test_bad_matryoshka_settings_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        DistillConfig(train_data=("x",), **overrides)
    config = DistillConfig(train_data=("x",), matryoshka_dims=(16, 32))
    with pytest.raises(ValueError, match=r"matryoshka_dims \[32\] must be below .* width 32"):
        config.check_matryoshka_width(32)


@pytest.mark.large  # two demo_small students: minutes on 2 cores
def test_matryoshka_student_beats_an_ordinary_one_at_32_and_64_dims(trained_run, tmp_path):
    from distill.trainer import Distiller
    from export import restore
    from lealla import corpus
    from lealla.evaluation.retrieval import pair_accuracies

    dev = corpus.parallel_groups(("demo:dev",))
    settings = dict(
        student="demo_small", train_data=("demo:train",), dev_data=("demo:dev",),
        teacher_cache=trained_run[1].config.teacher_cache, batch_size=32, seq_length=32,
        bucket_lengths=(32,), steps=400, warmup_steps=40, learning_rate=1e-3, eval_every=0,
        log_every=100, checkpoint_every=400,
    )  # fmt: skip
    accuracy = {}
    for name, extra in (("ordinary", {}), ("matryoshka", {"matryoshka_dims": (32, 64)})):
        model_dir = str(tmp_path / name)
        config = DistillConfig(**settings, **extra)
        metrics = Distiller(config, model_dir, tf.distribute.get_strategy()).train()
        encoder = restore.restore_sentence_encoder(model_dir)
        accuracy[name] = {
            m: float(np.mean(list(pair_accuracies(
                lambda texts, m=m, e=encoder: truncate_embeddings(e.encode(texts), m), dev
            ).values())))
            for m in (32, 64, 128)
        }  # fmt: skip
    ordinary, nested = accuracy["ordinary"], accuracy["matryoshka"]
    # The trainer's own per-prefix dev evaluation agrees with the restored student's.
    assert metrics["dev_accuracy_by_dims"]["32"] == pytest.approx(nested[32], abs=1e-6)
    assert nested[32] > ordinary[32] and nested[64] > ordinary[64], accuracy
    assert nested[128] >= ordinary[128] - 0.01, accuracy
