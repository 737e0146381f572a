"""Truncatable (Matryoshka) embeddings: the first m dimensions, renormalized."""

from __future__ import annotations

import numpy as np


def truncate_embeddings(embeddings: np.ndarray, dims: int) -> np.ndarray:
    """[n, d] -> [n, dims] float32, each row rescaled to unit length (zero rows stay 0)."""
    if not 0 < dims <= embeddings.shape[-1]:
        raise ValueError(f"cannot cut {embeddings.shape[-1]}-dimensional embeddings to {dims}")
    prefix = np.asarray(embeddings[..., :dims], dtype=np.float32)
    norms = np.linalg.norm(prefix, axis=-1, keepdims=True)
    return prefix / np.maximum(norms, 1e-12)


def parse_dims(text: str | list[str], flag: str) -> tuple[int, ...]:
    """Parses "32,64" or ["32", "64"] -> (32, 64); a ValueError naming the flag if bad."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        dims = tuple(int(p) for p in parts if str(p).strip())
    except ValueError:
        raise ValueError(f"--{flag} must be comma-separated integers, got {text!r}") from None
    if any(m < 1 for m in dims):
        raise ValueError(f"--{flag} must be positive, got {list(dims)}")
    return dims


def pca_rotation(embeddings: np.ndarray) -> np.ndarray:
    """An orthogonal [d, d] rotation ordering directions by their share of the energy.

    The eigenvectors of the (uncentered) second moment of `embeddings` (a sample of the
    model's embeddings of its training text), by descending eigenvalue, each signed so
    its largest component is positive (deterministic). `x @ R` keeps every cosine, and
    its first m dimensions carry the most of x any m dimensions can: the prefix to keep.
    """
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need a sample of embeddings [n >= 2, d], got {x.shape}")
    _, vectors = np.linalg.eigh(x.T @ x / len(x))
    rotation = vectors[:, ::-1]
    signs = np.sign(rotation[np.argmax(np.abs(rotation), axis=0), np.arange(x.shape[1])])
    return (rotation * np.where(signs == 0, 1.0, signs)).astype(np.float32)
