"""`--encoder`: one resolver for every command that embeds text (eval, align, demo).

An encoder spec is a registry name (`use-multilingual`, `labse`, `lealla-small`, ...),
a TF Hub/Kaggle handle, an exported SavedModel folder, a training `--model_dir`, or an
exported `model*.tflite` file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lealla import length_batches
from lealla.progress import Progress


@dataclass
class Encoder:
    """The `lealla.text_encoder.TextEncoder` adapter of every kind of encoder.

    Attributes:
      name: what it was loaded from (for tables and plots).
      embedding_dim: d.
      fn: a callable [N] tf.string -> [N, d] tf.float32 (unit length).
    """

    name: str
    embedding_dim: int
    fn: Any

    def embed(
        self, texts: Sequence[str], batch_size: int = 256, progress: str | None = None
    ) -> np.ndarray:
        """Embeds `texts` -> float32 [len(texts), d] in their order; `progress` names a bar.

        Batches are cut from the texts sorted by length: each batch is padded to its
        longest row, so mixed lengths would pay for padding.
        """
        order = length_batches.length_order(texts)
        by_length = [texts[i] for i in order]
        parts = list(self.embed_batches(_batches(by_length, batch_size), len(texts), progress))
        out = np.zeros((len(texts), self.embedding_dim), np.float32)
        if parts:
            out[order] = np.concatenate(parts)
        return out

    def embed_batches(
        self, batches: Iterable[Sequence[str]], total: int | None = None,
        progress: str | None = None,
    ) -> Iterable[np.ndarray]:  # fmt: skip
        """Streams embeddings of each batch of strings (for inputs larger than memory)."""
        import tensorflow as tf

        bar = Progress(progress, total=total, unit="sentences") if progress else None
        try:
            for batch in batches:
                out = self.fn(tf.constant(list(batch), tf.string))
                if isinstance(out, dict):
                    out = out["default"]
                out = np.asarray(out, np.float32)
                if out.shape != (len(batch), self.embedding_dim):
                    raise ValueError(
                        f"encoder {self.name} returned {out.shape} for {len(batch)} strings, "
                        f"expected [{len(batch)}, {self.embedding_dim}]"
                    )
                if bar is not None:
                    bar.update(len(batch))
                yield out
        finally:
            if bar is not None:
                bar.close()


def load_encoder(spec: str, checkpoint: str = "best") -> Encoder:
    """Resolves `spec` (see the module docstring) into an `Encoder`.

    Args:
      spec: registry name, hub handle, exported SavedModel folder, training model_dir
        or .tflite file.
      checkpoint: for a model_dir: `best` (best dev retrieval; the latest if none)
        or `latest`.

    Raises:
      ValueError: the spec names nothing loadable (the message says what was tried).
      teachers.loading.TeacherUnavailableError: a remote handle is unreachable.
    """
    if spec.endswith(".tflite") and os.path.isfile(spec):
        from export.tflite_model import TFLiteEncoder

        model = TFLiteEncoder(spec)
        return Encoder(spec, model.embedding_dim, lambda texts: model(texts.numpy().tolist()))
    if os.path.isdir(spec) and _is_model_dir(spec):
        from export import restore

        encoder = restore.restore_sentence_encoder(spec, checkpoint=checkpoint)
        return Encoder(spec, encoder.backbone.embedding_dim, encoder)
    from teachers import loading

    teacher = loading.load_teacher(spec)
    return Encoder(spec, teacher.embedding_dim, teacher.embed)


def _is_model_dir(path: str) -> bool:
    from export import restore

    return restore.is_model_dir(path)


def _batches(texts: Sequence[str], batch_size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(texts), batch_size):
        yield texts[start : start + batch_size]
