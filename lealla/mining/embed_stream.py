"""Embeds a large sentence file in batches into a float array (in memory or a .npy on disk)."""

from __future__ import annotations

import numpy as np

from lealla.embeddings.text_encoder import TextEncoder
from lealla.mining.line_file import LineFile
from lealla.ui.progress import Progress

DEFAULT_BATCH_SIZE = 256


def embed_lines(
    lines: LineFile,
    encoder: TextEncoder,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dtype: str = "float32",
    out_path: str | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Embeds every usable sentence of `lines`, streaming the file batch by batch.

    Only one batch of strings is in memory at a time. With `out_path` the embeddings
    go to a .npy memory map (written in place; rename it yourself if it must appear
    atomically), so the array need not fit in RAM either.

    Args:
      lines: the scanned file.
      encoder: the text encoder.
      batch_size: sentences per batch (each batch is encoded in length order).
      dtype: "float32" or "float16" storage.
      out_path: a .npy file for a memory-mapped result, or None for RAM.
      progress: a description for the progress display, or None.

    Returns:
      float [len(lines), d] (np.memmap with out_path), row i = usable line i.

    Raises:
      ValueError: `encoder` returned the wrong number of rows or inconsistent widths.
    """
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be float32 or float16, got {dtype!r}")
    out = None
    row = 0
    bar = Progress(progress, total=len(lines), unit="sentences") if progress else None
    for batch in lines.batches(batch_size):
        vectors = np.asarray(encoder.encode(batch, batch_size=batch_size))
        if vectors.ndim != 2 or len(vectors) != len(batch):
            raise ValueError(
                f"embedding {lines.path}: got shape {vectors.shape} for {len(batch)} sentences"
            )
        if out is None:
            out = _allocate((len(lines), vectors.shape[1]), dtype, out_path)
        out[row : row + len(batch)] = vectors
        row += len(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    if isinstance(out, np.memmap):
        out.flush()
    return out


def _allocate(shape: tuple[int, int], dtype: str, out_path: str | None) -> np.ndarray:
    if out_path is None:
        return np.empty(shape, dtype)
    return np.lib.format.open_memmap(out_path, mode="w+", dtype=dtype, shape=shape)
