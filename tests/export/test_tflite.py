"""TFLite export: tokenizer inside, verified variants, fresh-process loading, refusals."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.models.export import exporter, model_card, restore, tflite_export
from lealla.models.export.tflite_model import TFLiteEncoder, UnsupportedOpError
from lealla.tokenization import packing

FLOATS = exporter.ExportConfig(
    checkpoint="latest", labse_format=False, tflite_variants=("float32", "float16")
)


def _texts() -> list[str]:
    """Strings in all 14 demo languages, an empty one and one over the length limit."""
    texts = [
        s for lang in demo_corpus.DEMO_LANGUAGES for s in demo_corpus.read_split("test", lang)[:2]
    ]
    return [*texts, "", " ".join(demo_corpus.read_split("test", "ru"))]


@pytest.fixture(scope="module")
def tflite_exported(trained_run, tmp_path_factory):
    model_dir, _ = trained_run
    out = str(tmp_path_factory.mktemp("tflite") / "export")
    metadata = exporter.export_model(model_dir, out, FLOATS)
    return model_dir, out, metadata


def test_dense_packing_equals_the_ragged_packer(use_m_tokenizer):
    texts = ["", "Hello world", " ".join(demo_corpus.read_split("test", "de")), "日本語の文"]
    for batch in ([], [""], ["", ""], texts):
        for seq_length in (3, 8, 64):
            ragged = packing.Packer(use_m_tokenizer, seq_length)(tf.constant(batch, tf.string))
            width = max([2, *ragged.row_lengths().numpy().tolist()])
            expected = packing.pad_to_length(ragged, width, use_m_tokenizer.special_ids.pad)
            ids, mask = packing.pack_dense(
                use_m_tokenizer.tokenize(tf.constant(batch, tf.string)),
                use_m_tokenizer.special_ids, seq_length,
            )  # fmt: skip
            np.testing.assert_array_equal(ids.numpy(), expected["input_word_ids"].numpy())
            np.testing.assert_array_equal(mask.numpy(), expected["input_mask"].numpy())


@pytest.mark.large  # an export with two conversions (~40 s with the next test)
def test_variants_written_with_their_measurements(tflite_exported):
    _, out, metadata = tflite_exported
    tflite = metadata["tflite"]
    assert set(tflite["variants"]) == {"float32", "float16"}
    for variant, report in tflite["variants"].items():
        path = os.path.join(out, tflite_export.FILES[variant])
        assert os.path.getsize(path) == report["bytes"]
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~_umask())
        assert report["cosine_mean"] >= tflite_export.MIN_COSINE[variant]
        assert set(report["sentences_per_second"]) == {"batch_1", "batch_64"}
        assert report["dev_accuracy"] == pytest.approx(
            tflite["saved_model"]["dev_accuracy"], abs=0.01
        )
        assert report["custom_ops"] == ["RaggedTensorToTensor", "TFText>FastSentencepieceTokenize"]
    # float16 stores half the bytes of the weights
    assert tflite["variants"]["float16"]["bytes"] < 0.75 * tflite["variants"]["float32"]["bytes"]
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        card = f.read()
    assert "AddFastSentencepieceTokenize(&resolver)" in card and "model_float16.tflite" in card
    with open(os.path.join(out, exporter.METADATA_FILE), encoding="utf-8") as f:
        on_disk = json.load(f)
    assert on_disk["tflite"]["variants"]["float32"]["file"] == "model.tflite"


_FRESH = """
import json, sys
import numpy as np
from lealla.models.export.tflite_model import TFLiteEncoder
texts = json.load(open(sys.argv[2], encoding="utf-8"))
encoder = TFLiteEncoder(sys.argv[1])
np.save(sys.argv[3], np.stack([encoder(texts), np.concatenate([encoder([t]) for t in texts])]))
print(len(encoder([])))
"""


@pytest.mark.large  # two fresh interpreters (~25 s)
def test_each_variant_in_a_fresh_process_batch_of_one_and_many(tflite_exported, tmp_path):
    model_dir, out, _ = tflite_exported
    texts = _texts()
    expected = restore.restore_sentence_encoder(model_dir, "latest").encode(texts)
    (tmp_path / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variant in ("float32", "float16"):
        got_file = str(tmp_path / f"{variant}.npy")
        proc = subprocess.run(
            [sys.executable, "-c", _FRESH, os.path.join(out, tflite_export.FILES[variant]),
             str(tmp_path / "texts.json"), got_file],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().splitlines()[-1] == "0"  # an empty batch: [0, d]
        batch, alone = np.load(got_file)
        for got in (batch, alone):
            cosine = np.sum(got * expected, axis=1)
            assert cosine.min() >= tflite_export.MIN_COSINE[variant], (variant, cosine.min())
            np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)


@pytest.mark.large
def test_a_tflite_file_is_an_encoder_spec(tflite_exported):
    from lealla.api import encoders

    _, out, metadata = tflite_exported
    encoder = encoders.load_encoder(os.path.join(out, "model.tflite"))
    got = encoder.encode(_texts(), batch_size=7)
    assert got.shape == (len(_texts()), metadata["embedding_dim"])


@pytest.mark.large  # another export and conversion (~30 s)
def test_wordpiece_student_converts_with_its_tokenizer(wordpiece_run, tmp_path):
    config = exporter.ExportConfig(labse_format=False, tflite_variants=("float32",))
    metadata = exporter.export_model(wordpiece_run, str(tmp_path / "export"), config)
    report = metadata["tflite"]["variants"]["float32"]
    assert report["custom_ops"] == [
        "FastBertNormalize", "FastWordpieceTokenizeWithOffsets", "RaggedTensorToTensor"
    ]  # fmt: skip
    lower, upper = TFLiteEncoder(str(tmp_path / "export" / "model.tflite"))(
        ["hello world", "HELLO WORLD"]
    )
    np.testing.assert_allclose(lower, upper, atol=1e-5)  # uncased, as the SavedModel


@pytest.mark.large  # a whole export (~25 s)
def test_a_variant_missing_its_bar_is_left_out_with_its_numbers(
    trained_run, tmp_path, monkeypatch, caplog
):
    monkeypatch.setitem(tflite_export.MIN_COSINE, "float16", 1.01)
    out = tmp_path / "export"
    metadata = exporter.export_model(trained_run[0], str(out), FLOATS)
    reason = metadata["tflite"]["refused"]["float16"]
    assert re.fullmatch(
        r"TFLite float16 variant refused, left out of the export: mean cosine to the "
        r"SavedModel [01]\.\d{4} < 1\.01 \(probe set: \d+ sentences; dev: \d+ pairs\)",
        reason,
    ), reason
    assert any(r.levelname == "WARNING" and r.getMessage() == reason for r in caplog.records)
    # The SavedModel and the variants that pass are written; the refused one is not.
    assert (out / "saved_model.pb").exists() and (out / "model.tflite").exists()
    assert not (out / "model_float16.tflite").exists()
    assert set(metadata["tflite"]["variants"]) == set(metadata["sizes"]["tflite"]) == {"float32"}
    assert reason in (out / "README.md").read_text(encoding="utf-8")
    on_disk = json.loads((out / exporter.METADATA_FILE).read_text(encoding="utf-8"))
    assert on_disk["tflite"]["refused"] == {"float16": reason}


@pytest.mark.large  # three conversions and the fresh-process checks (~2 min)
def test_the_default_variants_pass_on_the_demo_student(trained_run, tmp_path):
    out = tmp_path / "export"
    proc = subprocess.run(
        [sys.executable, "-m", "lealla.cli.main", "export", f"--model_dir={trained_run[0]}",
         f"--out={out}", "--tflite"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert tflite_export.DEFAULT_VARIANTS == ("float32", "float16", "dynamic_int8")
    metadata = json.loads((out / exporter.METADATA_FILE).read_text(encoding="utf-8"))
    tflite = metadata["tflite"]
    assert {"float32", "float16"} <= set(tflite["variants"]), tflite["refused"]
    # dynamic_int8 passes on trained students (benchmarks/RESULTS.md); on this 40-step one
    # it may miss the dev bar: then it is left out, with its numbers on stderr.
    assert set(tflite["variants"]) | set(tflite["refused"]) == set(tflite_export.DEFAULT_VARIANTS)
    for variant, reason in tflite["refused"].items():
        assert variant == "dynamic_int8" and reason in proc.stderr, reason
    assert not (out / tflite_export.FILES["int8"]).exists()  # full int8 is opt-in
    last = proc.stdout.strip().splitlines()[-1]
    sizes = metadata["sizes"]
    assert last == model_card.size_summary(sizes)
    assert last.startswith(f"size: SavedModel {sizes['saved_model'] / 1e6:.1f} MB, TFLite float32")
    assert all(f"TFLite {variant} " in last for variant in tflite["variants"])
    assert not any(f"TFLite {variant} " in last for variant in tflite["refused"])
    assert last.endswith(f"(parameters {sizes['parameter_bytes_float32'] / 1e6:.1f} MB in float32)")


def test_an_op_without_a_tflite_kernel_is_named(tmp_path):
    class Module(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, texts):
            cleaned = tf.strings.regex_replace(texts, "[0-9]+", "0")
            return {
                "default": tf.cast(tf.strings.to_hash_bucket_fast(cleaned, 7), tf.float32)[:, None]
            }

    module = Module()
    path = str(tmp_path / "saved")
    tf.saved_model.save(module, path, signatures={"serving_default": module.__call__})
    with pytest.raises(
        UnsupportedOpError, match="StaticRegexReplace|RegexReplace|StringToHashBucketFast"
    ):
        model = tflite_export.convert(path, "float32")
        tflite_export.verify(model, "float32", lambda t: np.zeros((len(t), 1)), ["a 1"], {}, None)


def test_representative_data_refusals(trained_run, write):
    model_dir, _ = trained_run
    tokenizer = restore.restore_sentence_encoder(model_dir, "latest").tokenizer
    empty = write("empty/de.txt", "")
    with pytest.raises(ValueError, match=r"empty/de.txt.*no sentences to calibrate"):
        exporter.representative_sentences([empty], tokenizer)
    thai = write("thai/th.txt", "ภาษาไทยเป็นภาษาที่สวยงามมาก\n" * 20)
    with pytest.raises(ValueError, match=r"thai/th.txt.*unknown to the student's vocabulary"):
        exporter.representative_sentences([thai], tokenizer)
    sample = exporter.representative_sentences(["demo:train"], tokenizer, count=40)
    assert len(sample) == len(set(sample)) == 40  # both sides, each sentence once
    assert "Our cat sleeps on my pillow every night." in sample


def test_cli_flags(trained_run, tmp_path):
    out = str(tmp_path / "export")
    proc = subprocess.run(
        [sys.executable, "-m", "lealla.cli.main", "export", f"--model_dir={trained_run[0]}",
         f"--out={out}", "--tflite", "--tflite_variants=float32,int4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "int4" in proc.stderr and "float16" in proc.stderr
    assert not os.path.exists(out)


def _umask() -> int:
    from lealla.files import atomic

    return atomic.current_umask()


@pytest.mark.large  # a conversion with dynamic-range quantization (~25 s)
def test_int8_token_table_has_a_scale_per_row(trained_run, tmp_path):
    from lealla.models.export import modules

    encoder = restore.restore_sentence_encoder(trained_run[0], "latest")
    texts = _texts()
    row_quantized = modules.RowQuantizedStringEncoder(
        encoder.tokenizer, encoder.backbone, encoder.seq_length
    )
    got = row_quantized(tf.constant(texts)).numpy()
    assert np.sum(got * encoder.encode(texts), axis=1).min() >= 0.999
    # The dynamic-range variant converts from it (no dev set: the cosine bar alone).
    source, table = tflite_export.quantized_source(encoder, "unused", str(tmp_path))
    assert table == "int8, a scale per row"
    model = tflite_export.convert(source, "dynamic_int8")
    report = tflite_export.verify(model, "dynamic_int8", encoder.encode, texts, {}, None, table)
    assert report.cosine_mean >= tflite_export.MIN_COSINE["dynamic_int8"]
    float_bytes = encoder.backbone.token_embedding.embeddings.numpy().nbytes
    assert report.bytes < float_bytes  # the float table is not frozen in beside the codes
