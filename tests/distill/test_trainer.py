"""The distillation loop end to end on the demo corpus with the real offline teacher."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.objectives import lealla as lealla_objective
from lealla.models.distill.trainer import Distiller, DivergedError

BASE = {
    # The teacher-table start: these tests are not about the start, and it costs no
    # teacher call (the default, "pieces", is covered by conftest's trained_run).
    "student.token_init": "table",
    "student.name": "tiny_test",
    "student.overrides": {"max_sequence_length": 64},
    "data.train_data": ("demo:train",),
    "data.dev_data": ("demo:dev",),
    "data.batch_size": 32,
    "data.seq_length": 32,
    "data.bucket_lengths": (32,),  # one shape: one trace of the train step
    "optimizer.learning_rate": 1e-3,
    "optimizer.warmup_steps": 10,
    "trainer.log_every": 10,
    "trainer.eval_every": 0,
}


@pytest.fixture(scope="module")
def teacher(use_m_module):
    from lealla.models.teachers import loading

    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    return loading.load_teacher("use-multilingual")


class Killed(BaseException):
    """A hard kill (SIGKILL, power loss): nothing gets to save. Ctrl-C is KeyboardInterrupt."""


def _run(model_dir, loaded_teacher, settings=None, **more):
    config = DistillConfig().override({**BASE, **(settings or {}), **more})
    return Distiller(config, str(model_dir), tf.distribute.get_strategy(), teacher=loaded_teacher)


@pytest.mark.large  # end to end, 300 steps with the teacher in the loop: ~30 s on 2 cores
def test_default_recipe_learns_and_does_not_collapse(teacher, tmp_path):
    distiller = _run(
        tmp_path / "run", teacher, {"trainer.steps": 300, "trainer.checkpoint_every": 300}
    )
    metrics = distiller.train()
    first = np.mean([loss for _, loss in distiller.history[:20]])
    last = np.mean([loss for _, loss in distiller.history[-20:]])
    assert last < first
    # A collapsed student (the mean embedding) retrieves at chance: 1/50 = 0.02.
    assert metrics["dev_accuracy"] > 0.08, metrics
    # Student-teacher fidelity through the projection.
    texts = demo_corpus.read_split("dev", "de")
    target = teacher.embed(tf.constant(texts)).numpy()
    inputs = distiller.packer(tf.constant(texts))
    mask = tf.sequence_mask(inputs.row_lengths(), dtype=tf.int32)
    pooled = distiller.student({"token_ids": inputs.to_tensor(), "padding_mask": mask})[
        "pooled_output"
    ]
    projected = tf.math.l2_normalize(distiller.projection(pooled), -1).numpy()
    # Each projected student embedding finds its own sentence's teacher embedding among
    # the 50 (chance 0.02); a collapsed student (one vector for all) cannot. (The raw
    # cosine is no test here: the default contrastive term ignores the teacher's common
    # mean direction, which a mean-embedding baseline scores on.)
    fidelity = np.mean(np.argmax(projected @ target.T, axis=1) == np.arange(len(texts)))
    assert fidelity > 0.2, fidelity
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["dev_accuracy"] == pytest.approx(metrics["dev_accuracy"])
    assert json.loads((tmp_path / "run" / "best" / "best.json").read_text())["step"] == 300


@pytest.mark.large  # end to end: minutes on 2 cores
def test_kill_and_resume_continues_the_same_run(teacher, tmp_path, monkeypatch):
    # Without dropout, a step's loss depends only on weights, optimizer and data position.
    no_dropout = {"student.overrides": {"max_sequence_length": 64, "dropout": 0.0}}
    straight = _run(
        tmp_path / "a", teacher, {"trainer.steps": 16, "trainer.checkpoint_every": 8}, **no_dropout
    )
    straight.train()
    expected = dict(straight.history)

    killed = _run(
        tmp_path / "b", teacher, {"trainer.steps": 16, "trainer.checkpoint_every": 8}, **no_dropout
    )
    real_step = killed._train_step

    def dying_step(batch):
        if int(killed.step.numpy()) == 12:
            raise Killed()
        return real_step(batch)

    killed._train_step = dying_step
    with pytest.raises(Killed):
        killed.train()
    resumed = _run(
        tmp_path / "b", teacher, {"trainer.steps": 16, "trainer.checkpoint_every": 8}, **no_dropout
    )
    assert resumed.resumed_from == 8
    resumed.train()
    got = dict(resumed.history)
    assert sorted(got) == list(range(9, 17))
    # Same weights, same optimizer state, same data position: the same losses.
    for step in (9, 13, 16):
        assert got[step] == pytest.approx(expected[step], rel=1e-4, abs=1e-4), step

    # A newest checkpoint cut short (a kill while saving, a full disk): the run falls back
    # to the newest intact one and says so.
    newest = tf.train.latest_checkpoint(str(tmp_path / "a" / "checkpoints"))
    (data,) = [p for p in os.listdir(tmp_path / "a" / "checkpoints")
               if p.startswith(os.path.basename(newest) + ".data")]  # fmt: skip
    path = tmp_path / "a" / "checkpoints" / data
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    fallback = _run(
        tmp_path / "a", teacher, {"trainer.steps": 16, "trainer.checkpoint_every": 8}, **no_dropout
    )
    assert fallback.resumed_from == 8


def test_nan_guard_stops_before_writing_a_bad_checkpoint(teacher, tmp_path, monkeypatch):
    real = lealla_objective.lealla_losses
    calls = tf.Variable(0)

    def poisoned(*args, **kwargs):
        losses = real(*args, **kwargs)
        calls.assign_add(1)
        bad = tf.where(calls > 4, np.nan, 1.0)
        return {**losses, "total": losses["total"] * bad}

    monkeypatch.setattr(lealla_objective, "lealla_losses", poisoned)
    distiller = _run(
        tmp_path / "run", teacher, {"trainer.steps": 20, "trainer.checkpoint_every": 2}
    )
    with pytest.raises(
        DivergedError, match="loss diverged at step 5.*last good checkpoint is .*ckpt-4"
    ):
        distiller.train()
    names = os.listdir(tmp_path / "run" / "checkpoints")
    assert not any(n.startswith("ckpt-5") or n.startswith("ckpt-6") for n in names)


def test_resume_with_other_settings_is_refused(teacher, tmp_path):
    # A run with a checkpoint (a folder with only a config is not a run yet: see below).
    _run(
        tmp_path / "run",
        teacher,
        {"trainer.steps": 2, "optimizer.warmup_steps": 1, "trainer.checkpoint_every": 2},
    ).train()
    _run(
        tmp_path / "run",
        teacher,
        {"trainer.steps": 4, "optimizer.warmup_steps": 1, "trainer.checkpoint_every": 2},
    )  # more steps: fine
    with pytest.raises(ValueError, match=r"other settings \(data.batch_size: saved 32, now 16\)"):
        _run(
            tmp_path / "run",
            teacher,
            {"trainer.steps": 4, "optimizer.warmup_steps": 1, "data.batch_size": 16},
        )


def test_a_cache_of_another_teacher_is_refused(teacher, tmp_path):
    # Training from a cache is covered by the shared run (conftest.trained_run).
    from lealla.data import corpus
    from lealla.models.teachers import embedding_cache

    cache = str(tmp_path / "cache")
    embedding_cache.build_cache(teacher, corpus.resolve_sources("demo:train"), cache)
    with pytest.raises(
        embedding_cache.CacheMismatchError, match="holds embeddings of 'use-multilingual'"
    ):
        _run(
            tmp_path / "other",
            teacher,
            {
                "trainer.steps": 2,
                "optimizer.warmup_steps": 1,
                "teacher.cache": (cache,),
                "teacher.name": "labse",
            },
        ).train()


def test_a_cache_of_other_sentences_is_refused_before_anything_is_written(teacher, tmp_path):
    # Silently wrong before: the run trained on the cache while distill_config.json and
    # the vocabulary said demo:train.
    from lealla.data import corpus
    from lealla.models.teachers import embedding_cache

    other = tmp_path / "de-en.tsv"
    other.write_text("".join(f"Satz {i}.\tSentence {i}.\n" for i in range(5)), encoding="utf-8")
    cache = str(tmp_path / "cache")
    embedding_cache.build_cache(teacher, corpus.resolve_sources(str(other)), cache)
    with pytest.raises(
        embedding_cache.CacheMismatchError,
        match=r"built from \[de-en.tsv\], but the training data is \[",
    ):
        _run(
            tmp_path / "run",
            teacher,
            {"trainer.steps": 2, "optimizer.warmup_steps": 1, "teacher.cache": (cache,)},
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.large  # two caches built with the real teacher, then a run
def test_a_run_reads_several_caches_as_one_corpus(teacher, tmp_path):
    # Text added to the training data needs a cache of its own, not the corpus again.
    from lealla.data import corpus
    from lealla.models.teachers import embedding_cache

    files, caches = [], []
    for lang in ("de", "fr"):
        xx, en = demo_corpus.read_split("train", lang)[:60], demo_corpus.read_split("train", "en")
        path = tmp_path / f"{lang}-en.tsv"
        path.write_text("".join(f"{a}\t{b}\n" for a, b in zip(xx, en, strict=False)), "utf-8")
        files.append(str(path))
        caches.append(str(tmp_path / f"cache_{lang}"))
        embedding_cache.build_cache(teacher, corpus.resolve_sources(str(path)), caches[-1])
    distiller = _run(
        tmp_path / "run",
        teacher,
        {
            "trainer.steps": 2,
            "optimizer.warmup_steps": 1,
            "data.train_data": tuple(files),
            "teacher.cache": tuple(caches),
            "objective.lealla.bank_size": 64,
            "trainer.checkpoint_every": 2,
        },
    )
    assert np.isfinite(distiller.train()["losses"]["feature"])
    saved = json.loads((tmp_path / "run" / "distill_config.json").read_text())
    assert saved["teacher"]["cache"] == caches
    with pytest.raises(embedding_cache.CacheMismatchError, match=r"the cache at .*cache_de was"):
        _run(
            tmp_path / "one",
            teacher,
            {
                "trainer.steps": 2,
                "optimizer.warmup_steps": 1,
                "data.train_data": tuple(files),
                "teacher.cache": (caches[0],),
            },
        )


@pytest.mark.large  # a cache and a run with the real teacher; the mixing itself is tested fast
def test_a_share_in_train_data_sets_that_files_part_of_the_batches(teacher, tmp_path):
    from lealla.data import corpus
    from lealla.models.distill import data
    from lealla.models.teachers import embedding_cache

    de, en = demo_corpus.read_split("train", "de")[:60], demo_corpus.read_split("train", "en")[:60]
    tsv = tmp_path / "de-en.tsv"
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)), encoding="utf-8")
    ko = tmp_path / "chat.ko.txt"
    ko.write_text("".join(f"{t}\n" for t in demo_corpus.read_split("train", "ko")[:10]),
                  encoding="utf-8")  # fmt: skip
    cache = str(tmp_path / "cache")
    embedding_cache.build_cache(teacher, corpus.resolve_sources([str(tsv), str(ko)]), cache)
    # The only monolingual text: by language it would get the whole --data.mono_share (0.5).
    distiller = _run(
        tmp_path / "run",
        teacher,
        {
            "trainer.steps": 2,
            "optimizer.warmup_steps": 1,
            "teacher.cache": (cache,),
            "data.train_data": (str(tsv), f"{ko}@0.2"),
            "trainer.checkpoint_every": 2,
        },
    )
    assert distiller.config.data.mono_share == 0.5
    assert distiller.train()["step"] == 2
    context = tf.distribute.InputContext()
    batches = data.train_dataset_fn(distiller.config, distiller.packer)(context).take(40)
    mono = np.mean([1 - b["is_parallel"].numpy().mean() for b in batches])
    assert 0.15 < mono < 0.25


def test_cached_run_learns(trained_run):
    # The shared run (conftest.trained_run) distils 40 steps from a teacher cache.
    with open(os.path.join(trained_run[0], "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    assert metrics["step"] == 40 and metrics["dev_accuracy"] > 0.02, metrics  # chance: 0.02
    # The out-of-domain dev signal (--dev_mono_data): the teacher embedded the dev
    # sentences once; the student keeps some of its neighbourhoods (chance: k / n).
    distiller = trained_run[1]
    texts = distiller.evaluator.dev_mono.texts
    with np.load(os.path.join(trained_run[0], "dev_mono_teacher.npz")) as f:
        saved = f["embeddings"]
    np.testing.assert_allclose(
        saved, distiller.teacher.embed(tf.constant(list(texts))).numpy(), atol=1e-5
    )
    assert metrics["dev_agreement"] > 10 / len(texts), metrics
    assert metrics["dev_score"] == pytest.approx(metrics["dev_accuracy"] + metrics["dev_agreement"])
    with open(os.path.join(trained_run[0], "best", "best.json"), encoding="utf-8") as f:
        best = json.load(f)
    assert set(best) == {"step", "dev_accuracy", "dev_agreement", "dev_score"}, best
    # Checkpoints are proportionate: weights + optimizer slots, not the input pipeline's
    # shuffle buffers of cached embeddings.
    weights = sum(int(np.prod(v.shape)) for v in distiller.variables) * 4
    folder = os.path.join(trained_run[0], "checkpoints")
    data = sum(
        os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder) if ".data-" in n
    )
    assert data < 3.5 * weights + 1e6, (data, weights)


@pytest.mark.large  # ~90 s: the same loop in-process is tested above; losses on 2 replicas
def test_cli_with_two_cpu_replicas(use_m_module, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "LEALLA_CACHE_DIR": os.path.dirname(os.path.dirname(use_m_module))}  # fmt: skip
    cmd = [sys.executable, "-m", "lealla.cli.distill_main", "--config=demo", f"--model_dir={tmp_path / 'run'}",
           "--student=tiny_test", "--student.overrides=max_sequence_length=64", "--steps=6",
           "--optimizer.warmup_steps=2", "--data.batch_size=16", "--trainer.checkpoint_every=3", "--trainer.eval_every=0",
           "--cpu_replicas=2"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "with 2 replica(s)" in out.stderr
    assert "step 6: loss" in out.stdout
    again = subprocess.run(
        [*cmd[:-3], "--steps=8", *cmd[-2:]], capture_output=True, text=True, env=env, timeout=600
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed from step 6" in again.stdout


@pytest.mark.large  # ~2 minutes of wall time by design
def test_time_budget_ends_on_time_and_resumes_the_same_budget(teacher, tmp_path):
    budget = 60.0  # a 1-minute run
    # Checkpoints every 2 steps: the kill must come early in the minute even on a busy
    # machine, where the first steps (tracing) take most of it.
    settings = {
        "trainer.steps": 10**9,
        "trainer.train_minutes": budget / 60,
        "trainer.checkpoint_every": 2,
    }
    killed = _run(tmp_path / "run", teacher, {"trainer.eval_every": 50}, **settings)
    real_step = killed._train_step

    def dying_step(batch):
        if int(killed.step.numpy()) == 3:  # after the checkpoint of step 2
            raise Killed()
        return real_step(batch)

    killed._train_step = dying_step
    with pytest.raises(Killed):
        killed.train()
    resumed = _run(tmp_path / "run", teacher, {"trainer.eval_every": 50}, **settings)
    spent = float(resumed.elapsed.numpy())
    assert resumed.resumed_from == 2 and 0.0 < spent < budget / 2, spent
    start = time.perf_counter()
    metrics = resumed.train()
    wall = time.perf_counter() - start
    # The resumed run spends what is left of the budget, final evaluation included.
    assert 0.9 * (budget - spent) <= wall <= 1.1 * (budget - spent) + 1.0, (wall, spent)
    assert 0.75 * budget <= metrics["train_seconds"] <= budget, metrics  # + final evaluation
    assert metrics["step"] > resumed.resumed_from and "dev_accuracy" in metrics
    # The schedule decayed on the budget: the rate at the end is near 0.
    assert float(resumed.optimizer.learning_rate) < 0.25 * BASE["optimizer.learning_rate"]
    assert int(resumed.step.numpy()) == metrics["step"]
    assert resumed.manager.latest_checkpoint.endswith(f"ckpt-{metrics['step']}")


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(teacher, tmp_path):
    run = _run(tmp_path / "run", teacher, {"trainer.steps": 40, "trainer.checkpoint_every": 20})
    real_step = run._train_step

    def interrupted_step(batch):
        if int(run.step.numpy()) == 7:
            raise KeyboardInterrupt()
        return real_step(batch)

    run._train_step = interrupted_step
    with pytest.raises(KeyboardInterrupt, match="interrupted at step 7, checkpoint saved; rerun"):
        run.train()
    assert (
        _run(
            tmp_path / "run", teacher, {"trainer.steps": 40, "trainer.checkpoint_every": 20}
        ).resumed_from
        == 7
    )


@pytest.mark.large  # end to end: minutes on 2 cores
def test_bad_training_lines_are_named_or_skipped(teacher, tmp_path):
    from lealla.files import textio

    de, en = demo_corpus.read_split("train", "de"), demo_corpus.read_split("train", "en")
    rows = [f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)]
    rows[40] = "nur ein Feld\n"
    path = tmp_path / "de-en.tsv"
    path.write_text("".join(rows), encoding="utf-8")
    with pytest.raises(textio.CorpusError, match=r"de-en.tsv:41: expected 2 tab-separated"):
        _run(
            tmp_path / "run",
            teacher,
            {"trainer.steps": 2, "optimizer.warmup_steps": 1, "data.train_data": (str(path),)},
        )
    # The failed start left no checkpoint: the corrected command is not "a run with
    # other settings".
    run = _run(
        tmp_path / "run",
        teacher,
        {
            "trainer.steps": 2,
            "optimizer.warmup_steps": 1,
            "data.train_data": (str(path),),
            "data.on_bad_line": "skip",
        },
    )
    assert run.train()["step"] == 2


@pytest.mark.large  # end to end: minutes on 2 cores
def test_a_cache_run_resumes_without_loading_the_teacher(trained_run, monkeypatch):
    from lealla.models.teachers import loading

    def no_teacher(*args, **kwargs):
        raise AssertionError("the teacher was loaded")

    monkeypatch.setattr(loading, "load_teacher", no_teacher)
    model_dir, first = trained_run
    resumed = Distiller(first.config, model_dir, tf.distribute.get_strategy())
    assert resumed.teacher is None and resumed.resumed_from == 40
    assert resumed.projection.units == first.projection.units == 512
    # The agreement signal reads the teacher's dev embeddings saved on the first start.
    assert resumed.evaluate(41)["dev_agreement"] == pytest.approx(
        first.evaluate(41)["dev_agreement"]
    )


@pytest.mark.large  # end to end: minutes on 2 cores
def test_float16_overflow_skips_the_step_and_lowers_the_loss_scale(teacher, tmp_path, monkeypatch):
    # Wrong before: the finite check saw the loss-scaled gradients and stopped the run.
    real = lealla_objective.lealla_losses
    calls = tf.Variable(0)

    def overflowing(*args, **kwargs):
        losses = real(*args, **kwargs)
        calls.assign_add(1)
        blow_up = tf.where(tf.equal(calls, 3), 1e30, 1.0)  # finite loss, infinite scaled grads
        return {**losses, "total": losses["total"] * blow_up}

    monkeypatch.setattr(lealla_objective, "lealla_losses", overflowing)
    run = _run(
        tmp_path / "run",
        teacher,
        {
            "trainer.steps": 6,
            "optimizer.warmup_steps": 1,
            "trainer.checkpoint_every": 6,
            "runtime.dtype_policy": "mixed_float16",
        },
    )
    scale = float(run.optimizer.dynamic_scale.numpy())
    metrics = run.train()
    assert metrics["step"] == 6
    assert float(run.optimizer.dynamic_scale.numpy()) < scale


def test_token_init_pieces_starts_any_vocabulary_from_the_teachers_piece_embeddings(
    teacher, demo_wordpiece_vocab, tmp_path
):
    from lealla.models.distill import student_setup
    from lealla.models.students import embedding_init

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{t}\n" for t in demo_wordpiece_vocab), encoding="utf-8")
    runs = {
        source: _run(
            tmp_path / source,
            teacher,
            {"student.vocab": str(vocab), "student.token_init": source, "trainer.steps": 10},
        )
        for source in ("table", "pieces")
    }
    pieces = runs["pieces"]
    table = pieces.student.token_embedding.embeddings.numpy()
    expected = embedding_init.pca_project(
        student_setup.piece_embeddings(teacher, pieces.tokenizer), table.shape[1]
    )
    np.testing.assert_allclose(table, expected, atol=1e-5)
    # "table" needs the teacher's vocabulary: this one starts from random rows.
    random_rows = runs["table"].student.token_embedding.embeddings.numpy()
    assert not np.allclose(random_rows, expected, atol=1e-3)
    # Pieces of one meaning across languages start closer than unrelated ones.
    vocabulary = pieces.tokenizer.vocabulary()
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    for word, translation, other in (("casa", "house", "cat"), ("und", "and", "car")):
        w, t, o = (unit[vocabulary.index(x)] for x in (word, translation, other))
        assert w @ t > w @ o, (word, translation, other)
    with pytest.raises(ValueError, match="token_init must be one of"):
        DistillConfig().override({**BASE, "student.token_init": "rows"})


def test_a_cache_folder_given_as_a_string_is_refused():
    with pytest.raises(ValueError, match="teacher_cache must be a tuple of folders"):
        DistillConfig().override({**BASE, "teacher.cache": "c"})
