"""Cheaper training steps: lazy token-embedding updates and finer length buckets.

Command: `python -m benchmarks.run_all --only=step_cost`. The quality section's setting
(demo_small 4 x 128, batch 64, the news + ud-mono teacher cache, the default recipe).

1. Step time, one process: the three variants are built side by side, each takes the
   same number of batches from its own input pipeline (warm: shuffle buffers full), and
   their train steps are timed in alternating rounds over those batches (every bucket
   shape traced before), so the ratios share the machine's moment. Examples/s = batch x
   steps / seconds, the median round.
2. Quality at equal steps (LEALLA_BENCH_LEVER_STEPS, default 800): before and after,
   dev (PUD 0-199, ud-mono kNN agreement) and test (PUD 200-998, demo-400): a cheaper
   step is only worth taking if a step teaches as much.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np

from benchmarks import quality_common as qc
from benchmarks import quality_levers
from distill.distill_config import DistillConfig

OLD_BUCKETS = (16, 32, 64)  # qc.settings pins these (and dense AdamW) for the quality rows
BEFORE = {"lazy_embeddings": False, "bucket_lengths": OLD_BUCKETS}
AFTER = {"lazy_embeddings": True, "bucket_lengths": DistillConfig.bucket_lengths}
# name -> overrides of the quality rows' settings
VARIANTS = {
    f"before: dense AdamW, buckets {'/'.join(map(str, OLD_BUCKETS))}": BEFORE,
    "lazy token-embedding updates": {"lazy_embeddings": True, "bucket_lengths": OLD_BUCKETS},
    f"lazy + buckets {'/'.join(map(str, AFTER['bucket_lengths']))} (the defaults)": AFTER,
}
_SKIP, _BATCHES, _ROUNDS = 100, 40, 5


def _distiller(name: str, data: qc.Data, files, cache: str, overrides: dict):
    import tensorflow as tf

    from distill.trainer import Distiller

    model_dir = os.path.join(qc.WORK, "step_cost", qc.slug(name))
    shutil.rmtree(model_dir, ignore_errors=True)  # a timing, not a run to resume
    values = qc.settings(files, cache, data, 0.0)
    # The token-table start skips the teacher's piece embeddings (speed is the same).
    values.update(dev_data=(), dev_mono_data=(), eval_every=0, steps=10**6,
                  token_init="table", **overrides)  # fmt: skip
    return Distiller(DistillConfig(**values), model_dir, tf.distribute.get_strategy())


def step_times(data: qc.Data, files, cache: str, variants: dict = VARIANTS) -> list[dict]:
    """Examples/s of each variant's train step, timed in alternating rounds.

    Also sentences/s: the sides of the rows that hold a sentence (a monolingual row's
    target side is empty unless its rows are paired).
    """
    runs = {}
    for name, overrides in variants.items():
        dist = _distiller(name, data, files, cache, overrides)
        for _ in range(_SKIP):
            next(dist.iterator)
        batches = [next(dist.iterator) for _ in range(_BATCHES)]
        for batch in batches:  # traces every bucket shape
            dist._train_step(batch)
        runs[name] = (dist, batches)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(_ROUNDS):
        for name, (dist, batches) in runs.items():
            start = time.perf_counter()
            for batch in batches:
                dist._train_step(batch)
            float(dist.step.numpy())  # waits for the last step
            seconds[name].append(time.perf_counter() - start)
    out = []
    for name, (_, batches) in runs.items():
        rows = sum(int(b["src_ids"].shape[0]) for b in batches)
        real = sum(int(np.sum(b["src_length"]) + np.sum(b["tgt_length"])) for b in batches)
        padded = sum(2 * int(np.prod(b["src_ids"].shape)) for b in batches)
        sentences = rows + sum(int(np.sum(b["has_target"])) for b in batches)
        median = float(np.median(seconds[name]))
        out.append({
            "name": name, "rate": rows / median, "sentences": sentences / median,
            "padding": 1.0 - real / padded,
        })  # fmt: skip
    return out


def quality_rows(
    data: qc.Data, files, cache: str, teacher_mono, arms=None, prefix: str = "step cost"
) -> list[tuple[str, dict]]:
    """Each arm (label, overrides) trained for the levers' steps, scored on dev and test."""
    rows = []
    for label, overrides in arms or (("before", BEFORE), ("after (the defaults)", AFTER)):
        name = f"{prefix}: {label}"
        path = qc.result_path(row_name(prefix, label))
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                rows.append((label, json.load(f)))
            continue
        model_dir, metrics = qc.train(
            row_name(prefix, label), train_data=files, cache=cache, data=data,
            steps=quality_levers.STEPS, **overrides,
        )  # fmt: skip
        result = {
            "name": name, "steps": metrics["step"],
            **qc.evaluate(qc.student_embed(model_dir), data, teacher_mono),
        }  # fmt: skip
        qc.save_json(path, result)
        rows.append((label, result))
    return rows


def row_name(prefix: str, label: str) -> str:
    """The result file and run folder name of a `quality_rows` arm."""
    return qc.slug(f"{prefix}: {label}")


def measured_row(data: qc.Data, files, cache, teacher_mono, prefix: str, arm) -> dict | None:
    """One arm through `quality_rows`; None when only reporting (LEALLA_BENCH_DONE_ONLY)
    and the arm has not been measured."""
    if qc.DONE_ONLY and not os.path.isfile(qc.result_path(row_name(prefix, arm[0]))):
        return None
    [(_, result)] = quality_rows(data, files, cache, teacher_mono, (arm,), prefix)
    return result


def run() -> str:
    title = "## Cheaper training steps: lazy embedding updates, buckets of 8 (4 x 128 student)"
    if not qc.available():
        return qc.skipped(title)
    from benchmarks import quality

    data = qc.prepare()
    files, cache = quality.training_data(data)
    speeds = step_times(data, files, cache)
    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    rows = quality_rows(data, files, cache, teacher_mono)
    base = speeds[0]["rate"]
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=step_cost`. The quality section's "
        "setting (demo_small, batch 64, news + ud-mono cache, default recipe). Step time: "
        f"the variants side by side in one process, each over {_BATCHES} batches of its own "
        f"input pipeline, {_ROUNDS} alternating rounds, median; padding: the share of the "
        "student's token positions (both sides) that are padding.",
        "",
        "| variant | examples/s | vs before | padding |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {s['name']} | {s['rate']:,.0f} | {s['rate'] / base:.2f}x | {s['padding']:.0%} |"
            for s in speeds
        ),
        "",
        f"Quality at equal steps ({quality_levers.STEPS}), dev and test as the levers table:",
        "",
        *quality_levers.watch_table("variant", rows, qc.evaluate(teacher, data), ("ko",)),
        "",
    ]
    return "\n".join(lines)
