"""Language balance for little-data languages: sampling floor and temperature, on dev.

Command: `python -m benchmarks.run_all --only=quality_balance` (LEALLA_BENCH_LEVER_STEPS
sets the steps; default 800, as `quality_levers`). The rows train the default recipe
(bank of 16384 + ud-mono + cross-lingual targets) on demo_small from the news-parallel +
ud-mono cache at equal steps, changing only how languages are sampled: Arabic, Korean,
Thai and Dutch have 3-5k pairs of news-parallel's 223k, and Korean is the weakest
language out of domain. Chosen on dev (PUD 0-199, ud-mono kNN agreement); test columns
reported, never tuned on.
"""

from __future__ import annotations

from benchmarks import quality_common as qc
from benchmarks import quality_levers

ROWS: tuple[tuple[str, str, dict], ...] = (
    ("defaults (temperature 3.3, no floor)", "mono", {}),
    ("+ floor: every language group >= 3% of the mix", "mono", {"min_share": 0.03}),
    ("flatter: temperature 10", "mono", {"temperature": 10.0}),
)
WATCH = ("ar", "ko", "nl")  # little-data languages of news-parallel in demo-400 (no Thai)


def run() -> str:
    title = "## Language balance (news-parallel + ud-mono -> PUD, demo-400)"
    if not qc.available():
        return qc.skipped(title)
    data = qc.prepare()
    cache, _ = qc.build_cache("news_mono", data.news + data.mono)
    teacher = qc.teacher_embed()
    teacher_mono = teacher(qc.mono_dev_texts(data))
    t = qc.evaluate(teacher, data)
    caches = {"mono": cache}
    rows = [(name, quality_levers.row(f"balance: {name}", sets, extra, data, caches,
                                      teacher_mono)) for name, sets, extra in ROWS]  # fmt: skip
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=quality_balance`. The default recipe, "
        f"demo_small (4 x 128), batch 64, {quality_levers.STEPS} steps from the news-parallel "
        f"+ ud-mono cache; only the language sampling changes. Columns as in the levers "
        f"table; the last three: the little-data languages on demo-400.",
        "",
        *quality_levers.watch_table("sampling", rows, t, WATCH),
    ]
    return "\n".join(lines)
