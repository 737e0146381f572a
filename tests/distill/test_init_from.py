"""--student.init_from: a run starts from another run's student and heads, then trains on its data."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lealla.models.distill.trainer import Distiller
from lealla.models.export import restore
from lealla.records import run_layout

TEXTS = ["Guten Morgen!", "Wo ist der Bahnhof?", "I would like a coffee, please."]


@pytest.mark.large  # a second run of the shared fixture's student
def test_a_run_starts_from_another_runs_student_and_heads(trained_run, tmp_path):
    source_dir, source = trained_run
    config = source.config.override({
        "student.init_from": source_dir, "trainer.steps": 2, "optimizer.warmup_steps": 1,
        "trainer.checkpoint_every": 2, "trainer.eval_every": 0,
    })  # fmt: skip
    run = Distiller(config, str(tmp_path / "next"), tf.distribute.get_strategy())
    best = restore.restore_sentence_encoder(source_dir, "best")
    np.testing.assert_allclose(run.encoder.encode(TEXTS), best.encode(TEXTS), atol=1e-6)
    # The projection head too: each of its variables is the source checkpoint's.
    path = run_layout.checkpoint_path(source_dir, "best")
    reader = tf.train.load_checkpoint(path)
    stored = [reader.get_tensor(n) for n, _ in tf.train.list_variables(path)
              if n.startswith("projection/")]  # fmt: skip
    assert run.projection.weights and stored
    for v in run.projection.weights:
        assert any(np.array_equal(v.numpy(), t) for t in stored), v.name
    # Tokenizer and shape are the source run's, kept in the new run's folder.
    tok, _ = run_layout.load_tokenizer(str(tmp_path / "next"))
    assert tok.vocabulary() == best.tokenizer.vocabulary()
    assert np.isfinite(run.train()["losses"]["feature"])
    assert int(run.step.numpy()) == 2


def test_init_from_refusals_name_the_folder(trained_run, tmp_path):
    source_dir, source = trained_run
    base = source.config.override({"trainer.steps": 2, "optimizer.warmup_steps": 1})
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    with pytest.raises(ValueError, match=r"--student.init_from=.*empty is not a training run"):
        Distiller(base.override({"student.init_from": str(not_a_run)}), str(tmp_path / "a"),
                  tf.distribute.get_strategy())  # fmt: skip
    with pytest.raises(ValueError, match=r"holds a tiny_test student.*--student=tiny_test"):
        Distiller(base.override({"student.init_from": source_dir, "student.name": "demo_small"}),
                  str(tmp_path / "b"), tf.distribute.get_strategy())  # fmt: skip
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "b")


def test_init_from_refuses_what_the_source_fixes_and_applies_dropout(trained_run, tmp_path):
    from lealla.models.distill import student_setup

    source_dir, source = trained_run
    base = source.config.override({
        "student.init_from": source_dir, "trainer.steps": 2, "optimizer.warmup_steps": 1,
    })  # fmt: skip
    shape = {**source.config.student.overrides, "num_layers": 7}
    with pytest.raises(ValueError, match=r"--student.overrides \{'num_layers': 7\}.*num_layers="):
        Distiller(base.override({"student.overrides": shape}), str(tmp_path / "a"),
                  tf.distribute.get_strategy())  # fmt: skip
    with pytest.raises(ValueError, match=r"--student.vocab=teacher does not apply"):
        Distiller(base.override({"student.vocab": "teacher"}), str(tmp_path / "b"),
                  tf.distribute.get_strategy())  # fmt: skip
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "b")
    # Dropout is no shape: it applies on top of the source run's student.
    kept = base.override(
        {"student.overrides": {**source.config.student.overrides, "dropout": 0.25}}
    )
    student_setup.check_init_from(kept)
    os.makedirs(tmp_path / "c")
    student = student_setup.student_config(kept, 1, str(tmp_path / "c"))
    assert student.dropout == 0.25
    assert student.num_layers == source.student_config.num_layers
