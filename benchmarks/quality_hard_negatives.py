"""Hard negatives mined from the cache: the default recipe with and without, equal steps.

Command: `python -m benchmarks.run_all --only=quality_hard_negatives`
(LEALLA_BENCH_LEVER_STEPS sets the steps; default 800, as `quality_levers`). Both rows
train the default recipe on demo_small from the news-parallel + ud-mono data; the second
reads a cache built with `lealla cache --hard_negatives=3` (each example's 3 nearest
other sentences of its shard by the teacher, ScaNN, near-duplicates >= 0.9 left out),
so its contrastive term also has to tell each sentence from its teacher neighbours.
Chosen on dev (PUD 0-199, ud-mono kNN agreement); test columns reported, never tuned on.
"""

from __future__ import annotations

from benchmarks import quality_balance, quality_levers
from benchmarks import quality_common as qc

HARD_NEGATIVES = 3
# The defaults row is the language-balance table's first row (same recipe, data, steps):
# its stored result is reused.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("defaults", f"balance: {quality_balance.ROWS[0][0]}", "mono"),
    (f"+ {HARD_NEGATIVES} hard negatives per example, mined from the cache",
     "hard negatives: mined 3", "mono_hard"),
)  # fmt: skip


def run() -> str:
    title = "## Hard negatives mined from the cache (news-parallel + ud-mono -> PUD, demo-400)"
    if not qc.available():
        return qc.skipped(title)
    data = qc.prepare()
    files = data.news + data.mono
    plain, _ = qc.build_cache("news_mono", files)
    hard, seconds = qc.build_cache(
        f"news_mono_hard{HARD_NEGATIVES}", files, hard_negatives=HARD_NEGATIVES
    )
    caches = {"mono": plain, "mono_hard": hard}
    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    t = qc.evaluate(teacher, data)
    rows = [
        (label, quality_levers.row(name, sets, {}, data, caches, teacher_mono))
        for label, name, sets in ROWS
    ]
    watch = quality_balance.WATCH
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=quality_hard_negatives`. The default "
        f"recipe, demo_small (4 x 128), batch 64, {quality_levers.STEPS} steps; the second row "
        f"from a cache built with `--hard_negatives={HARD_NEGATIVES}`"
        + (f" (built in {seconds:.0f} s)" if seconds else "")
        + ". Columns as in the levers table; the last three: the little-data languages.",
        "",
        "| recipe | dev PUD | dev mono kNN | test PUD | test demo-400 | "
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
    lines.append("")
    return "\n".join(lines)
