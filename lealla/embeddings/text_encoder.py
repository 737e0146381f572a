"""The one text-encoder protocol: strings in, unit-length float32 numpy [n, dim] out.

Every kind of encoder (a teacher, a training run's student, an exported SavedModel, a
.tflite file) reaches the evaluation, alignment, mining and embedding code through this
protocol; `lealla.api.encoders.load_encoder` builds one for a spec. `BatchEncoder` turns a
function that embeds one batch into a `TextEncoder`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from lealla.embeddings import length_batches
from lealla.ui.progress import Progress

DEFAULT_BATCH_SIZE = 64

# strings [n] -> float [n, d] (one batch)
EmbedFn = Callable[[list[str]], np.ndarray]


@runtime_checkable
class TextEncoder(Protocol):
    """What every encoder offers.

    Attributes:
      name: what it was loaded from (for reports, tables and manifests).
      dim: the embedding width d.

    Example:
      >>> import numpy as np
      >>> import lealla
      >>> class Constant:  # any object with name, dim and encode is a TextEncoder
      ...     name, dim = "constant", 2
      ...     def encode(self, texts, batch_size=64, progress=False):
      ...         return np.full((len(list(texts)), 2), 0.5**0.5, np.float32)
      >>> isinstance(Constant(), lealla.TextEncoder)
      True
    """

    name: str
    dim: int

    def encode(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool | str = False,
    ) -> np.ndarray:  # fmt: skip
        """float32 [n, dim], unit-length rows in the order of `texts`.

        `texts` is any iterable of str (a list, a tuple, a generator). Batches are cut
        from the texts sorted by length (each batch is padded to its longest row).
        `progress`: True shows a bar named after the encoder, a str names the bar.
        """
        ...


@dataclass(frozen=True)
class BatchEncoder:
    """A `TextEncoder` from a function that embeds one batch of strings.

    Args:
      name: what the encoder is (for reports).
      dim: the width `fn` returns.
      fn: list of str [b] -> float [b, dim] (numpy or anything `np.asarray` takes).

    Example:
      >>> import numpy as np
      >>> from lealla.embeddings.text_encoder import BatchEncoder
      >>> lengths = BatchEncoder("lengths", 2, lambda b: [[len(t), 1.0] for t in b])
      >>> print(lengths.encode(["abc", ""]).round(3))  # unit rows, input order
      [[0.949 0.316]
       [0.    1.   ]]
    """

    name: str
    dim: int
    fn: EmbedFn

    def encode(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool | str = False,
    ) -> np.ndarray:  # fmt: skip
        """float32 [n, dim], unit-length rows in input order, computed in length order."""
        texts = checked_texts(texts)
        _check_batch_size(batch_size)
        rows = list(length_batches.length_batches(texts, batch_size))
        batches = ([texts[i] for i in batch] for batch in rows)
        out = np.zeros((len(texts), self.dim), np.float32)
        for batch, part in zip(rows, self.encode_batches(batches, len(texts), progress),
                               strict=True):  # fmt: skip
            out[batch] = part
        return out

    def encode_batches(
        self, batches: Iterable[Sequence[str]], total: int | None = None,
        progress: bool | str = False,
    ) -> Iterator[np.ndarray]:  # fmt: skip
        """float32 [len(batch), dim] unit rows for each batch in turn; `total` sizes the bar."""
        label = progress if isinstance(progress, str) else f"embedding ({self.name})"
        bar = Progress(label, total=total, unit="sentences") if progress else None
        try:
            for batch in batches:
                batch = list(batch)
                yield self._encode_one(batch) if batch else np.zeros((0, self.dim), np.float32)
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()

    def _encode_one(self, batch: list[str]) -> np.ndarray:
        out = self.fn(batch)
        if isinstance(out, dict):  # string-in hub modules may return {"default": ...}
            out = out["default"]
        out = np.asarray(out, np.float32)
        if out.shape != (len(batch), self.dim):
            raise ValueError(
                f"encoder {self.name} returned {out.shape} for {len(batch)} strings, "
                f"expected ({len(batch)}, {self.dim})"
            )
        return unit_rows(out)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero): the protocol promises unit rows
    for every encoder, including modules that do not normalize their output. Rows that
    already are unit length are returned bit for bit."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.all(np.abs(norms - 1.0) <= 1e-5):
        return x
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def checked_texts(texts: Iterable[str]) -> list[str]:
    """`texts` as a list, or TypeError naming the first item that is not a str."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("encode takes a list (or any iterable) of strings, not one string: "
                        "pass [text]")  # fmt: skip
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
    return texts


def _check_batch_size(batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def resolve(encoder: TextEncoder | Callable[[], TextEncoder]) -> TextEncoder:
    """`encoder` itself, or what a loader function returns (functions that validate their
    files first take a loader, to fail before loading; `lealla.api` passes one per spec)."""
    if hasattr(encoder, "encode"):
        return encoder
    if callable(encoder):
        return encoder()
    raise TypeError(f"expected a TextEncoder or a function that loads one, got {encoder!r}")
