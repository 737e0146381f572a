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
no float re-scoring, the floats being gone).
"""

from __future__ import annotations

import time

import numpy as np

from lealla import embedding_codec
from lealla.mining import exact_search, mine
from lealla.mining import quantized_search as qs

NUM_TARGETS, K, RESCORE = 200_000, 4, 100


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
    lines = [
        "## Quantized embeddings in mining: int8 and binary vs float32",
        "",
        f"Command: `python -m benchmarks.run_all --only=quantized_search`. {len(src):,} "
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
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
