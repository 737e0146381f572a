"""Nearest-neighbour search over int8 or binary codes of the embeddings (4x / 32x less
memory than float32), exact over the codes.

int8:   one scale per dimension, calibrated on a sample of the indexed rows (the
        99.9th percentile of |x_d| maps to 127); scores are the inner product of the
        float query with the dequantized codes.
binary: one sign bit per dimension (np.packbits); candidates by Hamming distance, the
        top `rescore` of them re-scored with the float rows, which are only read for
        those candidates (an np.memmap of the float embeddings stays on disk).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lealla.mining import exact_search
from lealla.progress import Progress

EMBEDDING_DTYPES = ("float32", "int8", "binary")
CALIBRATION_ROWS = 10_000
QUERY_CHUNK, BASE_CHUNK = 256, 16384
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


@dataclasses.dataclass(frozen=True)
class QuantizedIndex:
    """Codes of the base rows, ready to search.

    Attributes:
      dtype: "int8" or "binary".
      codes: int8 [m, d] or packed bits uint8 [m, ceil(d / 8)].
      scales: int8: float32 [d] (value = code * scale); binary: None.
      base: binary: the float rows, read only for re-scoring; int8: None.
    """

    dtype: str
    codes: np.ndarray
    scales: np.ndarray | None
    base: np.ndarray | None

    @classmethod
    def build(cls, base: np.ndarray, dtype: str, seed: int = 0) -> QuantizedIndex:
        """Quantizes `base` (float [m, d], unit rows; an np.memmap is read in chunks)."""
        if dtype not in EMBEDDING_DTYPES[1:]:
            raise ValueError(f"embedding dtype must be one of {EMBEDDING_DTYPES}, got {dtype!r}")
        chunks = range(0, len(base), BASE_CHUNK)
        if dtype == "binary":
            codes = np.concatenate(
                [np.packbits(np.asarray(base[i : i + BASE_CHUNK]) > 0, axis=1) for i in chunks]
                or [np.zeros((0, (base.shape[1] + 7) // 8), np.uint8)]
            )
            return cls("binary", codes, None, base)
        scales = int8_scales(base, seed)
        codes = np.concatenate(
            [quantize_int8(np.asarray(base[i : i + BASE_CHUNK], np.float32), scales)
             for i in chunks] or [np.zeros((0, base.shape[1]), np.int8)]
        )  # fmt: skip
        return cls("int8", codes, scales, None)

    @property
    def nbytes(self) -> int:
        """Bytes held in memory for the search (the codes and scales)."""
        return int(self.codes.nbytes + (0 if self.scales is None else self.scales.nbytes))

    def search(
        self, queries: np.ndarray, k: int, rescore: int = 100, progress: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores float32 [n, k], indices int64 [n, k]) by descending score.

        int8: exact inner products with the dequantized codes. binary: the `rescore`
        nearest codes by Hamming distance, re-scored exactly with the float rows.
        """
        queries = np.asarray(queries, np.float32)
        if self.dtype == "int8":
            # (q * s) . c = q . (c * s): the scales move onto the queries.
            return exact_search.exact_knn(queries * self.scales, self.codes, k, progress=progress)
        return self._binary_search(queries, k, max(k, rescore), progress)

    def _binary_search(self, queries: np.ndarray, k: int, candidates: int, progress):
        m = len(self.codes)
        k, candidates = min(k, m), min(candidates, m)
        bits = np.packbits(queries > 0, axis=1)
        scores = np.empty((len(queries), k), np.float32)
        indices = np.empty((len(queries), k), np.int64)
        bar = Progress(progress, total=len(queries), unit="queries") if progress else None
        for q0 in range(0, len(queries), QUERY_CHUNK):
            block = bits[q0 : q0 + QUERY_CHUNK]
            hamming = np.concatenate([
                _POPCOUNT[block[:, None, :] ^ self.codes[None, b0 : b0 + BASE_CHUNK]].sum(
                    axis=2, dtype=np.uint16)
                for b0 in range(0, m, BASE_CHUNK)
            ], axis=1)  # fmt: skip
            near = np.argpartition(hamming, candidates - 1, axis=1)[:, :candidates]
            for row, cand in enumerate(near):
                cand = np.sort(cand)  # sequential reads of a memmap
                sim = np.asarray(self.base[cand], np.float32) @ queries[q0 + row]
                top = np.argsort(-sim, kind="stable")[:k]
                scores[q0 + row], indices[q0 + row] = sim[top], cand[top]
            if bar is not None:
                bar.update(len(block))
        if bar is not None:
            bar.close()
        return scores, indices


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


def recall_against_float(
    queries: np.ndarray, base: np.ndarray, index: QuantizedIndex, k: int, rescore: int = 100
) -> float:
    """Share of the exact float32 top-k that the quantized search also returns."""
    k = min(k, len(base))
    _, exact = exact_search.exact_knn(np.asarray(queries, np.float32), base, k)
    _, got = index.search(queries, k, rescore)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, got, strict=True)]))
