"""A few sentences of the text users embed, every language: what N of them buy.

Command: `python -m benchmarks.run_all --only=quality_domain` (after `--only=quality_step`,
whose 30-minute "after" row, today's defaults, it starts from). The quality table's
students learn the teacher on news and treebank text; every one of them keeps less of the
teacher on the demo corpus's everyday sentences than on PUD, most of all in Korean,
Polish and Arabic, whose everyday words the training text hardly uses. A user who knows
what they will embed has some of that text, in their languages, without translations.
This section measures the documented recipe for it: continue the student
(`--init_from`) with the user's text added as monolingual files under one share
(`--train_data=...,mine/*.txt@SHARE`), from a cache of just that text.

Rows, each continuing the 30-minute default student for STEPS steps at LEARNING_RATE
(the same recipe otherwise):
  continued            on the same data (news-parallel + ud-mono): the control
  + N per language     the same data plus the first N lines of the demo corpus's train
                       split in each of its 14 languages, as monolingual files
                       `demo.xx.txt` given together at share SHARE
N and SHARE were fixed before the run; nothing here is chosen on the test text.
Test: the demo corpus's dev + test splits (100 sentences per language, 100-way
xx <-> en retrieval; none of the added sentences) and PUD test (is the training domain
kept?).
"""

from __future__ import annotations

import json
import os

from benchmarks import mono_pairs, quality, quality_step
from benchmarks import quality_common as qc
from lealla import demo_corpus

HELD_OUT = ("dev", "test")
SIZES = (25, 100, 300)  # sentences per language; 300 is the whole train split
SHARE = 0.1
STEPS = 600
LEARNING_RATE = 3e-4
WATCH = ("ko", "pl", "ar")
CONTROL = "continued on the same data"


def added_name(size: int) -> str:
    return f"+ {size} sentences per language @{SHARE:g}"


def held_out(lang: str) -> list[str]:
    return [s for split in HELD_OUT for s in demo_corpus.read_split(split, lang)]


def added_files(size: int) -> list[str]:
    """The first `size` demo train lines of each language, one `demo.xx.txt` per language."""
    folder = os.path.join(qc.WORK, "data", "domain", f"n{size}")
    files = []
    for lang in demo_corpus.DEMO_LANGUAGES:
        path = os.path.join(folder, f"demo.{lang}.txt")
        if not os.path.isfile(path):
            qc.write_lines(path, demo_corpus.read_split("train", lang)[:size])
        files.append(path)
    return files


def evaluate(embed: qc.Embed, data: qc.Data) -> dict:
    sets = {lang: held_out(lang) for lang in demo_corpus.DEMO_LANGUAGES}
    return {
        "demo_held_out": qc.retrieval(embed, sets),
        "pud_test": qc.retrieval(embed, data.pud_test),
    }


def measure(data: qc.Data, files, cache: str, base: str) -> dict:
    """Every row, trained (or read back from its run folder) and evaluated."""
    continued = dict(init_from=base, steps=STEPS, learning_rate=LEARNING_RATE,
                     warmup_steps=STEPS // 10, data=data, **mono_pairs.AFTER)  # fmt: skip
    control, _ = qc.train(f"domain_control_{STEPS}", train_data=files, cache=cache,
                          **continued)  # fmt: skip
    rows = {
        "teacher": evaluate(qc.teacher_embed(), data),
        quality_step.AFTER: evaluate(qc.student_embed(base), data),
        CONTROL: evaluate(qc.student_embed(control), data),
    }
    for size in SIZES:
        extra = added_files(size)
        extra_cache, _ = qc.build_cache(f"domain_n{size}", extra)
        spec = os.path.join(os.path.dirname(extra[0]), "demo.*.txt") + f"@{SHARE:g}"
        model_dir, _ = qc.train(f"domain_n{size}_{STEPS}", train_data=[*files, spec],
                                cache=(cache, extra_cache), **continued)  # fmt: skip
        rows[added_name(size)] = evaluate(qc.student_embed(model_dir), data)
    return rows


def table(rows: dict) -> list[str]:
    teacher = rows["teacher"]
    t_demo = qc.mean(teacher["demo_held_out"])
    lines = [
        "| model | demo held out, mean (/ teacher) | worst language (/ teacher) | "
        + " | ".join(f"held out {k}" for k in WATCH) + " | PUD test, mean |",
        "| --- | ---: | --- | " + " | ".join("---:" for _ in WATCH) + " | ---: |",
    ]  # fmt: skip
    for name, r in rows.items():
        demo = r["demo_held_out"]
        ratios = {k: v / teacher["demo_held_out"][k] for k, v in demo.items()}
        worst = min(ratios, key=ratios.get)
        lines.append(
            f"| {name} | {qc.mean(demo):.3f} ({qc.mean(demo) / t_demo:.1%}) | "
            f"{'-' if name == 'teacher' else f'{worst} {ratios[worst]:.0%}'} | "
            + " | ".join(f"{demo[k]:.3f}" for k in WATCH)
            + f" | {qc.mean(r['pud_test']):.3f} |"
        )  # fmt: skip
    return lines


def run() -> str:
    title = "## A few sentences of the text users embed, every language"
    if not qc.available():
        return qc.skipped(title)
    results = qc.result_path(f"domain_{STEPS}")
    base = os.path.join(qc.WORK, "runs", quality.run_name(quality_step.AFTER, qc.MINUTES))
    if os.path.isfile(results):
        with open(results, encoding="utf-8") as f:
            rows = json.load(f)
    elif qc.DONE_ONLY or not os.path.isfile(os.path.join(base, "metrics.json")):
        return f"{title}\n\nNot measured yet: run `--only=quality_step`, then this section.\n"
    else:
        data = qc.prepare()
        files, cache = quality.training_data(data)
        rows = measure(data, files, cache, base)
        qc.save_json(results, rows)
    control = qc.mean(rows[CONTROL]["demo_held_out"])
    gains = ", ".join(
        f"{size}: {qc.mean(rows[added_name(size)]['demo_held_out']) - control:+.3f}"
        for size in SIZES if added_name(size) in rows
    )  # fmt: skip
    pairs = 2 * len(held_out("en")) * (len(demo_corpus.DEMO_LANGUAGES) - 1)
    return "\n".join([
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_domain`. Today's defaults "
        f"after {qc.MINUTES:g} minutes (quality_step's row), continued for {STEPS} steps "
        f"(`--init_from`, learning rate {LEARNING_RATE:g}) on the same data, and on the "
        f"same data plus the first N demo train sentences of each of the "
        f"{len(demo_corpus.DEMO_LANGUAGES)} languages as monolingual files at share "
        f"{SHARE:g} (`demo.xx.txt` under one `@{SHARE:g}` spec, a cache of just them). "
        f"Test: the demo dev + test splits (100-way retrieval per language; none of the "
        f"added sentences) and PUD test.", "",
        *table(rows), "",
        f"Held-out mean against the control, by N: {gains} ({pairs} retrievals in all).",
        "",
    ])  # fmt: skip
