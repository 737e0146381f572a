"""The contrastive distillation term: temperature, weight and mined hard negatives.

Command: `python -m benchmarks.run_all --only=quality_contrastive`
(LEALLA_BENCH_LEVER_STEPS sets the steps; default 800, as `quality_levers`). The term
against a bank of cached teacher embeddings is the largest lever of the levers table;
these rows change only it, on the default recipe, demo_small, news-parallel + ud-mono,
equal steps. The last row reads a cache built with `lealla cache --hard_negatives=3`
(each example's 3 nearest other sentences of its shard by the teacher, ScaNN,
near-duplicates >= 0.9 left out), so the term also has to tell each sentence from its
teacher neighbours. Chosen on dev (PUD 0-199, ud-mono kNN agreement); test columns
reported, never tuned on.
"""

from __future__ import annotations

from benchmarks import quality_balance, quality_levers
from benchmarks import quality_common as qc
from distill.losses.teacher_contrastive import DEFAULT_TEMPERATURE

HARD_NEGATIVES = 3
# (label, stored row name, cache, overrides). The defaults row is the language-balance
# table's first row (same recipe, data, steps): its stored result is reused.
ROWS: tuple[tuple[str, str, str, dict], ...] = (
    (f"defaults (temperature {DEFAULT_TEMPERATURE:g}, weight 1)",
     f"balance: {quality_balance.ROWS[0][0]}", "mono", {}),
    ("temperature 0.02", "contrastive: temperature 0.02", "mono", {"bank_temperature": 0.02}),
    ("temperature 0.1", "contrastive: temperature 0.1", "mono", {"bank_temperature": 0.1}),
    ("weight 3", "contrastive: weight 3", "mono", {"bank_weight": 3.0}),
    (f"+ {HARD_NEGATIVES} hard negatives per example, mined from the cache",
     "hard negatives: mined 3", "mono_hard", {}),
)  # fmt: skip


def run() -> str:
    title = "## The contrastive distillation term (news-parallel + ud-mono -> PUD, demo-400)"
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
        (label, quality_levers.row(name, sets, extra, data, caches, teacher_mono))
        for label, name, sets, extra in ROWS
    ]
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=quality_contrastive`. The default "
        f"recipe, demo_small (4 x 128), batch 64, {quality_levers.STEPS} steps; only the "
        "contrastive term changes (`--bank_temperature`, `--bank_weight`); the last row "
        f"from a cache built with `--hard_negatives={HARD_NEGATIVES}`"
        + (f" (built in {seconds:.0f} s)" if seconds else "")
        + ". Columns as in the levers table; the last three: the little-data languages.",
        "",
        *quality_levers.watch_table("contrastive term", rows, t, quality_balance.WATCH),
    ]
    return "\n".join(lines)
