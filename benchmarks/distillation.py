"""Distillation throughput with the teacher in the loop vs from the teacher-embedding cache,
and what initializing the student's token embeddings from the teacher buys.

Same run, same machine. Teacher: a LaBSE-shaped encoder (12 x 768, random weights)
behind the `Teacher` interface; student: the LEALLA-small preset with the demo
corpus's pruned vocabulary.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf

from lealla.data import corpus, demo_corpus
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.trainer import Distiller
from lealla.models.students.student_config import StudentConfig
from lealla.models.teachers import embedding_cache, loading
from lealla.models.teachers.teacher import Teacher
from lealla.tokenization import packing

STEPS = 8
LABSE_SEQ_LENGTH = 128  # LaBSE v2's preprocessor default
BATCH = 16
PAIRS = 48  # de-en pairs of the demo dev split: a LaBSE-shaped teacher is slow on 2 cores
INIT_STEPS = 1000


class LabseShapedTeacher(Teacher):
    """Random-weight LaBSE-shaped encoder (12 layers, 768 dims) with USE-m's tokenizer.

    Like LaBSE's published preprocessor, it packs every batch to 128 tokens.
    """

    format = "string"

    def __init__(self, tokenizer):
        super().__init__("labse-shaped-random", 768, False, tokenizer)
        self.backbone = StudentConfig.from_preset(
            "labse_shaped", vocabulary_size=tokenizer.vocab_size, dropout=0.0
        ).build()
        self.packer = packing.Packer(tokenizer, LABSE_SEQ_LENGTH)

    def raw_embed(self, texts):
        inputs = packing.pad_to_length(self.packer(texts), LABSE_SEQ_LENGTH, 0)
        return self.backbone(packing.from_hub_inputs(inputs))["pooled_output"]


def _steps_per_second(config, model_dir, teacher) -> float:
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy(), teacher=teacher)
    for _ in range(3):  # trace every bucket shape before timing
        distiller._train_step(next(distiller.iterator))
    start = time.perf_counter()
    for _ in range(STEPS):
        distiller._train_step(next(distiller.iterator))
    return STEPS / (time.perf_counter() - start)


def run() -> str:
    use_m = loading.load_teacher("use-multilingual")
    teacher = LabseShapedTeacher(use_m.tokenizer)
    root = tempfile.mkdtemp()
    tsv = os.path.join(root, "de-en.tsv")
    pairs = zip(
        demo_corpus.read_split("dev", "de"), demo_corpus.read_split("dev", "en"), strict=True
    )
    with open(tsv, "w", encoding="utf-8") as f:
        f.writelines(f"{de}\t{en}\n" for de, en in list(pairs)[:PAIRS])
    base = {
        "student.name": "lealla_small",
        "data.train_data": (tsv,),
        "data.batch_size": BATCH,
        "trainer.steps": 10_000,
        "optimizer.warmup_steps": 10,
        "data.seq_length": 64,
        "data.bucket_lengths": (16, 32, 64),
        "trainer.eval_every": 0,
        "student.init_from_teacher": False,
    }
    try:
        start = time.perf_counter()
        cache = f"{root}/cache"
        embedding_cache.build_cache(teacher, corpus.resolve_sources(tsv), cache)
        cache_seconds = time.perf_counter() - start
        in_loop = _steps_per_second(DistillConfig().override({**base}), f"{root}/loop", teacher)
        cached = _steps_per_second(
            DistillConfig().override(
                {**base, "teacher.cache": cache, "teacher.name": "labse-shaped-random"}
            ),
            f"{root}/cached",
            teacher,
        )
        init = {flag: _final_accuracy(use_m, f"{root}/init-{flag}", flag) for flag in (True, False)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = [
        "## Distillation: teacher in the loop vs teacher-embedding cache",
        "",
        "Command: `python -m benchmarks.run_all --only=distillation`. LaBSE-shaped teacher "
        f"(random weights), LEALLA-small student (pruned vocab), batch {BATCH}, "
        f"{PAIRS} de-en pairs, "
        f"{STEPS} timed steps after tracing; the teacher packs every batch to 128 tokens, as "
        "LaBSE's preprocessor does.",
        "",
        "| path | examples/s | ratio |",
        "| --- | ---: | ---: |",
        f"| teacher in the loop | {in_loop * BATCH:,.1f} | 1.0x |",
        f"| from the cache | {cached * BATCH:,.1f} | {cached / in_loop:.1f}x |",
        "",
        f"Building the cache once ({PAIRS} pairs, both sides): {cache_seconds:.0f}s.",
        "",
        "## Student token embeddings: PCA of the teacher's vs random",
        "",
        f"Demo corpus, USE-m teacher, tiny_test student (2 x 32), {INIT_STEPS} steps, batch 32, "
        "default recipe; dev retrieval accuracy (13 pairs, 50 each; chance 0.02):",
        "",
        "| token embeddings | dev accuracy |",
        "| --- | ---: |",
        f"| PCA of the teacher's table | {init[True]:.3f} |",
        f"| random (std 0.02) | {init[False]:.3f} |",
        "",
    ]
    return "\n".join(lines)


def _final_accuracy(teacher, model_dir: str, init: bool) -> float:
    config = DistillConfig().override(
        {
            "student.name": "tiny_test",
            "student.overrides": {"max_sequence_length": 64},
            "data.train_data": ("demo:train",),
            "data.dev_data": ("demo:dev",),
            "data.batch_size": 32,
            "data.seq_length": 32,
            "data.bucket_lengths": (16, 32),
            "optimizer.learning_rate": 1e-3,
            "optimizer.warmup_steps": 10,
            "trainer.steps": INIT_STEPS,
            "trainer.eval_every": 0,
            "trainer.checkpoint_every": INIT_STEPS,
            "trainer.log_every": 250,
            "student.init_from_teacher": init,
        }
    )
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy(), teacher=teacher)
    return float(np.round(distiller.train()["dev_accuracy"], 4))
