"""How `lealla embed` stores embeddings: float16/float32 as is, int8 codes with
per-dimension scales, or packed sign bits; readers get unit-length float32 back.

int8:   scales calibrated per shard on its own rows (the 99.9th percentile of |x_d|
        maps to 127, `int8_scales`), stored beside the codes; 4x less
        than float32. Decoded rows are renormalized.
binary: one sign bit per dimension (np.packbits), 32x less than float32. Decoded as
        +-1/sqrt(d): inner products are then 1 - 2 * hamming / d, so any float search
        over them ranks by Hamming distance (no float re-scoring: the floats are gone).
"""

from __future__ import annotations

import numpy as np

from lealla.embeddings import exact_search

STORAGE_DTYPES = ("float16", "float32", "int8", "binary")
QUANTIZED = ("int8", "binary")
# Recall of the stored codes against the float embeddings, measured on each shard:
# RECALL_QUERIES of its rows searched among its first RECALL_ROWS, top RECALL_K.
RECALL_QUERIES, RECALL_ROWS, RECALL_K = 100, 2000, 10
# int8 scales come from a sample of at most this many rows.
CALIBRATION_ROWS = 10_000


def encode(embeddings: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """float [n, d] -> (stored array, int8 scales float32 [d] or None)."""
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"dtype must be one of {STORAGE_DTYPES}, got {dtype!r}")
    x = np.asarray(embeddings, np.float32)
    if dtype == "int8":
        scales = int8_scales(x)
        return quantize_int8(x, scales), scales
    if dtype == "binary":
        return np.packbits(x > 0, axis=1), None
    return x.astype(dtype), None


def decode(stored: np.ndarray, dtype: str, dim: int, scales: np.ndarray | None = None):
    """The stored array -> float32 [n, dim] with unit-length rows (zero rows stay 0)."""
    if dtype == "binary":
        bits = np.unpackbits(stored, axis=1, count=dim).astype(np.float32)
        return (2.0 * bits - 1.0) / np.float32(np.sqrt(dim))
    if dtype == "int8":
        if scales is None:
            raise ValueError("int8 embeddings need their scales")
        x = stored.astype(np.float32) * scales
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return np.asarray(stored, np.float32)


def recall_against_float(embeddings: np.ndarray, stored, dtype: str, scales=None) -> float:
    """Share of the float top-RECALL_K that a search over the decoded rows also finds."""
    x = np.asarray(embeddings[:RECALL_ROWS], np.float32)
    k = min(RECALL_K, len(x))
    if not k:
        return 1.0
    decoded = decode(stored[: len(x)], dtype, x.shape[1], scales)
    queries = x[:RECALL_QUERIES]
    _, exact = exact_search.exact_knn(queries, x, k)
    _, got = exact_search.exact_knn(decoded[: len(queries)], decoded, k)  # both sides stored
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, got, strict=True)]))


def int8_scales(base: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per-dimension scales from a sample of at most CALIBRATION_ROWS rows."""
    rng = np.random.default_rng(seed)
    rows = len(base)
    pick = np.sort(rng.choice(rows, min(rows, CALIBRATION_ROWS), replace=False))
    sample = np.abs(np.asarray(base[pick], np.float32)) if rows else np.ones((1, base.shape[1]))
    scales = np.percentile(sample, 99.9, axis=0).astype(np.float32) / 127.0
    return np.where(scales > 0, scales, np.float32(1.0 / 127.0))


def quantize_int8(x: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x / scales), -127, 127).astype(np.int8)
