"""Levers stacked on the default recipe: contrastive term, hard negatives, augmentation, start.

Command: `python -m benchmarks.run_all --only=quality_stacked`
(LEALLA_BENCH_LEVER_STEPS sets the steps; default 800, as `quality_levers`). Every row
is the default recipe on demo_small from news-parallel + ud-mono at equal steps with one
change: the contrastive term's temperature or weight (the term against a bank of cached
teacher embeddings is the largest lever of the levers table); a cache built with
`lealla cache --hard_negatives=3` (each example's 3 nearest other sentences of its
shard by the teacher, ScaNN, near-duplicates >= 0.9 left out, so the term also has to
tell each sentence from its teacher neighbours); or a cache built with
`--augment=span,prefix,case,punct` (short and restyled variants, which the levers table
measured only without the bank); or the token embeddings' start (`--token_init`).
Chosen on dev (PUD 0-199, ud-mono kNN agreement); test
columns reported, never tuned on.
"""

from __future__ import annotations

from benchmarks import quality_balance, quality_levers
from benchmarks import quality_common as qc
from distill.losses.teacher_contrastive import DEFAULT_TEMPERATURE

HARD_NEGATIVES = 3
# cache name -> build_cache options; built when a row first needs it.
CACHES: dict[str, dict] = {
    "news_mono": {},
    f"news_mono_hard{HARD_NEGATIVES}": {"hard_negatives": HARD_NEGATIVES},
    "news_mono_aug": {"augment": quality_levers.AUGMENT},
}
# (label, stored row name, cache, overrides). The defaults row is the language-balance
# table's first row (same recipe, data, steps): its stored result is reused.
ROWS: tuple[tuple[str, str, str, dict], ...] = (
    (f"defaults before this table (token table start; contrastive temperature "
     f"{DEFAULT_TEMPERATURE:g}, weight 1)",
     f"balance: {quality_balance.ROWS[0][0]}", "news_mono", {}),
    ("contrastive temperature 0.02", "contrastive: temperature 0.02", "news_mono",
     {"bank_temperature": 0.02}),
    ("contrastive temperature 0.1", "contrastive: temperature 0.1", "news_mono",
     {"bank_temperature": 0.1}),
    ("contrastive weight 3", "contrastive: weight 3", "news_mono", {"bank_weight": 3.0}),
    (f"+ {HARD_NEGATIVES} hard negatives per example, mined from the cache",
     "hard negatives: mined 3", f"news_mono_hard{HARD_NEGATIVES}", {}),
    ("+ augmented variants (monolingual share 0.3 with ud-mono)", "stacked: augmented",
     "news_mono_aug", {}),
    ("token embeddings from the teacher's embedding of each piece (`--token_init=pieces`, "
     "the default since)",
     "stacked: token init pieces", "news_mono", {"token_init": "pieces"}),
)  # fmt: skip


def run() -> str:
    title = "## Levers stacked on the default recipe (news-parallel + ud-mono -> PUD, demo-400)"
    if not qc.available():
        return qc.skipped(title)
    data = qc.prepare()
    files = data.news + data.mono
    built: dict[str, str] = {}
    seconds: dict[str, float] = {}

    def cache(name: str) -> str:
        if name not in built:
            built[name], seconds[name] = qc.build_cache(name, files, **CACHES[name])
        return built[name]

    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    t = qc.evaluate(teacher, data)
    rows = []
    for label, name, cache_name, extra in ROWS:
        # Every cache here is of news + ud-mono: the levers' "mono" set.
        result = quality_levers.row(
            name, "mono", extra, data, {"mono": cache(cache_name)}, teacher_mono
        )
        rows.append((label, result))
    built_now = ", ".join(f"{n} in {s:.0f} s" for n, s in seconds.items() if s)
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=quality_stacked`. The default recipe, "
        f"demo_small (4 x 128), batch 64, {quality_levers.STEPS} steps, one change per row "
        "(`--bank_temperature`, `--bank_weight`, `--token_init`, or the cache: `lealla cache "
        f"--hard_negatives={HARD_NEGATIVES}`, `--augment={','.join(quality_levers.AUGMENT)}`)"
        + (f"; caches built: {built_now}" if built_now else "")
        + ". Columns as in the levers table; the last three: the little-data languages.",
        "",
        *quality_levers.watch_table("recipe", rows, t, quality_balance.WATCH),
    ]
    return "\n".join(lines)
