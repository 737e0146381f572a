"""Export: loads everywhere users load it, LaBSE-format pair, overwrite refusal, atomicity."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.files import fileio, output_dirs
from lealla.models.export import (
    exporter,
    load_check,
    model_card,
    restore,
    tflite_export,
    verification,
)

LATEST = exporter.ExportConfig(checkpoint="latest", labse_format=True)
LATEST_ONLY_STRING_MODULE = exporter.ExportConfig(checkpoint="latest")


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    model_dir, distiller = trained_run
    out = str(tmp_path_factory.mktemp("exports") / "lealla-tiny")
    metadata = exporter.export_model(model_dir, out, LATEST)
    return out, metadata, distiller


def test_loads_four_ways_in_a_fresh_process_with_the_students_embeddings(exported):
    out, _, distiller = exported
    texts = demo_corpus.read_split("test", "ja")[:5] + demo_corpus.read_split("test", "de")[:5]
    # The in-memory student of the training run (latest checkpoint = its final weights).
    expected = distiller.encoder.encode(texts)
    diffs = load_check.check_in_subprocess(out, texts, expected, tolerance=1e-5)
    assert set(diffs) == {*load_check.LOADERS, load_check.PAIR_LOADER}
    assert max(diffs.values()) <= 1e-5, diffs


def test_any_batch_size_and_long_inputs_truncated(exported):
    out, metadata, _ = exported
    module = tf.saved_model.load(out)
    assert module(tf.constant([], tf.string)).shape == (0, metadata["embedding_dim"])
    long_text = " ".join(demo_corpus.read_split("test", "en"))
    a, b = module(tf.constant([long_text, long_text + " and more words at the end"])).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)  # both cut to the same first 32 tokens
    np.testing.assert_allclose(np.linalg.norm(a), 1.0, atol=1e-5)
    big = module(tf.constant(demo_corpus.read_split("train", "fr"))).numpy()
    assert big.shape == (300, metadata["embedding_dim"])


def test_only_the_student_is_exported(exported):
    out, metadata, distiller = exported
    module = tf.saved_model.load(out)
    shapes = sorted(tuple(v.shape) for v in module.variables)
    assert shapes == sorted(tuple(w.shape) for w in distiller.student.weights)
    teacher_dim = distiller.teacher.embedding_dim
    assert not any(teacher_dim in s for s in shapes)  # the distillation projection stayed behind
    assert metadata["parameters"] == distiller.student.count_params()


def test_labse_format_pair(exported):
    out, metadata, distiller = exported
    from lealla.models.teachers import loading

    pair = loading.load_teacher(
        os.path.join(out, "labse_format", "encoder"),
        preprocessor=os.path.join(out, "labse_format", "preprocessor"),
        seq_length=32,
    )
    assert pair.format == "labse_v2"
    assert pair.tokenizer.vocab_size == metadata["tokenizer"]["vocab_size"]
    texts = demo_corpus.read_split("dev", "ar")[:6]
    np.testing.assert_allclose(
        pair.embed(tf.constant(texts)).numpy(), distiller.encoder.encode(texts), atol=1e-5
    )
    pre = tf.saved_model.load(os.path.join(out, "labse_format", "preprocessor"))
    packed = pre(tf.constant(texts))
    assert packed["input_word_ids"].shape == (6, 32)
    tokens = pre.tokenize(tf.constant(["Hello world", "Hallo"]))
    assert tokens.ragged_rank == 2
    both = pre.bert_pack_inputs([tokens, tokens], tf.constant(12))
    assert both["input_word_ids"].shape == (2, 12)
    row = both["input_type_ids"][0].numpy()
    mask = both["input_mask"][0].numpy()
    n_a = int(tokens[0].flat_values.shape[0])
    assert row[: n_a + 2].tolist() == [0] * (n_a + 2)  # [CLS] a [SEP]
    assert set(row[n_a + 2 : mask.sum()].tolist()) == {1}  # b [SEP]
    enc = tf.saved_model.load(os.path.join(out, "labse_format", "encoder"))
    outputs = enc(pre(tf.constant(texts)))
    assert outputs["sequence_output"].shape[:2] == (6, 32)
    assert outputs["pooled_output"].shape[0] == 6


def test_export_loads_as_a_teacher_with_its_tokenizer(exported):
    out, metadata, distiller = exported
    from lealla.models.teachers import loading

    teacher = loading.load_teacher(out)
    assert (teacher.format, teacher.embedding_dim) == ("string", metadata["embedding_dim"])
    assert teacher.tokenizer.vocab_size == distiller.tokenizer.vocab_size
    texts = demo_corpus.read_split("dev", "ko")[:4]
    np.testing.assert_allclose(
        teacher.embed(tf.constant(texts)).numpy(), distiller.encoder.encode(texts), atol=1e-5
    )


def test_model_card_and_metadata(exported):
    out, metadata, _distiller = exported
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        card = f.read()
    assert "hub.KerasLayer" in card and "import tensorflow_text" in card
    assert "Op type not registered" in card
    assert f"{metadata['parameters']:,}" in card
    assert "use-multilingual" in card and "de-en" in card
    with open(os.path.join(out, "lealla_export.json"), encoding="utf-8") as f:
        saved = json.load(f)
    assert saved["checkpoint"] == {"which": "latest", "step": 40}
    assert saved["tokenizer"]["kind"] == "sentencepiece"
    assert saved["tokenizer"]["pruned_from"] == 128_000
    assert os.path.isfile(os.path.join(out, saved["sentencepiece_model"]))
    assert saved["verification"]["max_abs_diff"] <= 1e-5
    # No local path travels with the model: the run's cache folder by its name only.
    with open(os.path.join(out, "lealla_export.json"), encoding="utf-8") as f:
        text = f.read()
    assert saved["training"]["teacher_cache"] == ["demo_train"]
    for published in (card, text):
        assert not re.search(r"(^|[\s\"'(])(/|~/)\w", published), published


def _saved_tensors(saved_model: str) -> dict[str, np.ndarray]:
    """Every tensor of a SavedModel's variables checkpoint, by checkpoint key."""
    prefix = os.path.join(saved_model, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    return {
        name: reader.get_tensor(name)
        for name, _ in tf.train.list_variables(prefix)
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }


@pytest.mark.parametrize("part", [".", os.path.join("labse_format", "encoder")])
def test_each_saved_model_stores_every_weight_once(exported, part):
    out, _, distiller = exported
    tensors = _saved_tensors(os.path.join(out, part))
    by_shape: dict[tuple, list[str]] = {}
    for name, value in tensors.items():
        by_shape.setdefault((value.shape, value.dtype.str), []).append(name)
    for names in by_shape.values():
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                assert not np.array_equal(tensors[a], tensors[b]), (a, b)
    weights = sum(int(np.prod(w.shape)) for w in distiller.student.weights)
    assert sum(v.size for v in tensors.values() if v.dtype == np.float32) == weights


def test_sizes_on_disk_in_the_metadata_and_the_card(exported):
    out, metadata, _ = exported
    sizes = metadata["sizes"]
    assert sizes["parameter_bytes_float32"] == 4 * metadata["parameters"]
    assert sizes["saved_model"] == tflite_export.saved_model_bytes(out)
    assert sizes["labse_format"] == fileio.folder_bytes(os.path.join(out, "labse_format"))
    assert sizes["total"] == sizes["saved_model"] + sizes["labse_format"]
    # variables/ holds the weights once (it held the token table twice: 1.9x)
    assert sizes["saved_model_variables"] <= 1.1 * sizes["parameter_bytes_float32"]
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        card = f.read()
    assert "## Size on disk" in card
    part = "SavedModel (`saved_model.pb`, `variables/`, `assets/`)"
    assert f"| {part} | {sizes['saved_model'] / 1e6:.1f} MB |" in card
    assert "LaBSE-format pair" in model_card.size_summary(sizes)


def test_the_default_export_has_no_labse_format_pair(trained_run, tmp_path):
    out = tmp_path / "export"
    metadata = exporter.export_model(trained_run[0], str(out))
    assert not (out / "labse_format").exists() and metadata["labse_format"] is None
    assert metadata["sizes"]["labse_format"] is None
    assert metadata["sizes"]["total"] == metadata["sizes"]["saved_model"]
    assert "LaBSE" not in model_card.size_summary(metadata["sizes"])


FLOAT16 = exporter.ExportConfig(checkpoint="latest", weights_dtype="float16")


@pytest.mark.large  # an export and a fresh-process load (~1 min)
def test_float16_weights_half_the_bytes_and_float32_compute(trained_run, tmp_path):
    out = str(tmp_path / "export")
    metadata = exporter.export_model(trained_run[0], out, FLOAT16)
    floats = [v for v in _saved_tensors(out).values() if v.dtype.kind == "f"]
    assert floats and {v.dtype for v in floats} == {np.dtype(np.float16)}
    sizes = metadata["sizes"]
    assert sizes["saved_model_variables"] <= 0.55 * sizes["parameter_bytes_float32"]
    weights = metadata["weights"]
    assert weights["dtype"] == "float16" and weights["compute_dtype"] == "float32"
    assert weights["cosine_to_float32_mean"] >= verification.MIN_FLOAT16_COSINE
    assert weights["dev_accuracy"] is not None and weights["float32_dev_accuracy"] is not None
    # Every loader computes the student with float16-rounded weights, in float32.
    encoder, _ = exporter.exported_encoder(trained_run[0], FLOAT16, measure=False)
    texts = exporter.probe_sentences()
    expected = encoder.encode(texts)
    diffs = load_check.check_in_subprocess(out, texts, expected, tolerance=1e-5)
    assert set(diffs) == set(load_check.LOADERS) and max(diffs.values()) <= 1e-5, diffs
    float32 = restore.restore_sentence_encoder(trained_run[0], "latest").encode(texts)
    assert np.abs(float32 - expected).max() > 0  # the rounding is there, and measured
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        assert "stores its weights in float16 and computes in float32" in f.read()


def test_float16_weights_refused_with_numbers_below_the_bar(trained_run, tmp_path, monkeypatch):
    monkeypatch.setattr(verification, "MIN_FLOAT16_COSINE", 1.01)
    with pytest.raises(
        exporter.ExportVerificationError,
        match=r"--weights_dtype=float16 refused: mean cosine to the float32 model "
        r"[01]\.\d{5} < 1\.01.*dev retrieval accuracy",
    ):
        exporter.export_model(trained_run[0], str(tmp_path / "export"), FLOAT16)
    assert os.listdir(tmp_path) == []


def test_without_tensorflow_text_the_documented_error(exported):
    error = load_check.load_error_without_tensorflow_text(exported[0])
    assert error is not None and "Op type not registered" in error and "TFText" in error


def test_refuses_to_overwrite_and_replaces_when_asked(trained_run, tmp_path):
    model_dir, _ = trained_run
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="pass --overwrite"):
        exporter.export_model(model_dir, str(out))
    assert (out / "keep.txt").read_text() == "user data"
    # --overwrite replaces an export, never a folder the toolkit did not write.
    with pytest.raises(output_dirs.NotOursError, match="export holds keep.txt, which"):
        exporter.export_model(model_dir, str(out), LATEST_ONLY_STRING_MODULE, overwrite=True)
    assert (out / "keep.txt").read_text() == "user data"
    (out / "keep.txt").unlink()
    exporter.export_model(model_dir, str(out), LATEST_ONLY_STRING_MODULE, overwrite=True)
    assert (out / "saved_model.pb").exists()
    (out / "saved_model.pb").write_bytes(b"to be replaced")  # an export: replaced when asked
    exporter.export_model(model_dir, str(out), LATEST_ONLY_STRING_MODULE, overwrite=True)
    assert (out / "saved_model.pb").read_bytes() != b"to be replaced"
    assert sorted(os.listdir(tmp_path)) == ["export"]  # no temp, old or lock files left


def test_interrupted_export_leaves_nothing_half_written(trained_run, tmp_path, monkeypatch):
    model_dir, _ = trained_run
    out = tmp_path / "export"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(exporter, "_save_labse_pair", interrupted)
    with pytest.raises(KeyboardInterrupt):
        exporter.export_model(model_dir, str(out), LATEST)
    assert os.listdir(tmp_path) == []
    # An existing export survives a failed --overwrite untouched.
    out.mkdir()
    (out / "saved_model.pb").write_bytes(b"previous export")
    (out / "lealla_export.json").write_text('{"embedding_dim": 8}')
    with pytest.raises(KeyboardInterrupt):
        exporter.export_model(model_dir, str(out), LATEST, overwrite=True)
    assert (out / "saved_model.pb").read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["export"]


def test_verification_failure_publishes_nothing(trained_run, tmp_path):
    config = exporter.ExportConfig(labse_format=False, tolerance=-1.0)
    with pytest.raises(exporter.ExportVerificationError, match="max_abs_diff"):
        exporter.export_model(trained_run[0], str(tmp_path / "export"), config)
    assert os.listdir(tmp_path) == []


def test_wordpiece_student_uncased_mean_pooled_and_fine_tunable(wordpiece_run, tmp_path):
    out = str(tmp_path / "export")
    metadata = exporter.export_model(wordpiece_run, out, exporter.ExportConfig(labse_format=False))
    assert metadata["tokenizer"] == {
        "kind": "wordpiece", "vocab_size": metadata["tokenizer"]["vocab_size"],
        "asset": "assets/vocab.txt", "lower_case": True,
    }  # fmt: skip
    assert metadata["checkpoint"]["which"] == "best"  # falls back to the latest: no best/
    assert metadata["embedding_dim"] == 24 and metadata["seq_length"] == 16
    module = tf.saved_model.load(out)
    lower, upper = module(tf.constant(["hello world", "HELLO WORLD"])).numpy()
    np.testing.assert_allclose(lower, upper, atol=1e-6)  # uncased vocab: case is folded

    import tensorflow_hub as hub
    import tf_keras

    layer = hub.KerasLayer(out, trainable=True)
    inputs = tf_keras.layers.Input(shape=(), dtype=tf.string)
    model = tf_keras.Model(inputs, layer(inputs))
    assert len(model.trainable_weights) == len(module.trainable_variables) > 0
    texts = tf.constant(["a sentence", "another one"])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(texts, training=True)[:, 0])
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None for g in grads)
    assert max(float(tf.reduce_max(tf.abs(tf.convert_to_tensor(g)))) for g in grads) > 0
    inference = model(texts, training=False).numpy()
    np.testing.assert_allclose(inference, module(texts).numpy(), atol=1e-6)


def test_restore_errors(tmp_path, wordpiece_run):
    with pytest.raises(ValueError, match="not a training model_dir"):
        restore.restore_sentence_encoder(str(tmp_path))
    with pytest.raises(ValueError, match="checkpoint must be one of"):
        restore.checkpoint_path(wordpiece_run, "first")
    empty = tmp_path / "run"
    for name in ("tokenizer", "checkpoints"):
        (empty / name).mkdir(parents=True)
    for name in ("distill_config.json", "student_config.json"):
        (empty / name).write_text("{}")
    with pytest.raises(ValueError, match="no checkpoint in best/ or checkpoints/"):
        restore.checkpoint_path(str(empty))


def test_cli_refuses_an_existing_path_naming_it(trained_run, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "lealla.cli.export_main", f"--model_dir={trained_run[0]}",
         f"--out={out}", "--check_loaders=false"],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode != 0
    assert f"export path {out} exists; pass --overwrite" in proc.stderr + proc.stdout


def test_killed_export_leftovers_are_removed_and_files_are_world_readable(trained_run, tmp_path):
    model_dir, _ = trained_run
    out = tmp_path / "export"
    # The export holds out's lock, so whatever carries its temp or aside names is a
    # killed export's (this version's or an older one's); a user's folder is left alone.
    stale = tmp_path / "export.lealla-tmp-4194304-0123abcd"
    (stale / "variables").mkdir(parents=True)
    (stale / "saved_model.pb").write_bytes(b"half written")
    (tmp_path / f"export.tmp-{os.getppid()}-89abcdef").mkdir()  # an older version's name
    (tmp_path / "export.lealla-old-7-89abcdef").mkdir()
    users = tmp_path / "export.tmp-backup"
    users.mkdir()
    old_umask = os.umask(0o022)
    try:
        exporter.export_model(model_dir, str(out), LATEST_ONLY_STRING_MODULE)
    finally:
        os.umask(old_umask)
    assert sorted(os.listdir(tmp_path)) == sorted(["export", users.name])
    for folder, dirs, files in os.walk(out):
        for name in files:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o644, name
        for name in dirs:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o755, name


def test_a_damaged_checkpoint_is_named_with_what_to_do(trained_run, tmp_path):
    import shutil

    model_dir = str(tmp_path / "run")
    shutil.copytree(trained_run[0], model_dir)
    best = tf.train.latest_checkpoint(os.path.join(model_dir, "best"))
    (data,) = [p for p in os.listdir(os.path.dirname(best))
               if p.startswith(os.path.basename(best) + ".data")]  # fmt: skip
    path = os.path.join(os.path.dirname(best), data)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(ValueError, match=r"best/ckpt-\d+: the checkpoint is damaged .* "
                                         r"use --checkpoint=latest"):  # fmt: skip
        restore.restore_sentence_encoder(model_dir, "best")
    assert restore.restore_sentence_encoder(model_dir, "latest").backbone is not None
