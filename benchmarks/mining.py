"""ScaNN vs exact search on 1M x 128-d unit vectors with the structure of real embeddings.

Data: 20k English sentences of real news (../shared/data/news-parallel/de-en.tsv,
deduplicated) embedded with the offline USE-multilingual teacher and reduced to 128
dims by PCA; the other 980k base points are noisy mixtures of them (mostly one
sentence, up to 30% of another, plus noise in the data's own spectrum), so
neighbourhoods are dense and uneven as in a mining pool. Two query sets: the real
German translations of 3,000 base sentences (cross-lingual, as in mining), and noisy
copies of 3,000 base points. Where ../shared/data is absent, synthetic clustered
vectors replace the sentences (said in the output).

Recall@1: ScaNN's top hit is a true nearest neighbour (its exact inner product equals
the best one, so exact ties count).
"""

from __future__ import annotations

import os
import time

import numpy as np

from benchmarks import common
from lealla.embeddings import exact_search
from lealla.mining.scann_search import ScannConfig, ScannIndex

NEWS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
    "news-parallel", "de-en.tsv",
)  # fmt: skip
NUM_SENTENCES = 20_000
NUM_BASE = 1_000_000
NUM_QUERIES = 3_000
DIM = 128
MIX_MAX = 0.3  # share of a second sentence in a synthetic base point
BASE_NOISE = 0.6  # per-dimension noise, in units of that PCA dimension's std
COPY_NOISE = 0.5  # noise of the "noisy copy" queries, relative to the data's norm
EXACT_TIMING_QUERIES = 500
LEAVES_TO_SEARCH = (20, 40, 80)  # the default config searches 40 of 2,000 leaves
TIE_TOLERANCE = 1e-6
SEED = 0


def run() -> str:
    rng = np.random.default_rng(SEED)
    sentences, translations, source = _sentence_vectors(rng)
    base = _pool(sentences, rng)
    query_sets = {}
    if translations is not None:
        query_sets["German translations of base sentences (real)"] = translations
    query_sets["noisy copies of base points"] = _noisy_copies(base, sentences.std(0), rng)

    start = time.perf_counter()
    index = ScannIndex(base, ScannConfig())
    t_build = time.perf_counter() - start
    cfg = index.config
    lines = [
        "## Mining: ScaNN vs exact nearest-neighbour search",
        "",
        "Command: `python -m benchmarks.run_all --only=mining`. "
        f"{NUM_BASE:,} x {DIM}-d unit vectors, {NUM_QUERIES:,} queries per set, top-1 by "
        f"inner product; both searches on {os.cpu_count()} cores, same run.",
        "",
        f"Data: {source}; PCA to {DIM} dims; the other base points are mixtures of 2 "
        f"sentences (second share <= {MIX_MAX}) + noise. Recall@1 = ScaNN's hit is a true "
        "nearest neighbour (exact ties count). Exact = chunked float32 matmul "
        f"(`lealla.embeddings.exact_search`), timed as the faster of a full pass and the best "
        f"of 3 passes over {EXACT_TIMING_QUERIES} queries.",
        "",
        f"ScaNN (`ScannConfig()` defaults for 1M points: tree {cfg.num_leaves:,} leaves, "
        f"asymmetric hashing {cfg.dimensions_per_block} dims/block, anisotropic threshold "
        f"{cfg.anisotropic_threshold}, exact float32 reordering of {cfg.reorder} candidates; "
        f"trained on {cfg.training_sample_size:,} points) built in {t_build:.0f} s.",
        "",
    ]
    for name, queries in query_sets.items():
        lines += _compare(name, queries, base, index)
    lines += ["Target: recall@1 >= 0.98 at >= 20x the speed of exact search.", ""]
    return "\n".join(lines)


def _compare(name: str, queries: np.ndarray, base: np.ndarray, index: ScannIndex) -> list[str]:
    start = time.perf_counter()
    exact_s, _ = exact_search.exact_knn(queries, base, 2)
    t_full = time.perf_counter() - start
    subset = queries[:EXACT_TIMING_QUERIES]
    t_subset = common.best_seconds(lambda: exact_search.exact_knn(subset, base, 1), 3, 0)
    t_exact = min(t_full, t_subset * len(queries) / EXACT_TIMING_QUERIES)
    lines = [
        f"Queries: {name}; exact nearest / second cosine {exact_s[:, 0].mean():.2f} / "
        f"{exact_s[:, 1].mean():.2f}; exact {len(queries) / t_exact:,.0f} queries/s.",
        "",
        "| leaves searched | recall@1 | queries/s | speed vs exact |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for leaves in LEAVES_TO_SEARCH:
        found = {}

        def search(leaves=leaves, found=found):
            found["i"] = index.search(queries, 1, leaves_to_search=leaves)[1][:, 0]

        t = common.best_seconds(search, repeats=3)
        true_sim = np.einsum("nd,nd->n", queries, base[found["i"]])
        recall = float(np.mean(true_sim >= exact_s[:, 0] - TIE_TOLERANCE))
        mark = " (default)" if leaves == index.config.leaves_to_search else ""
        lines.append(
            f"| {leaves}{mark} | {recall:.4f} | {len(queries) / t:,.0f} | {t_exact / t:.0f}x |"
        )
    return [*lines, ""]


def _sentence_vectors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None, str]:
    """PCA-reduced English sentence vectors, German translations of the first
    NUM_QUERIES of them (or None), and a description of the source."""
    if not os.path.isfile(NEWS):
        scale = np.arange(1, DIM + 1) ** -0.5
        centers = rng.standard_normal((200, DIM)) * scale
        points = centers[rng.integers(0, 200, NUM_SENTENCES)]
        points += 0.5 * rng.standard_normal(points.shape) * scale
        return (
            points.astype(np.float32),
            None,
            (
                "SYNTHETIC clustered vectors (../shared/data not found: 200 clusters, "
                "decaying spectrum); no translation queries"
            ),
        )
    pairs = _unique_pairs(NEWS, NUM_SENTENCES)
    from lealla.api import encoders

    encoder = encoders.load_encoder("use-multilingual")
    en = encoder.encode([p[1] for p in pairs], 256, progress="embedding English")
    de = encoder.encode([p[0] for p in pairs[:NUM_QUERIES]], 256, progress="embedding German")
    both = np.concatenate([en, de])
    mean = both.mean(0)
    _, _, vt = np.linalg.svd(both - mean, full_matrices=False)
    project = vt[:DIM].T
    translations = (de - mean) @ project
    translations /= np.linalg.norm(translations, axis=1, keepdims=True)
    source = (
        f"{len(pairs):,} distinct English news sentences (../shared/data/news-parallel) "
        f"embedded with USE-multilingual ({en.shape[1]}-d) as the first base points"
    )
    return ((en - mean) @ project).astype(np.float32), translations.astype(np.float32), source


def _unique_pairs(path: str, limit: int) -> list[tuple[str, str]]:
    pairs, seen_de, seen_en = [], set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not all(x.strip() for x in fields):
                continue
            de, en = (x.strip() for x in fields)
            if de in seen_de or en in seen_en:
                continue
            seen_de.add(de)
            seen_en.add(en)
            pairs.append((de, en))
            if len(pairs) == limit:
                break
    return pairs


def _pool(sentences: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """NUM_BASE unit rows: the sentences themselves, then synthetic mixtures of them."""
    n_syn = NUM_BASE - len(sentences)
    std = sentences.std(0)
    main = rng.integers(0, len(sentences), n_syn)
    other = rng.integers(0, len(sentences), n_syn)
    share = rng.uniform(0, MIX_MAX, (n_syn, 1)).astype(np.float32)
    synthetic = (1 - share) * sentences[main] + share * sentences[other]
    synthetic += BASE_NOISE * rng.standard_normal((n_syn, DIM), dtype=np.float32) * std
    base = np.concatenate([sentences, synthetic])
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    return base


def _noisy_copies(base: np.ndarray, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picked = rng.choice(len(base), NUM_QUERIES, replace=False)
    noise = rng.standard_normal((NUM_QUERIES, DIM), dtype=np.float32) * std / np.linalg.norm(std)
    queries = base[picked] + COPY_NOISE * noise
    return (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
