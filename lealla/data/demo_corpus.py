"""The shipped demo corpus: 400 sentences in 14 languages, aligned, with a fixed split."""

from __future__ import annotations

import importlib.resources
import os

from lealla.data import languages

DEMO_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "ru",
    "tr",
    "ar",
    "zh",
    "ja",
    "ko",
)
SPLITS = ("train", "dev", "test")
SPLIT_SIZES = {"train": 300, "dev": 50, "test": 50}
PIVOT = "en"
# `demo:train`, `demo:dev`, `demo:test` name a split wherever a corpus is asked for.
PREFIX = "demo:"


def corpus_dir() -> str:
    """The folder holding train/, dev/ and test/ (inside the installed package)."""
    return str(importlib.resources.files("lealla") / "resources" / "demo_corpus")


def split_path(split: str, language: str) -> str:
    """The file of one language in one split, e.g. .../demo_corpus/dev/de.txt."""
    _check_split(split)
    lang = languages.normalize_language(language, context="demo corpus language")
    if lang not in DEMO_LANGUAGES:
        raise ValueError(f"the demo corpus has no {lang!r}; it has {', '.join(DEMO_LANGUAGES)}")
    return os.path.join(corpus_dir(), split, f"{lang}.txt")


def read_split(split: str, language: str) -> list[str]:
    """The sentences of one language in one split (small: read whole)."""
    with open(split_path(split, language), encoding="utf-8") as f:
        return f.read().splitlines()


def aligned_files(split: str, pivot: str = PIVOT) -> list[tuple[str, str, str, str]]:
    """(xx file, pivot file, xx, pivot) for every non-pivot language of a split: what the
    corpus name `demo:SPLIT` stands for (`lealla.data.corpus` makes them sources)."""
    return [
        (split_path(split, lang), split_path(split, pivot), lang, pivot)
        for lang in DEMO_LANGUAGES
        if lang != pivot
    ]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
