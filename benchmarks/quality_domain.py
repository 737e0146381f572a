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
  continued                 on the same data (news-parallel + ud-mono): the control
  + N per language @SHARE   the same data plus the first N lines of the demo corpus's
                            train split in each of its 13 languages other than English,
                            as monolingual files `demo.xx.txt` under one share
  from the start            the largest added text at the share chosen on dev, mixed in
                            from the first step of a budget run (no `--init_from`)
N and the shares were fixed before this design's run; a first design (share 0.1 only,
English added too, 100-way retrieval both ways) had shown no change, and 0.3 was added
after it, three times the dose per language. Retrieval: each held-out xx sentence (the
demo dev or test split: 50 per language, none of them added) finds its English among all
400 of the demo corpus's English sentences (none of them added either: English is the
pivot every pair already has), as hard as demo-400. The share to recommend is read on
the dev queries; the test queries report it; PUD test says whether the training domain
is kept.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from benchmarks import mono_pairs, quality, quality_step
from benchmarks import quality_common as qc
from lealla import demo_corpus

SIZES = (25, 100, 300)  # sentences per language; 300 is the whole train split
SHARES = (0.1, 0.3)
STEPS = 600
LEARNING_RATE = 3e-4
WATCH = ("ko", "pl", "ar")
CONTROL = "continued on the same data"
LANGUAGES = tuple(lang for lang in demo_corpus.DEMO_LANGUAGES if lang != qc.PIVOT)


def added_name(size: int, share: float) -> str:
    return f"+ {size} sentences per language @{share:g}"


def added_files(size: int) -> list[str]:
    """The first `size` demo train lines of each non-pivot language, as `demo.xx.txt`."""
    folder = os.path.join(qc.WORK, "data", "domain", f"{len(LANGUAGES)}_n{size}")
    files = []
    for lang in LANGUAGES:
        path = os.path.join(folder, f"demo.{lang}.txt")
        if not os.path.isfile(path):
            qc.write_lines(path, demo_corpus.read_split("train", lang)[:size])
        files.append(path)
    return files


def added_data(size: int, share: float) -> tuple[str, str]:
    """(the `--train_data` spec of the added files at `share`, their own teacher cache)."""
    extra = added_files(size)
    extra_cache, _ = qc.build_cache(f"domain_{len(LANGUAGES)}_n{size}", extra)
    return os.path.join(os.path.dirname(extra[0]), "demo.*.txt") + f"@{share:g}", extra_cache


def demo_retrieval(embed: qc.Embed) -> dict:
    """Each xx sentence of the demo corpus finding its English among all 400 English
    sentences (xx -> en, one direction): accuracy per language of the dev and test
    splits ("demo_dev", "demo_test"), and of the first N train lines for each N of
    SIZES ("demo_added": what the rows that added them learned of them)."""

    def whole(lang: str) -> list[str]:  # train, dev, test: line i translates English's i
        return [s for split in demo_corpus.SPLITS for s in demo_corpus.read_split(split, lang)]

    english = embed(whole(qc.PIVOT))
    english = english / np.linalg.norm(english, axis=1, keepdims=True)
    spans, start = {}, 0  # split -> its lines' slice of the whole
    for split in demo_corpus.SPLITS:
        n = len(demo_corpus.read_split(split, qc.PIVOT))
        spans[split], start = slice(start, start + n), start + n
    spans.update({str(n): slice(spans["train"].start, n) for n in SIZES})
    out: dict = {"demo_dev": {}, "demo_test": {}, "demo_added": {str(n): {} for n in SIZES}}
    for lang in LANGUAGES:
        found = np.argmax(embed(whole(lang)) @ english.T, axis=1) == np.arange(start)
        out["demo_dev"][lang] = float(np.mean(found[spans["dev"]]))
        out["demo_test"][lang] = float(np.mean(found[spans["test"]]))
        for n, accuracies in out["demo_added"].items():
            accuracies[lang] = float(np.mean(found[spans[n]]))
    return out


def evaluate(embed: qc.Embed, data: qc.Data) -> dict:
    return {**demo_retrieval(embed), "pud_test": qc.retrieval(embed, data.pud_test)}


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
    for share in SHARES:
        for size in SIZES:
            spec, extra_cache = added_data(size, share)
            model_dir, _ = qc.train(
                qc.slug(f"domain_{len(LANGUAGES)}_n{size}_at_{share:g}_{STEPS}"),
                train_data=[*files, spec], cache=(cache, extra_cache), **continued,
            )  # fmt: skip
            rows[added_name(size, share)] = {
                "size": size,
                **evaluate(qc.student_embed(model_dir), data),
            }
    return rows


def best_share(rows: dict) -> float:
    """The share whose rows gain most over the control on the dev queries, mean over N."""
    return max(SHARES, key=lambda share: gain(rows, share, "demo_dev"))


def gain(rows: dict, share: float, split: str) -> float:
    control = qc.mean(rows[CONTROL][split])
    return float(np.mean([qc.mean(rows[added_name(n, share)][split]) - control for n in SIZES]))


def from_start_name(share: float) -> str:
    return f"from the start, {qc.MINUTES:g} minutes, + {max(SIZES)} per language @{share:g}"


def from_start(data: qc.Data, files, cache: str, share: float) -> dict:
    """Today's defaults for the time budget with the largest added text at `share` from
    the first step: mixing the user's text in rather than continuing on it."""
    spec, extra_cache = added_data(max(SIZES), share)
    model_dir, metrics = qc.train(
        qc.slug(f"domain_{len(LANGUAGES)}_from_start_at_{share:g}_{qc.MINUTES:g}min"),
        train_data=[*files, spec], cache=(cache, extra_cache), data=data, **mono_pairs.AFTER,
    )  # fmt: skip
    return {"size": max(SIZES), "against": quality_step.AFTER, "steps": metrics["step"],
            **evaluate(qc.student_embed(model_dir), data)}  # fmt: skip


def table(rows: dict) -> list[str]:
    teacher = rows["teacher"]
    lines = [
        "| model | dev, mean | test, mean (/ teacher) | worst test language (/ teacher) | "
        + " | ".join(f"test {k}" for k in WATCH)
        + " | its added sentences (the control on them) | PUD test, mean |",
        "| --- | ---: | ---: | --- | " + " | ".join("---:" for _ in WATCH) + " | ---: | ---: |",
    ]  # fmt: skip
    for name, r in rows.items():
        test = r["demo_test"]
        ratios = {k: v / teacher["demo_test"][k] for k, v in test.items()}
        worst = min(ratios, key=ratios.get)
        added = "-"
        if "size" in r:
            n, against = str(r["size"]), rows[r.get("against", CONTROL)]
            added = f"{qc.mean(r['demo_added'][n]):.3f} ({qc.mean(against['demo_added'][n]):.3f})"
        lines.append(
            f"| {name} | {qc.mean(r['demo_dev']):.3f} | {qc.mean(test):.3f} "
            f"({qc.mean(test) / qc.mean(teacher['demo_test']):.1%}) | "
            f"{'-' if name == 'teacher' else f'{worst} {ratios[worst]:.0%}'} | "
            + " | ".join(f"{test[k]:.3f}" for k in WATCH)
            + f" | {added} | {qc.mean(r['pud_test']):.3f} |"
        )  # fmt: skip
    return lines


def dev_choice(rows: dict) -> str:
    """The chosen share, and what it buys against the control on the test queries."""
    best = best_share(rows)
    control = qc.mean(rows[CONTROL]["demo_test"])
    by_size = ", ".join(
        f"N = {n}: {qc.mean(rows[added_name(n, best)]['demo_test']) - control:+.3f}" for n in SIZES
    )
    return (
        f"Chosen on dev: share {best:g} (mean dev gain over the sizes "
        + ", ".join(f"@{s:g} {gain(rows, s, 'demo_dev'):+.3f}" for s in SHARES)
        + f"). Its test gain against the control: {by_size}."
    )


def run() -> str:
    title = "## A few sentences of the text users embed, every language"
    if not qc.available():
        return qc.skipped(title)
    results = qc.result_path(f"domain_{len(LANGUAGES)}_{STEPS}")
    base = os.path.join(qc.WORK, "runs", quality.run_name(quality_step.AFTER, qc.MINUTES))
    rows = qc.read_json(results)
    if rows is None and (qc.DONE_ONLY or not os.path.isfile(os.path.join(base, "metrics.json"))):
        return f"{title}\n\nNot measured yet: run `--only=quality_step`, then this section.\n"

    @functools.cache  # the data and cache both trained parts need, once
    def training() -> tuple:
        data = qc.prepare()
        return (data, *quality.training_data(data))

    if rows is None:
        rows = measure(*training(), base)
        qc.save_json(results, rows)
    share = best_share(rows)
    start_path = qc.result_path(qc.slug(f"domain_{len(LANGUAGES)}_from_start_at_{share:g}"))
    started = qc.read_json(start_path)
    if started is None and not qc.DONE_ONLY:
        started = from_start(*training(), share)
        qc.save_json(start_path, started)
    if started is not None:
        rows[from_start_name(share)] = started
    queries = sum(len(demo_corpus.read_split("test", k)) for k in LANGUAGES)
    return "\n".join([
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_domain`. Today's defaults "
        f"after {qc.MINUTES:g} minutes (quality_step's row), continued for {STEPS} steps "
        f"(`--init_from`, learning rate {LEARNING_RATE:g}) on the same data, and on the "
        f"same data plus the first N demo train sentences of each of the {len(LANGUAGES)} "
        f"languages other than English as monolingual files (`demo.xx.txt` under one "
        f"`@SHARE` spec, a cache of just them). Retrieval: each held-out sentence (dev or "
        f"test split, 50 per language, none added) finds its English among all 400 demo "
        f"English sentences (none added). Share chosen on dev, reported on test "
        f"({queries} test queries: one is {1 / queries:.2%} of the mean). The last row "
        f"mixes the {max(SIZES)} sentences per language in at the chosen share from the "
        f"first step of a {qc.MINUTES:g}-minute run, beside quality_step's row (the second).",
        "",
        *table(rows), "",
        dev_choice(rows), "",
        *steps_line(rows),
    ])  # fmt: skip


def steps_line(rows: dict) -> list[str]:
    """The from-start row's steps beside quality_step's row's: one budget, two runs."""
    started = [r for r in rows.values() if "steps" in r]
    base = qc.read_json(qc.result_path(quality.run_name(quality_step.AFTER, qc.MINUTES)))
    if not started or base is None:
        return []
    base_steps = base["steps"]
    return [
        f"The from-start row ran {started[0]['steps']:,} steps in its {qc.MINUTES:g} "
        f"minutes, quality_step's row {base_steps:,} in its own (another run, another "
        f"moment of a shared machine).",
        "",
    ]
