"""One realistic distillation on real multilingual text, under a fixed CPU-time budget.

Teacher: the offline USE-multilingual module. Training data: the first
PAIRS_PER_LANGUAGE pairs of each ../shared/data/news-parallel/xx-en.tsv (MT test
sets; already shuffled). Student: LEALLA-small's shape (24 x 128) with the teacher's
vocabulary pruned to that data and PCA-initialized token embeddings, default recipe,
from the teacher cache. The step count is set so training takes TRAIN_SECONDS on
this machine (rate measured first on a throwaway run). Evaluation: bidirectional
retrieval over ../shared/data/pud-parallel (PUD, news/wikipedia; lines 0-199 are the
dev set that picks the best checkpoint, lines 200-998 the test set), teacher vs
student per language. Skipped when ../shared/data is absent.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from lealla import corpus
from lealla.evaluation.retrieval import retrieval_accuracy

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared",
                    "data")  # fmt: skip
PAIRS_PER_LANGUAGE = 2000
# Override for a quick check: LEALLA_BENCH_TRAIN_SECONDS=60 python -m benchmarks.run_all ...
TRAIN_SECONDS = float(os.environ.get("LEALLA_BENCH_TRAIN_SECONDS", "480"))
DEV_LINES = 200
BATCH = 32


def _write_subsets(root: str) -> tuple[list[str], list[str], list[str]]:
    """Training TSVs (a prefix of each news file) and PUD dev TSVs; returns (train, dev, langs)."""
    news, pud = os.path.join(DATA, "news-parallel"), os.path.join(DATA, "pud-parallel")
    langs = sorted(
        name.split("-")[0]
        for name in os.listdir(news)
        if name.endswith("-en.tsv") and os.path.isfile(os.path.join(pud, name[:2] + ".txt"))
    )
    train, dev = [], []
    with open(os.path.join(pud, "en.txt"), encoding="utf-8") as f:
        pud_en = f.read().splitlines()
    for lang in langs:
        path = os.path.join(root, "train", f"{lang}-en.tsv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(os.path.join(news, f"{lang}-en.tsv"), encoding="utf-8") as src, \
                open(path, "w", encoding="utf-8") as dst:  # fmt: skip
            for i, line in enumerate(src):
                if i == PAIRS_PER_LANGUAGE:
                    break
                dst.write(line)
        train.append(path)
        with open(os.path.join(pud, f"{lang}.txt"), encoding="utf-8") as f:
            pud_xx = f.read().splitlines()
        path = os.path.join(root, "dev", f"{lang}-en.tsv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"{x}\t{e}\n" for x, e in zip(pud_xx[:DEV_LINES], pud_en[:DEV_LINES],
                                                        strict=True))  # fmt: skip
        dev.append(path)
    return train, dev, langs


def _pud_test(langs: list[str]) -> dict[str, list[str]]:
    pud = os.path.join(DATA, "pud-parallel")
    out = {}
    for lang in [*langs, "en"]:
        with open(os.path.join(pud, f"{lang}.txt"), encoding="utf-8") as f:
            out[lang] = f.read().splitlines()[DEV_LINES:]
    return out


def _accuracy(embed, test: dict[str, list[str]], langs: list[str]) -> dict[str, float]:
    en = embed(test["en"])
    return {lang: float(np.mean(retrieval_accuracy(embed(test[lang]), en))) for lang in langs}


def run() -> str:
    if not os.path.isdir(DATA):
        return (
            "## Realistic distillation (news-parallel -> PUD)\n\nSkipped: "
            f"{os.path.normpath(DATA)} is absent (development data, not shipped).\n"
        )
    from distill.distill_config import DistillConfig
    from distill.trainer import Distiller
    from teachers import embedding_cache, loading

    teacher = loading.load_teacher("use-multilingual")
    strategy = tf.distribute.get_strategy()
    with tempfile.TemporaryDirectory() as root:
        train, dev, langs = _write_subsets(root)
        start = time.perf_counter()
        cache = os.path.join(root, "cache")
        manifest = embedding_cache.build_cache(teacher, corpus.resolve_sources(train), cache)
        cache_seconds = time.perf_counter() - start
        base = dict(
            student="lealla_small", train_data=tuple(train), dev_data=tuple(dev),
            teacher_cache=cache, batch_size=BATCH, seq_length=64, bucket_lengths=(32, 64),
            learning_rate=1e-3, log_every=100,
        )  # fmt: skip
        # Rate on a throwaway run (tracing excluded), then a run sized to the budget.
        probe = Distiller(DistillConfig(**base, steps=40, warmup_steps=5, eval_every=0),
                          os.path.join(root, "probe"), strategy, teacher=teacher)  # fmt: skip
        for _ in range(6):
            probe._train_step(next(probe.iterator))
        tick = time.perf_counter()
        for _ in range(20):
            probe._train_step(next(probe.iterator))
        seconds_per_step = (time.perf_counter() - tick) / 20
        steps = max(20, int(TRAIN_SECONDS / seconds_per_step))
        config = DistillConfig(
            **base, steps=steps, warmup_steps=steps // 10, eval_every=max(steps // 4, 1),
            checkpoint_every=max(steps // 4, 1),
        )  # fmt: skip
        distiller = Distiller(config, os.path.join(root, "run"), strategy, teacher=teacher)
        start = time.perf_counter()
        metrics = distiller.train()
        train_seconds = time.perf_counter() - start
        from export import restore

        student = restore.restore_sentence_encoder(os.path.join(root, "run"), "best")
        test = _pud_test(langs)
        teacher_acc = _accuracy(lambda t: teacher.embed(tf.constant(t)).numpy(), test, langs)
        student_acc = _accuracy(student.encode, test, langs)
        params = distiller.student.count_params()
        best_step = _best_step(os.path.join(root, "run"))
    t_mean, s_mean = np.mean(list(teacher_acc.values())), np.mean(list(student_acc.values()))
    lines = [
        "## Realistic distillation (news-parallel -> PUD)",
        "",
        "Command: `python -m benchmarks.run_all --only=realistic_distillation`. Teacher "
        "use-multilingual; training data: the first "
        f"{PAIRS_PER_LANGUAGE:,} pairs of each of {len(langs)} `news-parallel/xx-en.tsv` "
        f"({manifest['num_examples']:,} pairs; teacher cache built in {cache_seconds:.0f} s); "
        f"student: LEALLA-small shape (24 x 128, {params:,} parameters with the pruned vocab "
        f"of {distiller.tokenizer.vocab_size:,} pieces), default recipe, batch {BATCH}, "
        f"{steps} steps (sized for {TRAIN_SECONDS / 60:.0f} min of train steps at the rate "
        f"measured first; {train_seconds / 60:.1f} min wall time including the dev "
        f"evaluations; best dev step {best_step}). Test: PUD lines {DEV_LINES}-998, "
        "xx <-> en retrieval accuracy, mean of both directions.",
        "",
        "| language | teacher | student | student / teacher |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {lang} | {teacher_acc[lang]:.3f} | {student_acc[lang]:.3f} | "
        f"{student_acc[lang] / max(teacher_acc[lang], 1e-9):.0%} |"
        for lang in langs
    ]
    lines += [
        f"| **mean** | **{t_mean:.3f}** | **{s_mean:.3f}** | **{s_mean / t_mean:.0%}** |",
        "",
        f"Final dev accuracy {metrics.get('dev_accuracy', float('nan')):.3f}.",
        "",
    ]
    return "\n".join(lines)


def _best_step(model_dir: str) -> str:
    import json

    path = os.path.join(model_dir, "best", "best.json")
    if not os.path.isfile(path):
        return "n/a"
    with open(path, encoding="utf-8") as f:
        return str(json.load(f)["step"])
