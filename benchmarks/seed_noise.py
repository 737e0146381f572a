"""How far apart the equal-steps rows land by chance: today's defaults with other seeds.

Command: `python -m benchmarks.run_all --only=seed_noise` (~20 minutes with the cache;
run `--only=register_variants` first, whose plain-cache row is seed 0). Every lever
table in this file compares single runs of 800 steps and picks on dev differences of
a few thousandths; the same recipe with another seed (initial weights, sampling order,
the bank) shows how large a difference has to be to mean anything.
"""

from __future__ import annotations

from benchmarks import mono_pairs, quality, quality_levers, step_cost
from benchmarks import quality_common as qc
from benchmarks import register_variants as rv

SEEDS = (1, 2)
WATCH = ("ko", "ar", "pl", "it", "tr")


def spread(rows: list[tuple[str, dict]]) -> str:
    """Max - min over the rows of each dev and test column."""
    columns = {
        "dev PUD": lambda r: qc.mean(r["pud_dev"]),
        "dev mono kNN": lambda r: r["mono_agreement"],
        "test PUD": lambda r: qc.mean(r["pud_test"]),
        "test demo-400": lambda r: qc.mean(r["demo400"]),
        **{f"demo-400 {lang}": (lambda r, lang=lang: r["demo400"][lang]) for lang in WATCH},
    }
    parts = []
    for name, get in columns.items():
        values = [get(r) for _, r in rows]
        parts.append(f"{name} {max(values) - min(values):.3f}")
    return f"Spread (max - min) over the {len(rows)} seeds: " + ", ".join(parts) + "."


def run() -> str:
    title = "## Seed noise of the equal-steps rows (4 x 128, 800 steps)"
    if not qc.available():
        return qc.skipped(title)
    data, files, cache, _, teacher, mono = quality.budget_setup()
    # (shown as, result prefix, arm): seed 0 is register_variants' plain-cache row.
    arms = [("seed 0", *rv.PLAIN)] + [
        (f"seed {seed}", "seed noise",
         (f"today's defaults, seed {seed}", {**mono_pairs.AFTER, "seed": seed}))
        for seed in SEEDS
    ]  # fmt: skip
    rows = []
    for shown, prefix, arm in arms:
        result = step_cost.measured_row(data, files, cache, mono, prefix, arm)
        if result is not None:
            rows.append((shown, result))
    return "\n".join([
        title, "",
        "Command: `python -m benchmarks.run_all --only=seed_noise`. Today's defaults "
        f"(demo_small, batch 64, news-parallel + ud-mono), {quality_levers.STEPS} steps, "
        "seed 0 (the register_variants row) and seeds "
        f"{', '.join(map(str, SEEDS))}. Dev and test as the levers table.", "",
        *(quality_levers.watch_table("seed", rows, teacher, WATCH)[:-3] if rows
          else ["Not measured yet."]), "",
        *([spread(rows), ""] if len(rows) > 1 else []),
    ])  # fmt: skip
