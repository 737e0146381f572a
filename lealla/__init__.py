"""LEALLA: distil multilingual sentence encoders into lightweight language-agnostic students.

The public API, imported lazily so that `import lealla` stays fast (TensorFlow is
loaded only when a name that needs it is first used).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "CorpusError": "lealla.textio",
    "BadLineReport": "lealla.textio",
    "CorpusSource": "lealla.corpus",
    "Example": "lealla.corpus",
    "resolve_sources": "lealla.corpus",
    "read_examples": "lealla.corpus",
    "iter_sentences": "lealla.corpus",
    "normalize_language": "lealla.languages",
    "temperature_weights": "lealla.sampling",
    "InputConfig": "lealla.pipeline",
    "CorpusIndex": "lealla.pipeline",
    "scan_corpus": "lealla.pipeline",
    "make_example_dataset": "lealla.pipeline",
    "tokenize_examples": "lealla.pipeline",
    "bucket_by_length": "lealla.pipeline",
    "Tokenizer": "lealla.tokenization.tokenizer",
    "SpecialIds": "lealla.tokenization.tokenizer",
    "load_tokenizer": "lealla.tokenization.tokenizer",
    "tokenizer_from_files": "lealla.tokenization.tokenizer",
    "WordpieceTokenizer": "lealla.tokenization.wordpiece",
    "SentencepieceTokenizer": "lealla.tokenization.sentencepiece",
    "Packer": "lealla.tokenization.packing",
    "pad_to_length": "lealla.tokenization.packing",
    "build_wordpiece_vocab": "lealla.tokenization.vocab_builder",
    "prune_tokenizer": "lealla.tokenization.vocab_pruning",
    "PrunedVocab": "lealla.tokenization.vocab_pruning",
    "measure_coverage": "lealla.tokenization.coverage",
    "Progress": "lealla.progress",
    "retrieval_accuracy": "lealla.evaluation.retrieval",
    "evaluate_tatoeba": "lealla.evaluation.tatoeba",
    "evaluate_bucc": "lealla.evaluation.bucc",
    "evaluate_un": "lealla.evaluation.un",
    "EvalReport": "lealla.evaluation.report",
    "mine_pairs": "lealla.mining.mine",
    "MinedPairs": "lealla.mining.mine",
    "knn_search": "lealla.mining.neighbors",
    "ScannConfig": "lealla.mining.scann_search",
    "ScannIndex": "lealla.mining.scann_search",
    "ratio_margin": "lealla.mining.margin",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lealla' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
