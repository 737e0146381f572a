"""Text in the register users embed: does a little of it close the Korean gap?

Command: `python -m benchmarks.run_all --only=quality_register` (after `--only=quality`,
whose default row it starts from). Korean is the weakest demo-400 language of every
row of the quality table: nearly all of its everyday sentences are in the polite -yo
register, which the training text (news, encyclopedia) hardly has
(`quality.polite_register_shares`). A user who knows what they will embed can continue
their student on such text for a few minutes (`--init_from`), and with caches that
compose, that costs a cache of just the added text, not the corpus embedded again.

Rows, each continuing the quality table's 30-minute default student for STEPS steps
(`--init_from`, the same recipe, learning rate LEARNING_RATE):
  continued            on the same data (news-parallel + ud-mono): the control
  continued + register the same data plus the demo corpus's Korean train split (300
                       sentences) as monolingual text, each line REPEATS times so it
                       weighs about as much as ud-mono's Korean in the Korean group;
                       `--teacher_cache` = the news + ud-mono cache and one of that file
Test: the demo corpus's dev + test splits (100 sentences per language, 100-way xx <-> en
retrieval; none of the added sentences) and PUD test. The other languages are the
control for what the added text costs.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks import quality
from benchmarks import quality_common as qc
from lealla import configs, demo_corpus

ADDED = "ko"
HELD_OUT = ("dev", "test")
STEPS = 600
LEARNING_RATE = 3e-4
REPEATS = 14  # 300 lines x 14 ~ ud-mono's 4,151 Korean training lines
DEFAULT_ROW = "ours: default recipe, 4 x 128"
CONTINUED = f"continued {STEPS} steps on the same data"
REGISTER = f"continued {STEPS} steps + the {ADDED} demo train split (polite register)"


def held_out(lang: str) -> list[str]:
    return [s for split in HELD_OUT for s in demo_corpus.read_split(split, lang)]


def added_file() -> str:
    """The demo corpus's Korean train split, each line REPEATS times (its weight)."""
    path = os.path.join(qc.WORK, "data", "register", f"demo_train_x{REPEATS}.{ADDED}.txt")
    if not os.path.isfile(path):
        lines = demo_corpus.read_split("train", ADDED) * REPEATS
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
    base = os.path.join(qc.WORK, "runs", quality.run_name(DEFAULT_ROW, qc.MINUTES))
    results = qc.result_path(f"register_{STEPS}")
    rows = qc.read_json(results)
    if rows is None and (qc.DONE_ONLY or not os.path.isfile(os.path.join(base, "metrics.json"))):
        return f"{title}\n\nNot measured yet: run `--only=quality`, then this section.\n"
    if rows is None:
        extra = added_file()
        extra_cache, _ = qc.build_cache(f"register_{ADDED}_x{REPEATS}", [extra])
        continued = dict(init_from=base, steps=STEPS, learning_rate=LEARNING_RATE,
                         warmup_steps=STEPS // 10, data=data)  # fmt: skip
        control, _ = qc.train(f"register_control_{STEPS}", train_data=files, cache=cache,
                              **continued)  # fmt: skip
        added, _ = qc.train(f"register_{ADDED}_{STEPS}", train_data=[*files, extra],
                            cache=(cache, extra_cache), **continued)  # fmt: skip
        rows = {
            "teacher": evaluate(qc.teacher_embed(), data),
            DEFAULT_ROW: evaluate(qc.student_embed(base), data),
            CONTINUED: evaluate(qc.student_embed(control), data),
            REGISTER: evaluate(qc.student_embed(added), data),
        }
        qc.save_json(results, rows)
    teacher = rows["teacher"]
    others = [lang for lang in teacher["demo_held_out"] if lang != ADDED]
    lines = [
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_register`. The quality "
        f"table's 30-minute default student, continued for {STEPS} steps (`--init_from`, "
        f"learning rate {LEARNING_RATE:g}) on the same data, and on the same data plus the "
        f"demo corpus's {ADDED} train split (300 sentences, each line {REPEATS} times; "
        f"{quality.polite_register_shares(data)['demo-400']:.0%} of demo-400's Korean is "
        f"in the polite -yo register) from a cache of its own. Test: the demo dev + test "
        f"splits (100-way retrieval per language; none of the added sentences) and PUD "
        f"test.", "",
        f"| model | demo held out, {ADDED} (/ teacher) | demo held out, the other "
        f"{len(others)} | PUD test, {ADDED} | PUD test, mean |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for name in ("teacher", DEFAULT_ROW, CONTINUED, REGISTER):
        r = rows[name]
        ko = r["demo_held_out"][ADDED]
        lines.append(
            f"| {name} | {ko:.3f} ({ko / teacher['demo_held_out'][ADDED]:.0%}) | "
            f"{np.mean([r['demo_held_out'][k] for k in others]):.3f} | "
            f"{r['pud_test'][ADDED]:.3f} | {qc.mean(r['pud_test']):.3f} |"
        )
    gain = rows[REGISTER]["demo_held_out"][ADDED] - rows[CONTINUED]["demo_held_out"][ADDED]
    pairs = 2 * len(held_out(ADDED))  # retrievals: both directions
    lines += [
        "",
        f"The added text moves held-out {ADDED} by {gain:+.3f} against the control "
        f"({round(gain * pairs):+d} of {pairs} retrievals: a small test set, a direction "
        f"rather than a size).",
    ]
    return "\n".join(lines) + "\n"
