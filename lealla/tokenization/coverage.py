"""How well a vocabulary covers a corpus: token counts, [UNK] rate, ids used."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator

import numpy as np
import tensorflow as tf

from lealla.tokenization import tokenizer as tokenizer_lib

DEFAULT_BATCH_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Coverage of a text collection by a tokenizer.

    Attributes:
      sentences: sentences tokenized.
      tokens: tokens produced (no special tokens).
      unk_tokens: how many of them are the unknown token.
      distinct_ids: distinct token ids used.
      vocab_size: the tokenizer's vocabulary size.
    """

    sentences: int
    tokens: int
    unk_tokens: int
    distinct_ids: int
    vocab_size: int

    @property
    def unk_rate(self) -> float:
        return self.unk_tokens / self.tokens if self.tokens else 0.0

    @property
    def tokens_per_sentence(self) -> float:
        return self.tokens / self.sentences if self.sentences else 0.0

    def describe(self) -> str:
        return (
            f"{self.sentences} sentences, {self.tokens} tokens "
            f"({self.tokens_per_sentence:.1f}/sentence), [UNK] rate {self.unk_rate:.4%}, "
            f"{self.distinct_ids}/{self.vocab_size} ids used"
        )


def iter_id_batches(
    tokenizer: tokenizer_lib.Tokenizer, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[tf.RaggedTensor]:
    """Tokenizes a stream of strings in batches; yields int32 ids [batch, (tokens)]."""
    it = iter(texts)
    while batch := list(itertools.islice(it, batch_size)):
        yield tokenizer.tokenize(tf.constant(batch))


def id_counts(
    tokenizer: tokenizer_lib.Tokenizer, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE
) -> tuple[np.ndarray, int]:
    """Counts of every token id over `texts` ([vocab_size] int64) and the sentence count."""
    counts = np.zeros(tokenizer.vocab_size, np.int64)
    sentences = 0
    for ids in iter_id_batches(tokenizer, texts, batch_size):
        sentences += int(ids.nrows())
        counts += np.bincount(ids.flat_values.numpy(), minlength=tokenizer.vocab_size)
    return counts, sentences


def measure_coverage(
    tokenizer: tokenizer_lib.Tokenizer, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE
) -> Coverage:
    """Tokenizes `texts` (streamed) and reports its coverage."""
    counts, sentences = id_counts(tokenizer, texts, batch_size)
    return Coverage(
        sentences=sentences,
        tokens=int(counts.sum()),
        unk_tokens=int(counts[tokenizer.special_ids.unk]),
        distinct_ids=int(np.count_nonzero(counts)),
        vocab_size=tokenizer.vocab_size,
    )


def coverage_by_language(
    tokenizer: tokenizer_lib.Tokenizer,
    sentences: Iterable[tuple[str, str]],
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, Coverage]:
    """Coverage per language of a stream of (language, sentence), in bounded memory."""
    pending: dict[str, list[str]] = {}
    totals: dict[str, list[int]] = {}  # lang -> [sentences, tokens, unk]
    used: dict[str, np.ndarray] = {}

    def flush(lang: str) -> None:
        ids = tokenizer.tokenize(tf.constant(pending.pop(lang))).flat_values.numpy()
        total = totals.setdefault(lang, [0, 0, 0])
        total[1] += ids.size
        total[2] += int(np.count_nonzero(ids == tokenizer.special_ids.unk))
        used.setdefault(lang, np.zeros(tokenizer.vocab_size, bool))[ids] = True

    for lang, text in sentences:
        pending.setdefault(lang, []).append(text)
        totals.setdefault(lang, [0, 0, 0])[0] += 1
        if len(pending[lang]) >= batch_size:
            flush(lang)
    for lang in list(pending):
        flush(lang)
    return {
        lang: Coverage(
            sentences=s,
            tokens=t,
            unk_tokens=u,
            distinct_ids=int(used[lang].sum()),
            vocab_size=tokenizer.vocab_size,
        )
        for lang, (s, t, u) in sorted(totals.items())
    }
