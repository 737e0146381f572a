"""Cheap text augmentation for the teacher cache: more, shorter, noisier sentences.

A student distilled only on the sentences of a parallel corpus learns that corpus's
domain (long news sentences); users embed short everyday text. Every sentence the
teacher embeds is a training example for the feature terms, so the cache adds
variants of the corpus's own sentences, embedded once at cache time (training stays
teacher-free): word spans, short prefixes, case and punctuation variants, stored as
monolingual examples of the sentence's language.

Deterministic: the variants of a shard depend only on its examples and its seed.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence

from lealla.data import corpus

KINDS = ("span", "prefix", "case", "punct")
# Languages written without spaces between words: spans and prefixes cut characters.
_UNSPACED = {"zh", "ja", "th", "lo", "km", "my", "bo"}
_TRAILING_PUNCT = re.compile(r"[\s\.\!\?\u3002\uff01\uff1f\u061f\u0964,;:]+$")


def _units(text: str, lang: str) -> tuple[list[str], str]:
    if lang in _UNSPACED:
        return list(text), ""
    return text.split(), " "


def span(text: str, lang: str, rng: random.Random) -> str | None:
    """A contiguous run of 3-8 words (6-16 characters without spaces) from inside the text."""
    units, sep = _units(text, lang)
    low, high = (6, 16) if not sep else (3, 8)
    if len(units) < low + 2:
        return None
    n = rng.randint(low, min(high, len(units) - 1))
    start = rng.randint(0, len(units) - n)
    return sep.join(units[start : start + n])


def prefix(text: str, lang: str, rng: random.Random) -> str | None:
    """The first 2-6 words (4-12 characters without spaces): short, like a query or title."""
    units, sep = _units(text, lang)
    low, high = (4, 12) if not sep else (2, 6)
    if len(units) <= low:
        return None
    return sep.join(units[: rng.randint(low, min(high, len(units) - 1))])


def case(text: str, lang: str, rng: random.Random) -> str | None:
    """Lower case, or the first letter upper case only (chat and title styles)."""
    variant = text.lower() if rng.random() < 0.7 else text[:1].upper() + text[1:].lower()
    return variant if variant != text else None


def punct(text: str, lang: str, rng: random.Random) -> str | None:
    """Without final punctuation, and with other punctuation dropped half the time."""
    variant = _TRAILING_PUNCT.sub("", text)
    if rng.random() < 0.5:
        variant = "".join(c for c in variant if not unicodedata.category(c).startswith("P"))
        variant = re.sub(r"\s+", " ", variant).strip()
    return variant if variant and variant != text else None


_MAKERS = {"span": span, "prefix": prefix, "case": case, "punct": punct}


def augment(
    examples: Sequence[corpus.Example], kinds: Sequence[str], seed: int
) -> list[corpus.Example]:
    """One variant per example (of a randomly chosen side and kind), as monolingual examples.

    Args:
      examples: a shard's examples.
      kinds: which augmentations to draw from (a subset of KINDS).
      seed: e.g. derived from the shard's name; same seed, same variants.

    Returns:
      Monolingual examples (tgt and tgt_lang ""); an example whose variant would be
      empty contributes none.
    """
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; expected some of {list(KINDS)}")
    rng = random.Random(seed)
    out = []
    for ex in examples:
        if kinds:
            side = ex.tgt_lang and rng.random() < 0.5
            text, lang = (ex.tgt, ex.tgt_lang) if side else (ex.src, ex.src_lang)
            variant = _MAKERS[rng.choice(list(kinds))](text, lang, rng)
            if variant and variant.strip():
                out.append(corpus.Example(variant.strip(), "", lang, ""))
    return out
