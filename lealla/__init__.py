"""LEALLA: distil multilingual sentence encoders into lightweight language-agnostic students.

What a user calls, imported lazily so that `import lealla` stays fast (TensorFlow is
loaded only when a name that needs it is first used). Internal helpers are imported
from their modules (`lealla.data.corpus`, `lealla.mining.mine`, ...).

Example:
  >>> import lealla
  >>> encoder = lealla.load_encoder("use-multilingual")
  >>> encoder.encode(["Hello world", "Hallo Welt"]).shape == (2, encoder.dim)
  True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # encoders
    "load_encoder": "lealla.api.encoders",
    "TextEncoder": "lealla.embeddings.text_encoder",
    "BatchEncoder": "lealla.embeddings.text_encoder",
    # training and export
    "distill": "lealla.api.runs",
    "DistillConfig": "lealla.models.distill.distill_config",
    "export": "lealla.api.runs",
    "ExportConfig": "lealla.models.export.export_config",
    # evaluation
    "evaluate_tatoeba": "lealla.api.evaluation",
    "evaluate_bucc": "lealla.api.evaluation",
    "evaluate_un": "lealla.api.evaluation",
    "EvalReport": "lealla.evaluation.report",
    # embedding and mining
    "embed": "lealla.api.mining",
    "EmbedConfig": "lealla.embeddings.embedding_shards",
    "align": "lealla.api.mining",
    "AlignConfig": "lealla.mining.align",
    "mine": "lealla.api.mining",
    "MineConfig": "lealla.mining.mine_run",
    "PairFilter": "lealla.mining.pair_filters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lealla' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
