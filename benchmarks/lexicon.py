"""Everyday words as training examples: a frequency word list per language, embedded by
the teacher one word at a time, mixed into the feature term at a fixed share.

Command: `python -m benchmarks.run_all --only=lexicon` (equal steps, ~20 minutes with
the caches; run `--only=register_variants` first, whose plain-cache row it shares).
Needs `pip install wordfreq` (Apache-2.0 code; its word lists are CC-BY-SA 4.0, drawn
from subtitles, Wikipedia, news, books, web and social media text); without it the
section says so.

Why: the weakest demo-400 languages are those whose everyday words the training text
lacks (the share of demo word tokens never seen in news-parallel + ud-mono: ko 45%,
ar 24%, pl 20%, tr 17%; de 4%, es 5%). The teacher knows those words; a word list lets
it teach them without any sentence that uses them. Fixed before measuring: the
LEALLA_BENCH_LEXICON_WORDS (30,000) most frequent words of each training language that
has a list (Thai has none), every token with a letter, at LEALLA_BENCH_LEXICON_SHARE
(0.2) of the training examples (a `FILE@SHARE` group of the files together); then
sequences of 4-10 of those words at 0.1. Measured: neither raised dev (RESULTS.md).

Dev as the levers table (PUD dev + ud-mono kNN agreement); test: PUD test, demo-400.
"""

from __future__ import annotations

import os

from benchmarks import mono_pairs, quality, quality_levers, step_cost
from benchmarks import quality_common as qc
from benchmarks import register_variants as rv

WORDS = int(os.environ.get("LEALLA_BENCH_LEXICON_WORDS", "30000"))
SHARE = float(os.environ.get("LEALLA_BENCH_LEXICON_SHARE", "0.2"))
PHRASES = 20000
PHRASE_SHARE = 0.1
WATCH = ("ko", "ar", "pl", "it", "tr")


def write_lexicon(data: qc.Data, words: int = WORDS) -> tuple[str, ...]:
    """work/data/lexicon/words.xx.txt for every training language with a word list."""
    import wordfreq

    langs = {os.path.basename(p).split("-")[0] for p in data.news} | {qc.PIVOT}
    files = []
    for lang in sorted(langs):
        if lang not in wordfreq.available_languages(wordlist="best"):
            continue
        top = [w for w in wordfreq.top_n_list(lang, words) if any(c.isalpha() for c in w)]
        out = os.path.join(qc.WORK, "data", "lexicon", f"words.{lang}.txt")
        files.append(qc.write_lines(out, top))
    return tuple(files)


def write_phrases(words: tuple[str, ...], count: int = PHRASES, seed: int = 0) -> tuple[str, ...]:
    """work/data/lexicon_phrases/phrases.xx.txt: `count` sequences of 4-10 words drawn
    uniformly from each language's list (joined without spaces in ja and zh)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    files = []
    for path in words:
        lang = os.path.basename(path).split(".")[1]
        vocab = qc.read_lines(path)
        joiner = "" if lang in ("ja", "zh") else " "
        lines = [
            joiner.join(vocab[i] for i in rng.integers(0, len(vocab), size=rng.integers(4, 11)))
            for _ in range(count)
        ]
        out = os.path.join(qc.WORK, "data", "lexicon_phrases", f"phrases.{lang}.txt")
        files.append(qc.write_lines(out, lines))
    return tuple(files)


def run() -> str:
    title = "## Everyday words from a frequency list, equal steps (4 x 128)"
    if not qc.available():
        return qc.skipped(title)
    try:
        import wordfreq  # noqa: F401
    except ImportError:
        return "\n".join([title, "", "Not measured here: `pip install wordfreq` first.", ""])
    data, files, cache, _, teacher, mono = quality.budget_setup()
    words = write_lexicon(data)
    word_cache, _ = qc.build_cache(f"lexicon_{WORDS}", words)
    glob = os.path.join(os.path.dirname(words[0]), "words.*.txt")
    phrases = write_phrases(words)
    phrase_cache, _ = qc.build_cache(f"lexicon_phrases_{WORDS}", phrases)
    phrase_glob = os.path.join(os.path.dirname(phrases[0]), "phrases.*.txt")
    arms = (
        # register_variants' plain-cache row: the same run, read back when measured.
        (*rv.PLAIN, files, cache),
        (
            f"lexicon {WORDS} at {SHARE:g}",
            ("+ everyday words", mono_pairs.AFTER),
            (*files, f"{glob}@{SHARE:g}"),
            (cache, word_cache),
        ),
        (
            f"lexicon phrases {WORDS} at {PHRASE_SHARE:g}",
            ("+ sequences of everyday words", mono_pairs.AFTER),
            (*files, f"{phrase_glob}@{PHRASE_SHARE:g}"),
            (cache, phrase_cache),
        ),
    )
    rows = []
    for prefix, arm, train_files, caches in arms:
        result = step_cost.measured_row(data, train_files, caches, mono, prefix, arm)
        if result is not None:
            rows.append((arm[0], result))
    return "\n".join([
        title, "",
        "Command: `python -m benchmarks.run_all --only=lexicon`. Today's defaults (demo_small, "
        f"batch 64, news-parallel + ud-mono), {quality_levers.STEPS} steps, without and with "
        f"the {WORDS:,} most frequent words of each language (`wordfreq`; {len(words)} "
        f"languages, Thai has no list) at {SHARE:g} of the training examples, each word "
        "embedded alone by the teacher; then, instead, "
        f"{PHRASES:,} sequences of 4-10 words per language drawn uniformly from the same "
        f"lists (no grammar: everyday words in sentence-length inputs) at {PHRASE_SHARE:g}. "
        "Dev and test as the levers table.", "",
        *(quality_levers.watch_table("training text", rows, teacher, WATCH) if rows
          else ["Not measured yet.", ""]),
    ])  # fmt: skip
