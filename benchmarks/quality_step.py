"""The cheaper step at the quality budget: the default recipe before and after it.

Command: `python -m benchmarks.run_all --only=quality_step`. Same data, teacher and
evaluation as `benchmarks/quality.py`, LEALLA_BENCH_MINUTES (default 30) of training per
row, both rows trained on this machine one after the other. The "before" row is the
quality section's own default row (the step it was measured with: dense AdamW, buckets
16/32/64, unpaired monolingual rows), so its result is shared with that section; the
"after" row adds what step_cost.py and mono_pairs.py measured at equal steps (lazy
token-table updates, buckets every 8 tokens, monolingual rows in pairs: today's
DistillConfig defaults). At equal steps they teach as much or more; here the question
is what the budget buys with them.
"""

from __future__ import annotations

from benchmarks import mono_pairs, quality
from benchmarks import quality_common as qc

BEFORE = "ours: default recipe, 4 x 128"  # quality.py's row, pinned to the old step
AFTER = "ours: default recipe + cheaper step, paired rows, 4 x 128"
WATCH = ("ko", "ar", "pl")


def table(rows: list[dict], teacher: dict) -> list[str]:
    """Dev, test and ratio-to-teacher columns, with the watched languages on demo-400."""
    t_pud, t_demo = qc.mean(teacher["pud_test"]), qc.mean(teacher["demo400"])
    lines = [
        "| model | steps | dev PUD + mono kNN | PUD test | / teacher | demo-400 | / teacher | "
        "worst language (/ teacher) | " + " | ".join(f"demo-400 {k}" for k in WATCH) + " |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | "
        + " | ".join("---:" for _ in WATCH) + " |",
    ]  # fmt: skip
    for r in [teacher, *rows]:
        pud, demo = qc.mean(r["pud_test"]), qc.mean(r["demo400"])
        ratios = {  # PUD has no Dutch: such a language has its demo-400 ratio only
            k: min(v / teacher["demo400"][k],
                   r["pud_test"].get(k, 1.0) / teacher["pud_test"].get(k, 1.0))
            for k, v in r["demo400"].items()
        }  # fmt: skip
        worst = min(ratios, key=ratios.get)
        dev = (f"{qc.mean(r['pud_dev']):.3f} + {r['mono_agreement']:.3f}"
               if "mono_agreement" in r else f"{qc.mean(r['pud_dev']):.3f} + 1")  # fmt: skip
        lines.append(
            f"| {r['name']} | {r.get('steps', '-')} | {dev} | {pud:.3f} | {pud / t_pud:.1%} | "
            f"{demo:.3f} | {demo / t_demo:.1%} | "
            f"{'-' if r is teacher else f'{worst} {ratios[worst]:.0%}'} | "
            + " | ".join(f"{r['demo400'][k]:.3f}" for k in WATCH) + " |"
        )  # fmt: skip
    return lines


def run() -> str:
    title = f"## The cheaper step at the {qc.MINUTES:g}-minute budget (4 x 128 student)"
    if not qc.available():
        return qc.skipped(title)
    data, files, cache, _, teacher, mono = quality.budget_setup()
    rows, not_measured = quality.measured([
        quality.student_row(BEFORE, data, cache, files, qc.MINUTES, mono, **quality.DEFAULT),
        quality.student_row(AFTER, data, cache, files, qc.MINUTES, mono, **quality.DEFAULT,
                            **mono_pairs.AFTER),
    ])  # fmt: skip
    return "\n".join([
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_step`. As the main table: "
        f"{qc.MINUTES:g} minutes of training per row on this machine, the two rows one "
        f"after the other; PUD test = lines 200-998, demo-400 = all 400 demo sentences per "
        f"language (never trained on). Before: the main table's default row (dense AdamW, "
        f"buckets 16/32/64, monolingual rows unpaired). After: lazy token-table updates, "
        f"buckets every 8 tokens and monolingual rows in pairs (the defaults). Worst "
        f"language: the lowest ratio to the teacher on PUD test or demo-400.", "",
        *table(rows, teacher), "",
        *quality.dev_choice(rows),
        *not_measured,
    ])  # fmt: skip
