"""EMS objectives end to end on the demo corpus: from scratch, combined with distillation."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.trainer import Distiller
from lealla.models.students.student_config import StudentConfig
from tests.conftest import train_file_reads

BASE = {
    "objective.name": "ems",
    "teacher.name": None,
    "student.name": "ems_test",
    "data.train_data": ("demo:train",),
    "data.dev_data": ("demo:dev",),
    "data.batch_size": 32,
    "data.seq_length": 32,
    "data.bucket_lengths": (16, 32),
    "optimizer.learning_rate": 3e-3,
    "optimizer.warmup_steps": 10,
    "trainer.log_every": 50,
    "trainer.eval_every": 0,
}


@pytest.fixture(scope="module")
def sp_model(tmp_path_factory, use_m_tokenizer, demo_train_texts):
    """USE-m's SentencePiece model pruned to the demo corpus: a vocab file, no teacher."""
    from lealla.tokenization import vocab_pruning

    folder = str(tmp_path_factory.mktemp("vocab") / "pruned")
    tok, pruned = vocab_pruning.prune_tokenizer(use_m_tokenizer, demo_train_texts)
    vocab_pruning.save_pruned(folder, tok, pruned)
    return os.path.join(folder, "sp.model")


def _run(model_dir, settings, loaded_teacher=None):
    config = DistillConfig().override({**BASE, **settings})
    return Distiller(config, str(model_dir), tf.distribute.get_strategy(), teacher=loaded_teacher)


@pytest.mark.large  # end to end, 200 steps: ~30 s on 2 cores
def test_ems_from_scratch_learns_without_a_teacher(sp_model, tmp_path):
    run = tmp_path / "run"
    distiller = _run(
        run, {"student.vocab": sp_model, "trainer.steps": 200, "trainer.checkpoint_every": 200}
    )
    assert distiller.teacher is None and distiller.projection is None
    metrics = distiller.train()
    # Chance is 1/50 = 0.02 (50 dev pairs per language pair).
    assert metrics["dev_accuracy"] > 0.08, metrics
    first = np.mean([loss for _, loss in distiller.history[:20]])
    last = np.mean([loss for _, loss in distiller.history[-20:]])
    assert last < first - 1.0, (first, last)
    languages = json.loads((run / "languages.json").read_text())["languages"]
    assert languages == sorted(demo_corpus.DEMO_LANGUAGES)
    # The layout export relies on: the encoder is `student`, the heads sit beside it.
    best = tf.train.latest_checkpoint(str(run / "best"))
    names = {name.split("/")[0] for name, _ in tf.train.list_variables(best)}
    assert {"student", "xtr_head", "contrastive_head"} <= names and "projection" not in names
    student = StudentConfig.from_json_file(str(run / "student_config.json")).build()
    # The heads are left behind on purpose: the encoder alone is restored.
    tf.train.Checkpoint(student=student).restore(
        best
    ).expect_partial().assert_existing_objects_matched()
    ids = tf.constant([[2, 40, 41, 3, 0]])
    inputs = {"token_ids": ids, "padding_mask": tf.cast(ids > 0, tf.int32)}
    np.testing.assert_allclose(
        student(inputs)["sentence_embedding"].numpy(),
        distiller.student(inputs)["sentence_embedding"].numpy(),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


@pytest.fixture(scope="module")
def teacher(use_m_module):
    from lealla.models.teachers import loading

    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    return loading.load_teacher("use-multilingual")


def test_ems_plus_distill_runs(teacher, tmp_path, corpus_reads):
    distiller = _run(
        tmp_path / "run", {
            "objective.name": "ems+distill", "teacher.name": "use-multilingual",
            "student.vocab": "pruned", "trainer.steps": 4, "optimizer.warmup_steps": 2,
            "trainer.checkpoint_every": 4, "objective.ems_distill.xtr_sampled": 64,
            "data.seq_length": 16, "data.bucket_lengths": (16,), "student.token_init": "table",
        }, teacher,
    )  # fmt: skip
    # Vocabulary pruning, the language table and the input pipeline share one read.
    assert train_file_reads(corpus_reads, "demo:train") == {1}
    metrics = distiller.train()
    assert set(metrics["losses"]) == {
        "total", "xtr", "contrastive", "feature", "logit", "cross", "bank"
    }  # fmt: skip
    assert all(np.isfinite(v) for v in metrics["losses"].values())
    assert metrics["losses"]["feature"] > 0 and metrics["losses"]["xtr"] > 0
    latest = distiller.manager.latest_checkpoint
    names = {n.split("/")[0] for n, _ in tf.train.list_variables(latest)}
    assert {"projection", "xtr_head", "contrastive_head", "optimizer"} <= names
    # The backbone restores alone from the training checkpoint, as export does it.
    student = distiller.student_config.build()
    tf.train.Checkpoint(student=student).restore(latest).expect_partial()
    np.testing.assert_array_equal(
        student.token_embedding.embeddings.numpy(),
        distiller.student.token_embedding.embeddings.numpy(),
    )


@pytest.mark.large  # end to end: minutes on 2 cores
def test_resume_refuses_another_objective(sp_model, tmp_path):
    # A run with a checkpoint (a folder holding only a config starts over instead).
    short = {"student.vocab": sp_model, "trainer.steps": 2, "optimizer.warmup_steps": 1}
    _run(tmp_path / "run", {**short, "trainer.checkpoint_every": 2}).train()
    with pytest.raises(
        ValueError, match=r"other settings \(objective.name: saved 'ems', now 'ems\+distill'"
    ):
        _run(tmp_path / "run", {**short, "objective.name": "ems+distill",
                                "teacher.name": "use-multilingual"})  # fmt: skip


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"student.vocab": "pruned"},
            r"objective 'ems' without a teacher needs a vocabulary: --student.vocab=PATH",
        ),
        ({"teacher.cache": ("/c",), "student.vocab": "v.txt"}, "has no distillation term"),
        ({"objective.name": "lealla"}, "objective 'lealla' distils from a teacher: give --teacher"),
        (
            {
                "objective.ems.xtr_weight": 0.0,
                "objective.ems.contrastive_weight": 0.0,
                "student.vocab": "v.txt",
            },
            r"all loss weights of objective 'ems' \(xtr_weight, contrastive_weight\) are 0",
        ),
        (
            {"objective.ems.xtr_sampled": 8, "runtime.jit_compile": True, "student.vocab": "v.txt"},
            "xtr_sampled needs jit_compile off",
        ),
        (
            {"objective.ems.contrastive_temperature": 0.0, "student.vocab": "v.txt"},
            "contrastive_temperature must be > 0",
        ),
    ],
)
def test_config_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        DistillConfig().override({**BASE, **overrides})


@pytest.mark.large  # ~25 s of subprocesses; the EMS loop itself is tested in-process above
def test_cli_ems_demo_flagfile_without_a_teacher(sp_model, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "lealla.cli.distill_main", "--config=ems_demo", "--teacher=",
           f"--student.vocab={sp_model}", f"--model_dir={tmp_path / 'run'}", "--student=ems_test",
           "--steps=4", "--optimizer.warmup_steps=1", "--data.batch_size=16", "--trainer.eval_every=0",
           "--data.seq_length=16", "--data.bucket_lengths=16"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "objective ems, teacher none" in out.stderr
    assert "step 4: loss" in out.stdout
    saved = json.loads((tmp_path / "run" / "distill_config.json").read_text())
    assert (saved["objective"]["name"], saved["teacher"]["name"], saved["student"]["name"]) == (
        "ems",
        None,
        "ems_test",
    )
    bad = subprocess.run(
        [*cmd[:5], "--student.vocab=pruned", f"--model_dir={tmp_path / 'bad'}"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert bad.returncode != 0
    assert "objective 'ems' without a teacher needs a vocabulary" in bad.stderr


def test_a_new_objective_is_one_module_and_one_registry_line(trained_run, tmp_path):
    from lealla.models.export import restore
    from tests.distill import toy_objective

    config = trained_run[1].config
    toy = config.override({
        "objective.name": toy_objective.TOY.name, "trainer.steps": 30,
        "trainer.checkpoint_every": 30, "trainer.eval_every": 0, "trainer.log_every": 10,
        "student.token_init": "table",  # no teacher call: the pieces start is the shared run's
    })  # fmt: skip
    distiller = Distiller(toy, str(tmp_path / "toy"), tf.distribute.get_strategy())
    assert set(distiller.heads) == {"toy_projection"}
    distiller.train()
    losses = [loss for _, loss in distiller.history]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    encoder = restore.restore_sentence_encoder(str(tmp_path / "toy"))  # exports as any run
    assert encoder.encode(["Hallo Welt"]).shape == (1, encoder.backbone.embedding_dim)
