"""What each recipe lever buys: one student per lever at equal steps, dev and test metrics.

Command: `python -m benchmarks.run_all --only=quality_levers` (LEALLA_BENCH_LEVER_STEPS
sets the steps of every row; default 800). Rows train the demo_small shape (4 x 128,
the teacher's vocabulary pruned to the training data, PCA init) from a teacher cache,
batch 64, at an equal number of steps, so rows are comparable however busy the
machine is (every lever here costs about the same per step). Levers are chosen on the
dev columns (PUD dev, ud-mono kNN agreement); the test columns are reported, never
tuned on. See benchmarks/quality_common.py for the data and metrics.
"""

from __future__ import annotations

import json
import os

from absl import logging

from benchmarks import quality_common as qc

STEPS = int(os.environ.get("LEALLA_BENCH_LEVER_STEPS", "800"))
# Report only rows already measured (e.g. when a long run was stopped part way).

# name -> (training sets, overrides). "news": news-parallel; "mono": + ud-mono; "aug":
# news-parallel with one augmented variant of every example in the cache.
# Every lever is first measured alone against the same baseline, the recipe before this
# table (cross_weight 0); the rows after it stack the remaining levers on the winner
# (the teacher bank) to choose the default recipe.
_BASE = {"cross_weight": 0.0}
_BANK = {**_BASE, "bank_weight": 1.0}
ROWS: tuple[tuple[str, str, dict], ...] = (
    ("baseline (news only)", "news", _BASE),
    ("+ ud-mono (share 0.3)", "mono", {**_BASE, "mono_share": 0.3}),
    ("+ augmented variants (share 0.3)", "aug", {**_BASE, "mono_share": 0.3}),
    ("+ cross-lingual targets", "news", {"cross_weight": 1.0}),
    ("+ teacher-bank contrastive", "news", _BANK),
    ("bank + cross-lingual targets", "news", {**_BANK, "cross_weight": 1.0}),
    ("bank, AMS off", "news", {**_BANK, "ams_weight": 0.0}),
    ("bank + ud-mono (share 0.3)", "mono", {**_BANK, "mono_share": 0.3}),
    ("bank of 16384", "news", {**_BANK, "bank_size": 16384}),
    ("bank, learning rate 2e-3", "news", {**_BANK, "learning_rate": 2e-3}),
    # Second round: the winners of the first stacked.
    ("bank of 16384 + ud-mono (share 0.3)", "mono", {**_BANK, "bank_size": 16384,
                                                      "mono_share": 0.3}),
    ("bank of 16384 + ud-mono + cross-lingual targets", "mono",
     {**_BANK, "bank_size": 16384, "mono_share": 0.3, "cross_weight": 1.0}),
    ("bank of 16384 + ud-mono, AMS weight 0.05", "mono",
     {**_BANK, "bank_size": 16384, "mono_share": 0.3, "ams_weight": 0.05}),
)  # fmt: skip
AUGMENT = ("span", "prefix", "case", "punct")


def _slug(name: str) -> str:
    return f"{qc.slug(name)}_{STEPS}"


def _result_path(name: str) -> str:
    return qc.result_path(_slug(name))


def row(name: str, sets: str, overrides: dict, data: qc.Data, caches: dict, teacher_mono):
    """Trains (or reads the stored result of) one lever row; dev and test metrics."""
    path = _result_path(name)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    files = data.news + data.mono if sets == "mono" else data.news
    # Every equal-steps table was measured from the teacher's token table (the default
    # until quality_stacked's `--token_init=pieces` row), with dropout 0.1 and monolingual
    # share 0.3 unless a row sets it: a rerun reproduces its rows.
    overrides = {"token_init": "table", **qc.DROPOUT_0_1, **overrides}
    model_dir, metrics = qc.train(
        _slug(name), train_data=files, cache=caches[sets], data=data, steps=STEPS, **overrides
    )
    result = {
        "name": name,
        "steps": metrics["step"],
        **qc.evaluate(qc.student_embed(model_dir), data, teacher_mono),
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    logging.info("%s: %s", name, {k: v for k, v in result.items() if not isinstance(v, dict)})
    return result


def dev_score(result: dict) -> float:
    """What the equal-steps tables choose on: PUD dev retrieval + ud-mono kNN agreement."""
    return qc.mean(result["pud_dev"]) + result["mono_agreement"]


def watch_table(
    first_column: str, rows: list[tuple[str, dict]], teacher: dict, watch: tuple[str, ...]
) -> list[str]:
    """Dev and test columns of (label, result) rows, plus demo-400 of the `watch` languages."""
    t = teacher
    lines = [
        f"| {first_column} | dev PUD | dev mono kNN | test PUD | test demo-400 | "
        + " | ".join(f"demo-400 {lang}" for lang in watch) + " |",
        "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in watch) + " |",
        f"| teacher | {qc.mean(t['pud_dev']):.3f} | 1.000 | {qc.mean(t['pud_test']):.3f} | "
        f"{qc.mean(t['demo400']):.3f} | "
        + " | ".join(f"{t['demo400'][lang]:.3f}" for lang in watch) + " |",
    ]  # fmt: skip
    for label, r in rows:
        lines.append(
            f"| {label} | {qc.mean(r['pud_dev']):.3f} | {r['mono_agreement']:.3f} | "
            f"{qc.mean(r['pud_test']):.3f} | {qc.mean(r['demo400']):.3f} | "
            + " | ".join(f"{r['demo400'][lang]:.3f}" for lang in watch)
            + " |"
        )
    best = max(rows, key=lambda lr: dev_score(lr[1]))[0]
    return [*lines, "", f"Best on dev (PUD + mono kNN): {best}.", ""]


def run() -> str:
    title = "## Quality levers (news-parallel + ud-mono -> PUD, demo-400)"
    if not qc.available():
        return qc.skipped(title)
    data = qc.prepare()
    news_cache, news_seconds = qc.build_cache("news", data.news)
    mono_cache, _ = qc.build_cache("news_mono", data.news + data.mono)
    aug_cache, _ = qc.build_cache("news_aug", data.news, augment=AUGMENT)
    caches = {"news": news_cache, "mono": mono_cache, "aug": aug_cache}
    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    t = qc.evaluate(teacher, data)
    todo = [r for r in ROWS if not qc.DONE_ONLY or os.path.isfile(_result_path(r[0]))]
    rows = [row(name, sets, extra, data, caches, teacher_mono) for name, sets, extra in todo]
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=quality_levers`. Teacher USE-m (512 d). "
        f"Every row: demo_small (4 x 128), pruned teacher vocabulary, PCA init, batch 64, "
        f"{STEPS} steps, learning rate 1e-3, from a teacher cache"
        + (f" (news-parallel: built in {news_seconds:.0f} s)" if news_seconds else "")
        + ". Dev: PUD lines 0-199 and kNN@10 "
        f"agreement with the teacher on {qc.MONO_DEV_LINES} held-out ud-mono lines per "
        f"language; test: PUD lines 200-998 and all 400 demo sentences per language. "
        f"Accuracy: xx <-> en retrieval, mean of both directions and of 13 languages.",
        "",
        "| recipe | dev PUD | dev mono kNN | test PUD | test demo-400 | demo-400 / teacher |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| teacher | {qc.mean(t['pud_dev']):.3f} | 1.000 | {qc.mean(t['pud_test']):.3f} | "
        f"{qc.mean(t['demo400']):.3f} | 100% |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {qc.mean(r['pud_dev']):.3f} | {r['mono_agreement']:.3f} | "
            f"{qc.mean(r['pud_test']):.3f} | {qc.mean(r['demo400']):.3f} | "
            f"{qc.mean(r['demo400']) / qc.mean(t['demo400']):.0%} |"
        )
    best = max(rows, key=lambda r: qc.mean(r["pud_dev"]))
    worst = min(best["demo400"], key=best["demo400"].get)
    missing = [name for name, _, _ in ROWS if name not in {r["name"] for r in rows}]
    lines += [
        "",
        f"Best on dev: {best['name']}; its weakest demo-400 language: {worst} "
        f"({best['demo400'][worst]:.3f} vs teacher {t['demo400'][worst]:.3f}).",
    ]
    if missing:
        lines.append(f"Not measured yet (the run was stopped part way): {', '.join(missing)}.")
    lines.append("")
    return "\n".join(lines)
