"""Exported SavedModel on raw strings vs the in-memory Keras model on pre-tokenized ids.

The student has LEALLA-small's shape with USE-m's vocabulary pruned to the demo
corpus (random weights: speed does not depend on them). The ratio is what
in-graph tokenization and packing cost a user of the export; the in-memory
SentenceEncoder (strings, same graph, not reloaded) separates the cost of the
reload from that of tokenization.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from benchmarks import common
from export import exporter
from lealla import corpus, demo_corpus, run_layout
from lealla.tokenization import packing, sentencepiece, vocab_pruning
from students.student_config import StudentConfig
from teachers import usem3_assets

BATCH, SEQ_LENGTH, ROUNDS = 64, 64, 3


def _model_dir(root: str) -> str:
    """A run folder holding a LEALLA-small-shaped student with a pruned USE-m vocab."""
    texts = [t for _, t in corpus.iter_sentences(demo_corpus.parallel_sources("train"))]
    full = sentencepiece.SentencepieceTokenizer.from_model_file(
        usem3_assets.sentencepiece_model_path()
    )
    tok, pruned = vocab_pruning.prune_tokenizer(full, texts)
    model_dir = os.path.join(root, "run")
    vocab_pruning.save_pruned(os.path.join(model_dir, run_layout.TOKENIZER_DIR), tok, pruned)
    student = StudentConfig.from_preset("lealla_small", vocabulary_size=tok.vocab_size)
    student.to_json_file(os.path.join(model_dir, run_layout.STUDENT_CONFIG))
    with open(os.path.join(model_dir, run_layout.RUN_CONFIG), "w", encoding="utf-8") as f:
        json.dump({"seq_length": SEQ_LENGTH}, f)
    tf.train.Checkpoint(student=student.build()).save(
        os.path.join(model_dir, "checkpoints", "ckpt")
    )
    return model_dir


def run() -> str:
    texts = [s for lang in demo_corpus.DEMO_LANGUAGES for s in demo_corpus.read_split("test", lang)]
    batches = [texts[i : i + BATCH] for i in range(0, len(texts) - BATCH + 1, BATCH)]
    with tempfile.TemporaryDirectory() as root:
        model_dir = _model_dir(root)
        out = os.path.join(root, "export")
        config = exporter.ExportConfig(checkpoint="latest", labse_format=False)
        exporter.export_model(model_dir, out, config)
        exported = tf.saved_model.load(out)
        from export import restore

        encoder = restore.restore_sentence_encoder(model_dir, checkpoint="latest")
        packer = packing.Packer(encoder.tokenizer, SEQ_LENGTH)
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
        for _ in range(ROUNDS):  # interleaved: every variant sees the same machine load
            for name, call in calls.items():
                best[name] = min(best[name], common.best_seconds(call, repeats=1, warmup=1))
        tokens = sum(int(tf.reduce_sum(x[packing.PADDING_MASK])) for x in id_batches)
        vocab = encoder.tokenizer.vocab_size
    n = len(batches) * BATCH
    reference = n / best["in-memory Keras model, pre-tokenized ids"]
    lines = [
        "## Exported model: raw strings vs in-memory model on token ids",
        "",
        "Command: `python -m benchmarks.run_all --only=export`. LEALLA-small shape (24 x 128), "
        f"USE-m SentencePiece vocab pruned to the demo corpus ({vocab:,} pieces), {n} demo test "
        f"sentences in 14 languages ({tokens / n:.1f} tokens each on average), batch {BATCH}, "
        f"max {SEQ_LENGTH} tokens, best of {ROUNDS} interleaved rounds.",
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
