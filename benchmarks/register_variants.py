"""Korean in the register users write: register variants in the teacher cache.

Commands: `python -m benchmarks.run_all --only=register_variants` (equal steps, ~35
minutes with the cache), then `--only=register_variants_30` (the time budget, ~80
minutes). Korean is the weakest demo-400 language of every trained row: 99% of its
demo sentences are in the polite -요 style, about 1% of the training text's Korean
(`quality.polite_register_shares`). These sections cache the same files again with
`lealla cache --augment=register` (each Korean sentence also rewritten in that style by
`teachers.register`; a pair stays a pair) and train today's defaults (demo_small 4 x 128,
batch 64, lazy token table, buckets of 8, monolingual rows in pairs) from each cache:

1. equal steps (LEALLA_BENCH_LEVER_STEPS, default 800), dev and test as the levers table;
2. the LEALLA_BENCH_MINUTES budget (default 30; register_variants_30.py): the plain-cache
   row is quality_step's "after" row (its result is shared), beside the same recipe
   from the register cache.

Dev, besides PUD dev + ud-mono kNN agreement (which hold almost no polite Korean): PUD
dev's Korean lines rewritten in the polite style by the same rewriter, retrieved against
their English lines ("dev ko polite"). The rule, fixed before the test columns are read:
register variants become the default if they raise dev ko polite without lowering PUD
dev + ud-mono kNN.
"""

from __future__ import annotations

import os

from benchmarks import mono_pairs, quality, quality_levers, step_cost
from benchmarks import quality_common as qc

STEPS_ARMS = (
    ("today's defaults", "news_mono"),
    ("+ register variants (--augment=register)", "news_mono_register"),
)
PREFIX = "register variants"
# (prefix, arm) of the plain-cache row; token_table, lexicon and seed_noise share it.
PLAIN = (PREFIX, (STEPS_ARMS[0][0], mono_pairs.AFTER))
WATCH = ("ko", "ar", "pl")


def polite_dev(data: qc.Data) -> dict[str, list[str]]:
    """PUD dev's en and ko lines, the Korean rewritten in the polite -요 style."""
    from teachers import register

    path = next(p for p in data.dev if os.path.basename(p).startswith("ko-"))
    pairs = [line.split("\t") for line in qc.read_lines(path)]
    return {
        "en": [en for _, en in pairs],
        "ko": [register.rewrite(ko, "ko") or ko for ko, _ in pairs],
    }


def with_polite(result: dict, model_dir: str, sets: dict[str, list[str]], path: str) -> dict:
    """The row with its dev ko polite score, measured and saved to `path` once."""
    if "dev_ko_polite" not in result:
        result["dev_ko_polite"] = qc.retrieval(qc.student_embed(model_dir), sets)["ko"]
        qc.save_json(path, result)
    return result


def _equal_steps_rows(data, files, caches, teacher_mono, sets) -> list[tuple[str, dict]]:
    """Each arm trained (or read back) by step_cost.quality_rows, plus dev ko polite."""
    rows = []
    for label, cache in STEPS_ARMS:
        arm = (label, mono_pairs.AFTER)
        result = step_cost.measured_row(data, files, caches[cache], teacher_mono, PREFIX, arm)
        if result is None:
            continue
        name = step_cost.row_name(PREFIX, label)
        model_dir = os.path.join(qc.WORK, "runs", name)
        rows.append((label, with_polite(result, model_dir, sets, qc.result_path(name))))
    return rows


RULE = (
    "Rule, fixed before reading the test columns: the variants become the default if they "
    "raise dev ko polite (PUD dev's Korean rewritten in the polite style, retrieved against "
    "its English) without lowering PUD dev + ud-mono kNN."
)


def setup():
    """(data, files, {cache name: path}, teacher row with dev ko polite, dev kNN reference,
    the dev ko polite sets); builds the register cache unless only reporting."""
    data, files, cache, teacher_embed, teacher, mono = quality.budget_setup()
    register_cache = os.path.join(qc.WORK, "caches", "news_mono_register")
    if not qc.DONE_ONLY:
        register_cache, _ = qc.build_cache("news_mono_register", files, augment=("register",))
    sets = polite_dev(data)
    teacher = {**teacher, "dev_ko_polite": qc.retrieval(teacher_embed, sets)["ko"]}
    caches = {"news_mono": cache, "news_mono_register": register_cache}
    return data, files, caches, teacher, mono, sets


def polite_line(rows: list[dict]) -> str:
    return (
        "Dev ko polite: " + "; ".join(f"{r['name']} {r['dev_ko_polite']:.3f}" for r in rows) + "."
    )


def verdict(plain: dict, variants: dict) -> str:
    """The rule applied to the plain-cache row and the register-variants row."""
    polite = (plain["dev_ko_polite"], variants["dev_ko_polite"])
    dev = (quality_levers.dev_score(plain), quality_levers.dev_score(variants))
    adopted = polite[1] > polite[0] and dev[1] >= dev[0]
    return (
        f"Under the rule: {'adopted' if adopted else 'not adopted'} (dev ko polite "
        f"{polite[0]:.3f} -> {polite[1]:.3f}; PUD dev + kNN {dev[0]:.4f} -> {dev[1]:.4f})."
    )


def run() -> str:
    title = "## Register variants: Korean in the polite -yo style, equal steps (4 x 128)"
    if not qc.available():
        return qc.skipped(title)
    data, files, caches, teacher, mono, sets = setup()
    rows = _equal_steps_rows(data, files, caches, mono, sets)
    return "\n".join([
        title, "",
        "Command: `python -m benchmarks.run_all --only=register_variants`. Today's defaults "
        f"(demo_small, batch 64, news-parallel + ud-mono), {quality_levers.STEPS} steps, from "
        "the plain cache and from one built with `--augment=register` (each Korean sentence "
        "also rewritten in the polite -요 style; a pair keeps its English side). Dev and test "
        "as the levers table. " + RULE, "",
        *(quality_levers.watch_table("cache", rows, teacher, WATCH) if rows
          else ["Not measured yet.", ""]),
        polite_line([teacher, *(r for _, r in rows)]), "",
        *([verdict(rows[0][1], rows[1][1]), ""] if len(rows) == 2 else []),
    ])  # fmt: skip
