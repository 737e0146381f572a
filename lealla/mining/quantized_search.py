"""Nearest-neighbour search over int8 or binary codes of the embeddings (4x / 32x less
memory than float32), exact over the codes.

int8:   one scale per dimension, calibrated on a sample of the indexed rows (the
        99.9th percentile of |x_d| maps to 127); scores are the inner product of the
        float query with the dequantized codes.
binary: one sign bit per dimension (np.packbits); candidates by Hamming distance
        (XOR and `np.bitwise_count` on 64-bit words), the top `rescore` of them
        re-scored with the float rows, which are only read for those candidates (an
        np.memmap of the float embeddings stays on disk).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lealla.embeddings import embedding_codec, exact_search
from lealla.ui.progress import Progress

EMBEDDING_DTYPES = ("float32", "int8", "binary")
QUERY_CHUNK, BASE_CHUNK = 256, 16384
HAMMING_TILE = 4096  # base rows per tile: [QUERY_CHUNK, tile] uint64 buffers of 8 MiB
SELECT_ROWS = 16  # queries per candidate selection (int32 [rows, m] keys)


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
        scales = embedding_codec.int8_scales(base, seed)
        codes = np.concatenate(
            [embedding_codec.quantize_int8(np.asarray(base[i : i + BASE_CHUNK], np.float32), scales)
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
        # Word-major ([w, n]): each word's column is contiguous for the XOR passes.
        words = np.ascontiguousarray(packed_words(np.packbits(queries > 0, axis=1)).T)
        base_words = np.ascontiguousarray(packed_words(self.codes).T)
        scores = np.empty((len(queries), k), np.float32)
        indices = np.empty((len(queries), k), np.int64)
        bar = Progress(progress, total=len(queries), unit="queries") if progress else None
        for q0 in range(0, len(queries), QUERY_CHUNK):
            block = words[:, q0 : q0 + QUERY_CHUNK]
            hamming = hamming_distances(block, base_words)
            for r0 in range(0, len(hamming), SELECT_ROWS):
                cand = nearest_codes(hamming[r0 : r0 + SELECT_ROWS], candidates)  # [r, c]
                # Each query's candidates in ascending order: sequential reads of a memmap.
                rows = np.asarray(self.base[cand.ravel()], np.float32).reshape(*cand.shape, -1)
                sim = np.einsum("rcd,rd->rc", rows, queries[q0 + r0 : q0 + r0 + len(cand)])
                top = np.argsort(-sim, axis=1, kind="stable")[:, :k]
                out = slice(q0 + r0, q0 + r0 + len(cand))
                scores[out] = np.take_along_axis(sim, top, axis=1)
                indices[out] = np.take_along_axis(cand, top, axis=1)
            if bar is not None:
                bar.update(block.shape[1])
        if bar is not None:
            bar.close()
        return scores, indices


def nearest_codes(distances: np.ndarray, count: int) -> np.ndarray:
    """int64 [n, count]: per row of Hamming distances [n, m], the `count` columns of
    smallest distance in ascending column order, ties broken by the lower column.

    Distances are small integers: a histogram per row finds the cut-off distance, then
    one comparison takes every column up to it; only that short list is trimmed of the
    ties beyond `count` (four passes over [n, m], cheaper than a partial sort).
    """
    n = len(distances)
    width = int(distances.max()) + 1 if distances.size else 1
    keys = distances.astype(np.int32) + (np.arange(n, dtype=np.int32) * width)[:, None]
    cumulative = np.cumsum(np.bincount(keys.ravel(), minlength=n * width).reshape(n, width),
                           axis=1)  # fmt: skip
    cut = np.argmax(cumulative >= count, axis=1)  # the smallest d with count columns <= d
    rows, cols = np.nonzero(keys <= (cut + np.arange(n) * width)[:, None])
    # Columns at the cut-off distance beyond `count` per row go, the later ones first.
    tie = distances[rows, cols] == cut[rows]
    ties_before = np.cumsum(tie) - tie  # ties earlier in the list (all rows)
    row_start = np.searchsorted(rows, np.arange(n))
    rank = ties_before - ties_before[row_start][rows]  # ... earlier in the same row
    below = np.where(cut > 0, cumulative[np.arange(n), (cut - 1).clip(0)], 0)
    keep = ~tie | (rank < (count - below)[rows])
    return cols[keep].reshape(n, count)


def packed_words(codes: np.ndarray) -> np.ndarray:
    """Packed bits uint8 [n, b] -> uint64 [n, ceil(b / 8)] (zero bytes pad the last word:
    equal in every row, they add no distance)."""
    n, width = codes.shape
    padded = np.zeros((n, -(-width // 8) * 8), np.uint8)
    padded[:, :width] = codes
    return padded.view(np.uint64)


def hamming_distances(a: np.ndarray, b: np.ndarray, tile: int = HAMMING_TILE) -> np.ndarray:
    """uint16 [n, m] Hamming distances between word-major uint64 codes a [w, n] and
    b [w, m]: one word at a time (XOR, then `np.bitwise_count`, the CPU's popcount),
    over tiles of `tile` base rows whose buffers stay in cache."""
    n, m = a.shape[1], b.shape[1]
    out = np.zeros((n, m), np.uint16)
    xor, count = np.empty((n, tile), np.uint64), np.empty((n, tile), np.uint8)
    for b0 in range(0, m, tile):
        t = min(tile, m - b0)
        for j in range(a.shape[0]):
            np.bitwise_xor(a[j][:, None], b[j, b0 : b0 + t][None, :], out=xor[:, :t])
            np.bitwise_count(xor[:, :t], out=count[:, :t])
            np.add(out[:, b0 : b0 + t], count[:, :t], out=out[:, b0 : b0 + t])
    return out


def recall_against_float(
    queries: np.ndarray, base: np.ndarray, index: QuantizedIndex, k: int, rescore: int = 100
) -> float:
    """Share of the exact float32 top-k that the quantized search also returns."""
    k = min(k, len(base))
    _, exact = exact_search.exact_knn(np.asarray(queries, np.float32), base, k)
    _, got = index.search(queries, k, rescore)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, got, strict=True)]))
