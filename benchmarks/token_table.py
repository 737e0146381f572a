"""A frozen token table: the student's piece embeddings kept at the teacher's start.

Command: `python -m benchmarks.run_all --only=token_table` (equal steps, ~15 minutes
with the cache; run `--only=register_variants` first, whose plain-cache row it shares).
On demo-400 the weakest languages are those whose everyday words the training text
lacks: the share of demo word tokens never seen in news-parallel + ud-mono is ko 45%,
ar 24%, pl 20%, tr 17%, against de 4% and es 5%, and the student keeps ko 85%, ar 93%,
pl 91% of the teacher (the 120-minute row). Such words are spelled with pieces the
training text uses rarely: their rows of the token table move little while the common
rows move with the layers. With `--freeze_token_embeddings` every row keeps the
teacher's piece geometry (`--token_init=pieces`) and only the layers train.

Dev as the levers table (PUD dev + ud-mono kNN agreement); test: PUD test, demo-400.
"""

from __future__ import annotations

from benchmarks import mono_pairs, quality, quality_levers, step_cost
from benchmarks import quality_common as qc
from benchmarks import register_variants as rv

FROZEN = {**mono_pairs.AFTER, "freeze_token_embeddings": True}
WATCH = ("ko", "ar", "pl", "it", "tr")


def run() -> str:
    title = "## A frozen token table, equal steps (4 x 128)"
    if not qc.available():
        return qc.skipped(title)
    data, files, cache, _, teacher, mono = quality.budget_setup()
    # register_variants' plain-cache row: the same run, read back when measured.
    arms = (rv.PLAIN, ("token table", ("frozen (--freeze_token_embeddings)", FROZEN)))
    rows = []
    for prefix, arm in arms:
        result = step_cost.measured_row(data, files, cache, mono, prefix, arm)
        if result is not None:
            rows.append((arm[0], result))
    return "\n".join([
        title, "",
        "Command: `python -m benchmarks.run_all --only=token_table`. Today's defaults "
        f"(demo_small, batch 64, news-parallel + ud-mono, token table from the teacher's "
        f"pieces), {quality_levers.STEPS} steps, with the token table trained (the "
        "register_variants row) and frozen at its start. Dev and test as the levers "
        "table.", "",
        *(quality_levers.watch_table("token table", rows, teacher, WATCH) if rows
          else ["Not measured yet.", ""]),
    ])  # fmt: skip
