"""The text an export is checked and calibrated on: multilingual probe sentences, and a
sample of the run's training text (int8 calibration, the PCA rotation of --dims)."""

from __future__ import annotations

import itertools

from lealla.data import corpus, demo_corpus
from lealla.tokenization import coverage

# int8 calibration: this many sentences of the training data; refused when more than
# MAX_UNK_RATE of their tokens are unknown to the student's vocabulary.
REPRESENTATIVE_SENTENCES = 512
MAX_UNK_RATE = 0.2


def probe_sentences() -> list[str]:
    """Sentences in the 14 demo languages, plus an empty and an over-long one (truncation)."""
    languages = demo_corpus.DEMO_LANGUAGES
    texts = [s for lang in languages for s in demo_corpus.read_split("dev", lang)[:3]]
    return [*texts, "", " ".join(demo_corpus.read_split("dev", "en"))]


def representative_sentences(
    specs, tokenizer, on_bad_line: str = "error", count: int = REPRESENTATIVE_SENTENCES
) -> list[str]:
    """A calibration sample: the first sentences of every source, `count` in all.

    Raises:
      ValueError: no data, a source with no sentences, or one the vocabulary does not
        cover (more than MAX_UNK_RATE unknown tokens), named.
    """
    if not specs:
        raise ValueError(
            "the int8 TFLite variant needs sentences to calibrate on: the run records no "
            "training data; pass --representative_data=FILE"
        )
    sources = corpus.resolve_sources(specs)
    per_source = max(1, -(-count // len(sources)))
    texts: list[str] = []
    seen: set[str] = set()
    for source in sources:
        # Both sides of a parallel file: twice as many, less the pivot seen before.
        sample = [t for _, t in itertools.islice(
            corpus.iter_sentences([source], on_bad_line=on_bad_line), 2 * per_source)]  # fmt: skip
        sample = [t for t in dict.fromkeys(sample) if t.strip()]
        if not sample:
            raise ValueError(
                f"{source.describe()}: no sentences to calibrate the int8 TFLite variant on"
            )
        rate = coverage.measure_coverage(tokenizer, sample).unk_rate
        if rate > MAX_UNK_RATE:
            raise ValueError(
                f"{source.describe()}: {rate:.0%} of its tokens are unknown to the student's "
                f"vocabulary; give text in the languages the model was trained for "
                f"(--representative_data)"
            )
        sample = [t for t in sample if t not in seen][:per_source]
        texts += sample
        seen.update(sample)
    return texts[:count]
