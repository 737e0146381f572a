"""Writing a teacher-embedding cache: run the teacher once per corpus (`build_cache`).

The folder's layout is in the package docstring.

The corpus is planned as shards of lines (`lealla.shards.line_shards`), each embedded on its
own by this process or by a Beam pipeline's workers (`lealla.shards.shard_runner`): a shard
file is written under a temp name and renamed, then its record (NNN-SSSSS.json: size,
sha256, counts) is published; the manifest, written first with the identity alone, gets
all records and `complete` at the end. A killed run resumes with the shards it lacks;
every runner writes the same files (`lealla.shards.output` owns the manifest, records
and resume). A cache whose identity differs from the request is refused, naming what
differs (`identity`). Caches compose: a run reads several as one corpus (`reader`), so
text added to a corpus needs a cache of its own, not the corpus embedded again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

import lealla.models.teachers.embedding_cache.identity as identity_lib
import lealla.models.teachers.embedding_cache.reader as reader
from lealla.data import corpus
from lealla.embeddings import length_batches
from lealla.files import atomic, fileio, output_dirs, textio
from lealla.models.teachers import augmentation
from lealla.models.teachers import teacher as teacher_lib
from lealla.models.teachers.embedding_cache.identity import CacheConfig
from lealla.shards import contract, line_shards, output, shard_runner
from lealla.ui import console

DEFAULT_CONFIG = CacheConfig()  # frozen: one shared default is safe
CACHE = output.OutputKind(
    "cache", reader.read_manifest, identity_lib.mismatch, verify=True
)  # fmt: skip


def build_cache(
    teacher: teacher_lib.Teacher,
    sources: Sequence[corpus.CorpusSource],
    out_dir: str,
    config: CacheConfig = DEFAULT_CONFIG,
    *,
    overwrite: bool = False,
    runner: contract.RunnerConfig = contract.IN_THIS_PROCESS,
    load_teacher: Callable[[], teacher_lib.Teacher] | None = None,
) -> dict:
    """Embeds every example of `sources` with `teacher` into `out_dir` (resumable).

    The corpus is planned as shards of `config.shard_size` lines (`line_shards`); each
    shard is validated, embedded and published on its own, by this process or by the
    workers of a Beam pipeline (`runner`); the manifest is written last. Every runner
    writes the same files.

    Args:
      teacher: the teacher (its identity is checked against an existing cache; the
        in-process runner also embeds with it).
      sources: the corpus.
      out_dir: the cache folder.
      config: shard size, batch size, dtype, bad-line policy, augmentation.
      overwrite: replace a cache of another identity.
      runner: where shards are embedded (`contract.RunnerConfig`).
      load_teacher: for Beam runners, a picklable function loading the same teacher
        (called once per worker process).

    Returns:
      The final manifest.

    Raises:
      CacheMismatchError: `out_dir` holds a cache of another identity (and not
        `overwrite`).
      CorpusError: a bad corpus line (with on_bad_line="error"), naming file and line;
        shards published before it are kept for a rerun, and a folder this call
        created is removed if nothing was published in it.
    """
    if runner.runner != contract.INPROCESS and load_teacher is None:
        raise ValueError(f"the {runner.runner} runner needs load_teacher (a picklable loader)")
    output_dirs.check_target(
        out_dir, "--out", [("--corpus", p) for s in sources for p in s.paths]
    )  # fmt: skip
    with output_dirs.locked(out_dir):
        if overwrite:
            output_dirs.check_replaceable(out_dir, output_dirs.CACHE)
        else:
            output_dirs.check_fillable(out_dir, output_dirs.CACHE)
        return _build_locked(teacher, sources, out_dir, config, overwrite, runner, load_teacher)


def _build_locked(teacher, sources, out_dir, config, overwrite, runner, load_teacher) -> dict:
    identity = identity_lib.cache_identity(teacher, sources, config)
    created = not fileio.exists(out_dir)
    manifest = output.open_output(out_dir, identity, CACHE, overwrite=overwrite)
    if manifest.get("complete"):
        return manifest
    job = _CacheShards(
        load_teacher=load_teacher or (lambda: teacher), sources=tuple(sources),
        out_dir=out_dir, config=config,
    )  # fmt: skip
    shards: list[line_shards.LineShard] = []
    with output.removed_if_nothing_published(
        out_dir, created, lambda: any(job.is_done(s) for s in shards)
    ):
        shards = line_shards.plan([s.paths for s in sources], config.shard_size)
        console.stage(f"caching {len(shards)} shard(s) of {len(sources)} source(s) with "
                      f"{teacher.describe()} into {out_dir}")  # fmt: skip
        shard_runner.run(job, shards, runner, label="caching teacher embeddings")
    manifest = output.completed(manifest, [job.record(s) for s in shards], "num_examples")
    output.finish(out_dir, manifest, shards)
    skipped = manifest["skipped_lines"]
    if skipped:
        logging.warning("skipped %d bad line(s): %s", sum(skipped.values()),
                        ", ".join(f"{k} {v}" for k, v in skipped.items()))  # fmt: skip
    return manifest


@dataclasses.dataclass(frozen=True)
class _CacheShards(output.RecordedShards):
    """The cache as a sharded job: shard NNN-SSSSS -> NNN-SSSSS.tfrecord + a record of it
    (NNN-SSSSS.json: size, sha256, counts per group, skipped lines) until the manifest
    takes the records over."""

    load_teacher: Callable[[], teacher_lib.Teacher]
    sources: tuple[corpus.CorpusSource, ...]
    out_dir: str
    config: CacheConfig

    def setup(self):
        return tf.function(self.load_teacher().embed, reduce_retracing=True)

    def process(self, embed, shard: line_shards.LineShard) -> None:
        report = textio.BadLineReport()
        examples = corpus.read_shard(
            self.sources[shard.source], shard, on_bad_line=self.config.on_bad_line, report=report
        )
        name = f"{shard.name}.tfrecord"
        seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        rows = [*examples, *augmentation.augment(examples, self.config.augment, seed)]
        with atomic.built_aside(fileio.join(self.out_dir, name)) as tmp:
            groups = _write_shard(tmp, rows, embed, self.config)
            size, sha256 = fileio.sha256(tmp)
        self.write_record(shard, {
            "file": name, "source": shard.source, "count": len(rows), "groups": groups,
            "bytes": size, "sha256": sha256, "skipped": dict(report.counts),
        })  # fmt: skip


def _write_shard(path: str, examples: list[corpus.Example], embed, config: CacheConfig) -> dict:
    """Embeds and writes `examples` (the shard's corpus examples first, then their
    augmented variants); returns the count per language group."""
    groups: dict[str, int] = {}
    np_dtype = np.dtype(config.dtype)
    src_emb = embed_all(embed, [e.src for e in examples], config.batch_size)
    parallel = [i for i, e in enumerate(examples) if e.tgt_lang]
    tgt_emb = embed_all(embed, [examples[i].tgt for i in parallel], config.batch_size)
    tgt_rows = dict(zip(parallel, tgt_emb, strict=True))
    with tf.io.TFRecordWriter(path) as writer:
        for i, ex in enumerate(examples):
            key = corpus.group_key(ex.src_lang, ex.tgt_lang)
            groups[key] = groups.get(key, 0) + 1
            tgt = tgt_rows[i].astype(np_dtype).tobytes() if i in tgt_rows else b""
            writer.write(_example_proto(ex, src_emb[i].astype(np_dtype).tobytes(), tgt))
    return groups


def embed_all(embed, texts: list[str], batch_size: int) -> np.ndarray:
    """`embed` (tf.string [n] -> [n, d]) over `texts` in length-sorted batches, in order."""
    return length_batches.embed_in_length_order(
        lambda batch: embed(tf.constant(batch)).numpy(), texts, batch_size
    )


def _example_proto(ex: corpus.Example, src_emb: bytes, tgt_emb: bytes) -> bytes:
    def feature(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    features = {
        "src": feature(ex.src.encode()),
        "tgt": feature(ex.tgt.encode()),
        "src_lang": feature(ex.src_lang.encode()),
        "tgt_lang": feature(ex.tgt_lang.encode()),
        "src_emb": feature(src_emb),
        "tgt_emb": feature(tgt_emb),
    }
    example = tf.train.Example(features=tf.train.Features(feature=features))
    return example.SerializeToString(deterministic=True)  # same bytes in every process
