"""Register variants at the time budget: today's defaults from the plain cache and from
one with `--augment=register`, LEALLA_BENCH_MINUTES (default 30) of training each.

Command: `python -m benchmarks.run_all --only=register_variants_30` (after, or without,
`--only=register_variants`, whose cache it shares). The plain-cache row is quality_step's
"after" row: its result is shared with that section. See register_variants.py.
"""

from __future__ import annotations

import os

from benchmarks import mono_pairs, quality, quality_step
from benchmarks import quality_common as qc
from benchmarks import register_variants as rv

REGISTER = "ours: default recipe + cheaper step, paired rows, register variants, 4 x 128"


def _row(name: str, data, cache: str, files, mono, sets) -> dict:
    row = quality.student_row(
        name, data, cache, files, qc.MINUTES, mono, **quality.DEFAULT, **mono_pairs.AFTER
    )
    if row.get("missing"):
        return row
    run = quality.run_name(name, qc.MINUTES)
    return rv.with_polite(row, os.path.join(qc.WORK, "runs", run), sets, qc.result_path(run))


def run() -> str:
    title = f"## Register variants at the {qc.MINUTES:g}-minute budget (4 x 128 student)"
    if not qc.available():
        return qc.skipped(title)
    data, files, caches, teacher, mono, sets = rv.setup()
    rows, not_measured = quality.measured([
        _row(quality_step.AFTER, data, caches["news_mono"], files, mono, sets),
        _row(REGISTER, data, caches["news_mono_register"], files, mono, sets),
    ])  # fmt: skip
    return "\n".join([
        title, "",
        f"Command: `python -m benchmarks.run_all --only=register_variants_30`. As the "
        f"quality table: {qc.MINUTES:g} minutes of training per row on this machine, one "
        f"after the other; today's defaults from the plain cache (quality_step's row) and "
        f"from the `--augment=register` cache. " + rv.RULE, "",
        *quality_step.table(rows, teacher), "",
        *quality.dev_choice(rows),
        rv.polite_line([teacher, *rows]), "",
        *([rv.verdict(*rows), ""] if len(rows) == 2 else []),
        *not_measured,
    ])  # fmt: skip
