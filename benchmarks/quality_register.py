"""Text in the register users embed: does a little of it close the Korean gap?

Command: `python -m benchmarks.run_all --only=quality_register`. Korean is the weakest
demo-400 language of every row of the quality table: nearly all of its everyday
sentences are in the polite -yo register, which the training text (news, encyclopedia)
hardly has (`quality.polite_register_shares`). A user who knows what they will embed can
add such text as monolingual data; with caches that compose, that costs a cache of just
the added text, not the corpus embedded again.

Rows, the default recipe on news-parallel + ud-mono at equal steps:
  default      the quality table's 30-minute default row (its model, reused)
  + register   the same recipe and number of steps, with the demo corpus's Korean train
               split (300 sentences) added as monolingual text: `--train_data` gets the
               file, `--teacher_cache` the news + ud-mono cache and a cache of that file
Test: the demo corpus's dev + test splits (100 sentences per language, 100-way xx <-> en
retrieval; the added Korean sentences are never among them) and PUD test. The other
languages are the control: the added text must not cost them.
"""

from __future__ import annotations

import json
import os

import numpy as np

from benchmarks import quality
from benchmarks import quality_common as qc
from lealla import configs, demo_corpus

ADDED = "ko"
HELD_OUT = ("dev", "test")
DEFAULT_ROW = "ours: default recipe, 4 x 128"
ROW = f"default + {ADDED} demo train split as monolingual text"


def held_out(lang: str) -> list[str]:
    return [s for split in HELD_OUT for s in demo_corpus.read_split(split, lang)]


def added_file() -> str:
    path = os.path.join(qc.WORK, "data", "register", f"demo_train.{ADDED}.txt")
    lines = demo_corpus.read_split("train", ADDED)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    configs.atomic_write_text(path, "".join(f"{line}\n" for line in lines))
    return path


def evaluate(embed: qc.Embed, data: qc.Data) -> dict:
    sets = {lang: held_out(lang) for lang in demo_corpus.DEMO_LANGUAGES}
    return {
        "demo_held_out": qc.retrieval(embed, sets),
        "pud_test": qc.retrieval(embed, data.pud_test),
    }


def run() -> str:
    title = "## Text in the register users embed (Korean)"
    if not qc.available():
        return qc.skipped(title)
    data = qc.prepare()
    files, cache = quality.training_data(data)
    base_dir = os.path.join(qc.WORK, "runs", quality.run_name(DEFAULT_ROW, qc.MINUTES))
    if not os.path.isfile(os.path.join(base_dir, "metrics.json")):
        return f"{title}\n\nNot measured yet: run `--only=quality` first (its default row).\n"
    with open(os.path.join(base_dir, "metrics.json"), encoding="utf-8") as f:
        steps = json.load(f)["step"]
    results = os.path.join(qc.WORK, "results", "register.json")
    if os.path.isfile(results):
        with open(results, encoding="utf-8") as f:
            rows = json.load(f)
    elif qc.DONE_ONLY:
        return f"{title}\n\nNot measured yet (rerun the command).\n"
    else:
        extra = added_file()
        extra_cache, _ = qc.build_cache(f"register_{ADDED}", [extra])
        model_dir, _ = qc.train(
            f"register_{ADDED}_{steps}", train_data=[*files, extra],
            cache=(cache, extra_cache), data=data, steps=steps,
        )  # fmt: skip
        rows = {
            "teacher": evaluate(qc.teacher_embed(), data),
            DEFAULT_ROW: evaluate(qc.student_embed(base_dir), data),
            ROW: evaluate(qc.student_embed(model_dir), data),
        }
        qc.save_json(results, rows)
    teacher = rows["teacher"]
    others = [lang for lang in teacher["demo_held_out"] if lang != ADDED]
    lines = [
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_register`. The default "
        f"recipe at {steps:,} steps (the quality table's 30-minute default row, reused), "
        f"and the same with the demo corpus's {ADDED} train split (300 sentences, "
        f"{quality.polite_register_shares(data)['demo-400']:.0%} of demo-400's Korean in the "
        f"polite -yo register) added as monolingual text from a cache of its own. Test: the "
        f"demo dev + test splits (100-way retrieval per language; none of the added "
        f"sentences) and PUD test.", "",
        f"| model | demo held out, {ADDED} (/ teacher) | demo held out, the other "
        f"{len(others)} | PUD test, {ADDED} | PUD test, mean |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for name in ("teacher", DEFAULT_ROW, ROW):
        r = rows[name]
        ko = r["demo_held_out"][ADDED]
        lines.append(
            f"| {name} | {ko:.3f} ({ko / teacher['demo_held_out'][ADDED]:.0%}) | "
            f"{np.mean([r['demo_held_out'][k] for k in others]):.3f} | "
            f"{r['pud_test'][ADDED]:.3f} | {qc.mean(r['pud_test']):.3f} |"
        )
    return "\n".join(lines) + "\n"
