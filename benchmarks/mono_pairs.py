"""Monolingual rows in pairs: no training row with an empty side.

Command: `python -m benchmarks.run_all --only=mono_pairs`. The quality section's setting
(demo_small 4 x 128, batch 64, the news + ud-mono teacher cache, the default recipe,
with the cheaper step of step_cost.py). Half of the rows are monolingual
(`--mono_share=0.5`); unpaired, their target side is an empty sentence the student
still encodes at the row's padded length.

1. Step time, one process, as in step_cost.py: rows/s, sentences/s (the sides holding
   a sentence) and the padding share, unpaired vs paired, alternating rounds.
2. Quality at equal steps (LEALLA_BENCH_LEVER_STEPS, default 800), dev (PUD 0-199,
   ud-mono kNN agreement) and test (PUD 200-998, demo-400).
"""

from __future__ import annotations

from benchmarks import quality_common as qc
from benchmarks import quality_levers, step_cost

BEFORE = {**step_cost.AFTER, "mono_pairs": False}
AFTER = {**step_cost.AFTER, "mono_pairs": True}
VARIANTS = {
    "monolingual rows unpaired (before)": BEFORE,
    "monolingual rows in pairs (the default)": AFTER,
}


def run() -> str:
    title = "## Monolingual rows in pairs: no empty target sides (4 x 128 student)"
    if not qc.available():
        return qc.skipped(title)
    from benchmarks import quality

    data = qc.prepare()
    files, cache = quality.training_data(data)
    speeds = step_cost.step_times(data, files, cache, VARIANTS)
    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    arms = (("unpaired (before)", BEFORE), ("in pairs (the default)", AFTER))
    rows = step_cost.quality_rows(data, files, cache, teacher_mono, arms, prefix="mono pairs")
    base = speeds[0]
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=mono_pairs`. The quality section's "
        "setting (demo_small, batch 64, news + ud-mono cache, monolingual share 0.5, the "
        "default recipe and step). Step time as in the section above: both variants in one "
        "process, alternating rounds, median. Sentences/s counts the sides of the rows that "
        "hold a sentence, each with its teacher target.",
        "",
        "| variant | rows/s | sentences/s | vs before | padding |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {s['name']} | {s['rate']:,.0f} | {s['sentences']:,.0f} | "
            f"{s['sentences'] / base['sentences']:.2f}x | {s['padding']:.0%} |"
            for s in speeds
        ),
        "",
        f"Quality at equal steps ({quality_levers.STEPS}), dev and test as the levers table:",
        "",
        *quality_levers.watch_table("monolingual rows", rows, qc.evaluate(teacher, data), ("ko",)),
        "",
    ]
    return "\n".join(lines)
