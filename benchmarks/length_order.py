"""Encode speed with batches cut in length order vs in input order, same run.

Every string-in encoder pads a batch to its longest row, so a batch of mixed lengths
pays for padding. `Encoder.embed` (eval, align, demo), `SentenceEncoder.encode` and
`lealla embed` cut batches from the texts sorted by length
(`lealla.embeddings.length_batches`). Measured on real text of mixed lengths (ud-mono, all 14
languages, shuffled), batches of 64: the demo student's shape (4 x 128, the teacher's
128k-piece vocabulary; random weights, which do not change the speed) and the USE-m
teacher. Best of 5 interleaved rounds.
"""

from __future__ import annotations

import functools
import os
import random

import numpy as np

from benchmarks import common
from benchmarks import quality_common as qc
from lealla.embeddings import length_batches

SENTENCES = 4096
BATCH = 64
ROUNDS = 5


def _input_order(embed_batch, texts: list[str]) -> np.ndarray:
    return np.concatenate([embed_batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])


def texts() -> list[str]:
    mono = os.path.join(qc.DATA, "ud-mono")
    lines = [line for name in sorted(os.listdir(mono))
             for line in qc.read_lines(os.path.join(mono, name))]  # fmt: skip
    random.Random(0).shuffle(lines)
    return lines[:SENTENCES]


def run() -> str:
    title = "## Encode batches in length order"
    if not os.path.isdir(os.path.join(qc.DATA, "ud-mono")):
        return qc.skipped(title)
    import tensorflow as tf

    from lealla.models.students.sentence_encoder import SentenceEncoder
    from lealla.models.students.student_config import StudentConfig
    from lealla.models.teachers import loading

    teacher = loading.load_teacher(qc.TEACHER)
    tokenizer = teacher.tokenizer
    backbone = StudentConfig.from_preset("demo_small", vocabulary_size=tokenizer.vocab_size).build()
    student = SentenceEncoder(tokenizer, backbone, seq_length=64)
    sample = texts()
    models = {
        "student 4 x 128": lambda batch: student(tf.constant(batch)).numpy(),
        "teacher USE-m": lambda batch: teacher.embed(tf.constant(batch)).numpy(),
    }
    calls = {}
    for name, embed_batch in models.items():
        calls[name, "input"] = functools.partial(_input_order, embed_batch, sample)
        calls[name, "length"] = functools.partial(
            length_batches.embed_in_length_order, embed_batch, sample, BATCH
        )
        np.testing.assert_allclose(calls[name, "input"](), calls[name, "length"](), atol=1e-4)
    best = {key: float("inf") for key in calls}
    for _ in range(ROUNDS):
        for key, call in calls.items():
            best[key] = min(best[key], common.best_seconds(call, repeats=1, warmup=0))
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=length_order`. {len(sample):,} "
        f"ud-mono sentences (14 languages, shuffled), batches of {BATCH}, best of {ROUNDS} "
        "interleaved rounds; both orders give the same embeddings (checked to 1e-4).",
        "",
        "| model | input order, sentences/s | length order, sentences/s | speed-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in models:
        plain, ordered = best[name, "input"], best[name, "length"]
        lines.append(f"| {name} | {len(sample) / plain:,.0f} | {len(sample) / ordered:,.0f} | "
                     f"{plain / ordered:.2f}x |")  # fmt: skip
    return "\n".join(lines) + "\n"
