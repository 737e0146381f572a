"""Mining with int8 / binary embeddings vs float32: memory held, recall, time.

Command: `python -m benchmarks.run_all --only=quantized_search`. Data: the vectors of
benchmarks/mining_scale.py (20k German news sentences and their English translations
through the USE-m teacher, PCA to 128 dims; the target side padded with noisy
mixtures), here with 200k targets. Each variant mines both directions with k=4,
mutual, exact search over its codes (what `lealla align --embedding_dtype=...` does).
Gold recall: share of the 20k true pairs (German i <-> English i) among the mined
pairs; kNN recall: share of the float32 top-4 found, on 1,000 queries. The last rows
mine from embeddings stored by `lealla embed --dtype=int8|binary` (both sides stored,
decoded by the reader, searched in float: binary then ranks by Hamming distance with
no float re-scoring, the floats being gone). Then the search alone, side by side in one
process on the same synthetic vectors (`search_speeds`): float32, int8 and binary, and
binary's Hamming scan as it was before (a byte lookup table) for the record.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from lealla.embeddings import embedding_codec, exact_search
from lealla.mining import mine
from lealla.mining import quantized_search as qs

NUM_TARGETS, K, RESCORE = 200_000, 4, 100
# Search speed: queries x targets of clustered unit vectors, at two widths.
SPEED_QUERIES, SPEED_TARGETS, SPEED_DIMS, ROUNDS = 1_000, 50_000, (128, 768), 3


def _search(dtype: str):
    def search(queries, base, k):
        if dtype == "float32":
            return exact_search.exact_knn(queries, base, k)
        return qs.QuantizedIndex.build(base, dtype).search(queries, k, RESCORE)

    return search


def run() -> str:
    from benchmarks import mining_scale

    mining_scale._prepare()
    src = np.load(f"{mining_scale.WORK}/src.npy")
    tgt = np.load(f"{mining_scale.WORK}/tgt.npy", mmap_mode="r")[:NUM_TARGETS].astype(np.float32)
    sample = src[:: len(src) // 1000][:1000]
    rows = []
    for dtype in qs.EMBEDDING_DTYPES:
        start = time.perf_counter()
        pairs = mine.mine_pairs(src, tgt, k=K, mode="mutual", search=_search(dtype))
        seconds = time.perf_counter() - start
        gold = int(np.sum((pairs.src == pairs.tgt) & (pairs.src < len(src))))
        index = None if dtype == "float32" else qs.QuantizedIndex.build(tgt, dtype)
        rows.append({
            "dtype": dtype,
            "bytes": tgt.nbytes if index is None else index.nbytes,
            "knn_recall": 1.0 if index is None else qs.recall_against_float(
                sample, tgt, index, K, RESCORE),
            "gold_recall": gold / len(src), "pairs": len(pairs), "seconds": seconds,
        })  # fmt: skip
    for dtype in embedding_codec.QUANTIZED:  # `lealla embed --dtype`: both sides stored
        stored = {}
        for side, x in (("src", src), ("tgt", tgt)):
            codes, scales = embedding_codec.encode(x, dtype)
            stored[side] = embedding_codec.decode(codes, dtype, x.shape[1], scales)
            if side == "tgt":
                nbytes = codes.nbytes + (0 if scales is None else scales.nbytes)
        start = time.perf_counter()
        pairs = mine.mine_pairs(stored["src"], stored["tgt"], k=K, mode="mutual",
                                search=_search("float32"))  # fmt: skip
        seconds = time.perf_counter() - start
        gold = int(np.sum((pairs.src == pairs.tgt) & (pairs.src < len(src))))
        _, exact = exact_search.exact_knn(sample, tgt, K)
        _, got = exact_search.exact_knn(stored["src"][:: len(src) // 1000][:1000], stored["tgt"], K)
        rows.append({
            "dtype": f"stored by `lealla embed --dtype={dtype}`", "bytes": nbytes,
            "knn_recall": float(np.mean([len(set(a) & set(b)) / K
                                         for a, b in zip(exact, got, strict=True)])),
            "gold_recall": gold / len(src), "pairs": len(pairs), "seconds": seconds,
        })  # fmt: skip
    base = rows[0]
    lines = [*_table(rows, base, len(src)), "", *speed_table()]
    return "\n".join(lines) + "\n"


def _table(rows: list[dict], base: dict, num_src: int) -> list[str]:
    lines = [
        "## Quantized embeddings in mining: int8 and binary vs float32",
        "",
        f"Command: `python -m benchmarks.run_all --only=quantized_search`. {num_src:,} "
        f"German queries against {NUM_TARGETS:,} English targets (128-d, real news "
        f"embeddings plus mixtures, see benchmarks/mining_scale.py), k={K}, mutual, exact "
        f"search over the codes in both directions; binary re-scores its {RESCORE} nearest "
        f"codes with the float rows. One run, 2 cores.",
        "",
        "| embeddings | target side held | vs float32 | kNN recall@4 vs float32 | pairs | "
        "gold recall | mining time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dtype']} | {r['bytes'] / 1e6:.1f} MB | "
            f"{base['bytes'] / r['bytes']:.1f}x smaller | {r['knn_recall']:.4f} | "
            f"{r['pairs']:,} | {r['gold_recall']:.4f} | "
            f"{r['seconds']:.0f} s |"
        )
    return lines


def _clustered(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centers = rng.standard_normal((256, dim))
    x = centers[rng.integers(0, 256, n)] + 0.7 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _lookup_table_hamming(queries: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Binary's Hamming scan before `np.bitwise_count`: a byte table, per query block."""
    bits = np.packbits(queries > 0, axis=1)
    return np.concatenate([
        np.concatenate([
            _BYTE_POPCOUNT[bits[q : q + qs.QUERY_CHUNK, None, :]
                           ^ codes[None, b : b + qs.BASE_CHUNK]].sum(axis=2, dtype=np.uint16)
            for b in range(0, len(codes), qs.BASE_CHUNK)
        ], axis=1)
        for q in range(0, len(bits), qs.QUERY_CHUNK)
    ])  # fmt: skip


def search_speeds(num_queries: int = SPEED_QUERIES, num_targets: int = SPEED_TARGETS,
                  dims: tuple[int, ...] = SPEED_DIMS) -> list[dict]:  # fmt: skip
    """Seconds of a k=4 search of each kind over the same vectors, one after another."""
    rows = []
    for dim in dims:
        rng = np.random.default_rng(dim)
        queries, base = _clustered(num_queries, dim, rng), _clustered(num_targets, dim, rng)
        indexes = {dtype: qs.QuantizedIndex.build(base, dtype) for dtype in ("int8", "binary")}
        searches = {
            "float32": functools.partial(exact_search.exact_knn, queries, base, K),
            "int8": functools.partial(indexes["int8"].search, queries, K),
            "binary": functools.partial(indexes["binary"].search, queries, K, RESCORE),
            "binary Hamming scan, byte table (before)": functools.partial(
                _lookup_table_hamming, queries, indexes["binary"].codes),
        }  # fmt: skip
        # Interleaved rounds, the fastest of each kind kept: load from other processes
        # then slows every kind alike. The old scan, many times slower, runs once.
        best: dict[str, float] = {}
        for round_ in range(ROUNDS):
            for name, search in searches.items():
                if round_ and name not in qs.EMBEDDING_DTYPES:
                    continue
                start = time.perf_counter()
                search()
                best[name] = min(best.get(name, np.inf), time.perf_counter() - start)
        rows += [{"dim": dim, "search": name, "seconds": seconds, "queries": num_queries,
                  "targets": num_targets} for name, seconds in best.items()]  # fmt: skip
    return rows


def speed_table(rows: list[dict] | None = None) -> list[str]:
    rows = search_speeds() if rows is None else rows
    lines = [
        "### Search speed side by side",
        "",
        f"The search alone (what `lealla align --embedding_dtype` runs per direction), "
        f"{rows[0]['queries']:,} queries against {rows[0]['targets']:,} targets of clustered unit "
        f"vectors, k={K}, binary re-scoring {RESCORE} candidates; one process, the kinds "
        f"interleaved over {ROUNDS} rounds, the fastest of each kept; 2 cores shared with "
        f"other work: read the ratios.",
        "",
        "| width | search | seconds | vs int8 |",
        "| ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        int8 = next(r for r in rows if r["dim"] == row["dim"] and r["search"] == "int8")
        lines.append(f"| {row['dim']} | {row['search']} | {row['seconds']:.2f} | "
                     f"{row['seconds'] / int8['seconds']:.2f}x |")  # fmt: skip
    return lines


if __name__ == "__main__":
    print(run())
