"""The one text-encoder protocol: strings in, unit-length float32 numpy [n, d] out.

Every kind of encoder (a teacher, a training run's student, an exported SavedModel, a
.tflite file) reaches the evaluation, alignment, mining and embedding code through this
protocol; `lealla.commands.encoders.load_encoder` builds the adapter for a spec. Code
that only needs a function takes an `EmbedFn`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

# strings [n] -> float32 [n, d], unit-length rows
EmbedFn = Callable[[Sequence[str]], np.ndarray]


@runtime_checkable
class TextEncoder(Protocol):
    """What every encoder adapter offers."""

    name: str
    embedding_dim: int

    def embed(
        self, texts: Sequence[str], batch_size: int = 256, progress: str | None = None
    ) -> np.ndarray:
        """float32 [len(texts), embedding_dim], unit-length rows; `progress` names a bar."""
        ...

    def embed_batches(
        self, batches: Iterable[Sequence[str]], total: int | None = None,
        progress: str | None = None,
    ) -> Iterable[np.ndarray]:  # fmt: skip
        """The embeddings of each batch in turn (inputs larger than memory)."""
        ...
