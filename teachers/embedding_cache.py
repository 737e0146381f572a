"""The teacher-embedding cache: run the teacher once per corpus, read it every epoch.

Layout of a cache folder:
  manifest.json           identity (teacher, dims, tokenizer, corpus fingerprint,
                          dtype, shard size) + the list of finished shards, each
                          with its size and sha256 (checked on resume: a damaged
                          shard is rebuilt), + the skipped-line report
  SSS-NNNNN.tfrecord      shard NNNNN of source SSS: tf.train.Examples with
                          src, tgt, src_lang, tgt_lang (bytes) and src_emb, tgt_emb
                          (raw float16/float32 bytes; tgt_emb empty for monolingual)

The corpus is planned as shards of lines (`lealla.shards.line_shards`), each embedded on its
own by this process or by a Beam pipeline's workers (`lealla.shards.shard_runner`): a shard
file is written under a temp name and renamed, then its record (NNN-SSSSS.json: size,
sha256, counts) is published; the manifest, written first with the identity alone, gets
all records and `complete` at the end. A killed run resumes with the shards it lacks;
every runner writes the same files. A cache whose identity differs from the request is
refused, naming what differs. Caches compose: a run reads several as one corpus
(`cached_dataset`, `check_corpus`), so text added to a corpus needs a cache of its own,
not the corpus embedded again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf
from absl import logging
from lealla.models.teachers import augmentation
from lealla.models.teachers import teacher as teacher_lib

from lealla.config import json_config
from lealla.data import corpus, pipeline, textio
from lealla.embeddings import embedding_shards, length_batches
from lealla.files import atomic, fileio, json_shape, output_dirs
from lealla.shards import line_shards, shard_runner
from lealla.ui import console

MANIFEST = "manifest.json"
# What the readers use (lealla.files.json_shape): a damaged manifest is named, not a TypeError.
MANIFEST_SHAPE = {
    "identity": {
        "teacher": str, "embedding_dim": int, "dtype": str,
        "corpus": [{"kind": str, "files": [{"name": str, "bytes": int, "sha256": str}]}],
    },
    # "source": absent in caches from before per-source records (refused where it matters).
    "shards": [{"file": str, "source?": int, "count": int, "groups": dict, "bytes": int}],
    "complete?": bool,
}  # fmt: skip
_SHARD_GLOB = "[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]"  # line_shards.LineShard.name
DTYPES = embedding_shards.DTYPES
_graph_only = tf.autograph.experimental.do_not_convert


class CacheMismatchError(ValueError):
    """An existing cache was built for another teacher, corpus or setting."""


# Identity fields caches read together must share: what their embeddings are (the
# teacher's function, width, precision) and which features their examples have.
SHARED_IDENTITY = (
    "teacher", "teacher_format", "embedding_dim", "tokenizer", "teacher_seq_length", "dtype",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CacheConfig(json_config.ConfigMixin):
    """How a cache is built.

    Attributes:
      shard_size: corpus lines per shard (the unit of work and of resumption).
      batch_size: sentences per teacher call.
      dtype: "float16" halves the size; "float32" keeps the teacher's exact output.
      on_bad_line: "error" or "skip", as for the corpus readers.
      augment: kinds of variants (see `lealla.models.teachers.augmentation.KINDS`) to add to each
        shard, embedded by the teacher here so training stays teacher-free: as
        monolingual examples, one per example, word spans, short prefixes, case and
        punctuation variants.
    """

    shard_size: int = 10_000
    batch_size: int = 256
    dtype: str = "float16"
    on_bad_line: str = "error"
    augment: tuple[str, ...] = ()

    def __post_init__(self):
        embedding_shards.check_settings(
            self.shard_size, self.batch_size, self.dtype, self.on_bad_line
        )
        unknown = sorted(set(self.augment) - set(augmentation.KINDS))
        if unknown:
            raise ValueError(
                f"unknown augmentation(s) {unknown}; expected some of {list(augmentation.KINDS)}"
            )


def build_cache(
    teacher: teacher_lib.Teacher,
    sources: Sequence[corpus.CorpusSource],
    out_dir: str,
    config: CacheConfig = CacheConfig(),
    *,
    overwrite: bool = False,
    runner: shard_runner.RunnerConfig = shard_runner.IN_THIS_PROCESS,
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
      runner: where shards are embedded (`shard_runner.RunnerConfig`).
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
    if runner.runner != shard_runner.INPROCESS and load_teacher is None:
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
    identity = cache_identity(teacher, sources, config)
    created = not fileio.exists(out_dir)
    manifest = _open_manifest(out_dir, identity, overwrite)
    if manifest.get("complete"):
        return manifest
    job = _CacheShards(
        load_teacher=load_teacher or (lambda: teacher), sources=tuple(sources),
        out_dir=out_dir, config=config,
    )  # fmt: skip
    shards: list[line_shards.LineShard] = []
    try:
        shards = line_shards.plan([s.paths for s in sources], config.shard_size)
        console.stage(f"caching {len(shards)} shard(s) of {len(sources)} source(s) with "
                      f"{teacher.describe()} into {out_dir}")  # fmt: skip
        shard_runner.run(job, shards, runner, label="caching teacher embeddings")
    except textio.CorpusError:
        if created and not any(job.is_done(s) for s in shards):
            fileio.remove_folder(out_dir)
        raise
    manifest["shards"] = [job.record(s) for s in shards]
    manifest["complete"] = True
    manifest["num_examples"] = sum(s["count"] for s in manifest["shards"])
    skipped: dict[str, int] = {}
    for shard in manifest["shards"]:
        for kind, n in shard.pop("skipped", {}).items():
            skipped[kind] = skipped.get(kind, 0) + n
    manifest["skipped_lines"] = skipped
    _write_manifest(out_dir, manifest)
    for shard in shards:  # the manifest holds their records now
        fileio.remove(job.record_path(shard))
    if skipped:
        logging.warning("skipped %d bad line(s): %s", sum(skipped.values()),
                        ", ".join(f"{k} {v}" for k, v in skipped.items()))  # fmt: skip
    return manifest


@dataclasses.dataclass(frozen=True)
class _CacheShards:
    """The cache as a sharded job: shard NNN-SSSSS -> NNN-SSSSS.tfrecord + a record of it
    (NNN-SSSSS.json: size, sha256, counts per group, skipped lines) until the manifest
    takes the records over."""

    load_teacher: Callable[[], teacher_lib.Teacher]
    sources: tuple[corpus.CorpusSource, ...]
    out_dir: str
    config: CacheConfig

    def setup(self):
        return tf.function(self.load_teacher().embed, reduce_retracing=True)

    def shard_path(self, shard: line_shards.LineShard) -> str:
        return fileio.join(self.out_dir, f"{shard.name}.tfrecord")

    def record_path(self, shard: line_shards.LineShard) -> str:
        return _record_path(self.out_dir, f"{shard.name}.tfrecord")

    def is_done(self, shard: line_shards.LineShard) -> bool:
        return fileio.exists(self.record_path(shard))

    def record(self, shard: line_shards.LineShard) -> dict:
        return json.loads(fileio.read_bytes(self.record_path(shard)))

    def process(self, embed, shard: line_shards.LineShard) -> None:
        report = textio.BadLineReport()
        examples = corpus.read_shard(
            self.sources[shard.source], shard, on_bad_line=self.config.on_bad_line, report=report
        )
        name = f"{shard.name}.tfrecord"
        seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        rows = [*examples, *augmentation.augment(examples, self.config.augment, seed)]
        path = self.shard_path(shard)
        tmp = fileio.local_temp_for(path)
        groups = _write_shard(tmp, rows, embed, self.config)
        size, sha256 = fileio.sha256(tmp)
        record = {"file": name, "source": shard.source, "count": len(rows), "groups": groups,
                  "bytes": size, "sha256": sha256, "skipped": dict(report.counts)}  # fmt: skip
        fileio.publish(tmp, path)
        fileio.write_json(self.record_path(shard), record)


def cache_identity(
    teacher: teacher_lib.Teacher, sources: Sequence[corpus.CorpusSource], config: CacheConfig
) -> dict:
    """What a cache must match to be reused: teacher, tokenizer, corpus, settings."""
    tok = teacher.tokenizer
    return {
        "teacher": teacher.handle,
        "teacher_format": teacher.format,
        "embedding_dim": teacher.embedding_dim,
        "tokenizer": None if tok is None else {
            "kind": tok.kind,
            "vocab_size": tok.vocab_size,
            "sha256": hashlib.sha256("\n".join(tok.vocabulary()).encode()).hexdigest(),
        },
        **_embedding_settings(teacher),
        "corpus": [_source_fingerprint(s) for s in sources],
        "dtype": config.dtype,
        "shard_size": config.shard_size,
        "shards_by": "lines",
        "on_bad_line": config.on_bad_line,
        **({"augment": sorted(config.augment)} if config.augment else {}),
    }  # fmt: skip


def _embedding_settings(teacher: teacher_lib.Teacher) -> dict:
    """Teacher settings besides its handle that change its embeddings (packed length of
    LaBSE-format teachers); absent for teachers without any."""
    seq_length = getattr(teacher, "seq_length", None)
    return {"teacher_seq_length": int(seq_length)} if seq_length is not None else {}


def read_manifest(cache_dir: str) -> dict:
    path = fileio.join(cache_dir, MANIFEST)
    if not fileio.exists(path):
        raise FileNotFoundError(f"no teacher-embedding cache at {cache_dir} (no {MANIFEST})")
    advice = "; the cache is damaged: rebuild it with `lealla cache ... --overwrite`"
    if fileio.is_remote(path):
        try:
            manifest = json.loads(fileio.read_bytes(path))
        except ValueError as e:
            raise ValueError(f"{path}: not valid JSON ({e}){advice}") from None
    else:
        manifest = json_shape.read_json_object(path, advice=advice)
    if "identity" not in manifest or "shards" not in manifest:
        raise ValueError(f"{path}: not a teacher-cache manifest (no identity or shards)")
    json_shape.check(path, manifest, MANIFEST_SHAPE, advice)
    return manifest


def cache_list(cache_dirs: str | Sequence[str]) -> list[str]:
    """One cache folder or several read together -> a list of folders."""
    return [cache_dirs] if isinstance(cache_dirs, str) else list(cache_dirs)


def read_cache_set(cache_dirs: str | Sequence[str]) -> list[dict]:
    """The manifests of caches read together (a run's --teacher_cache), in order.

    Caches compose: text added to a corpus needs a cache of just that text, not the
    corpus embedded again. They must hold the same teacher's embeddings, stored alike.

    Raises:
      FileNotFoundError / ValueError: a folder is no cache (see `read_manifest`).
      CacheMismatchError: two caches differ in a `SHARED_IDENTITY` field (named).
    """
    dirs = cache_list(cache_dirs)
    if not dirs:
        raise ValueError("no teacher cache given")
    manifests = [read_manifest(d) for d in dirs]
    first = manifests[0]["identity"]
    for cache_dir, manifest in zip(dirs[1:], manifests[1:], strict=True):
        identity = manifest["identity"]
        for key in SHARED_IDENTITY:
            if identity.get(key) != first.get(key):
                raise CacheMismatchError(
                    f"the caches at {dirs[0]} and {cache_dir} cannot be read together: "
                    f"{key} {first.get(key)!r} vs {identity.get(key)!r}; build {cache_dir} "
                    f"with the same teacher and --dtype as {dirs[0]}"
                )
    return manifests


def check_corpus(cache_dirs: str | Sequence[str], sources: Sequence[corpus.CorpusSource]) -> None:
    """Refuses caches built from another corpus than `sources` (e.g. a run's --train_data).

    Several caches together must hold exactly the given sources, each once.

    Raises:
      CacheMismatchError: naming the caches' files and the given ones.
    """
    dirs = cache_list(cache_dirs)
    cached = [fp for m in read_cache_set(dirs) for fp in m["identity"]["corpus"]]
    given = [_source_fingerprint(s) for s in sources]

    def key(fingerprints):
        return sorted(_fingerprint_key(f) for f in fingerprints)

    if key(cached) != key(given):
        where = f"the cache at {dirs[0]}" if len(dirs) == 1 else f"the caches at {', '.join(dirs)}"
        raise CacheMismatchError(
            f"{where} {'was' if len(dirs) == 1 else 'were'} built from {_file_names(cached)}, "
            f"but the training data is {_file_names(given)} (names, sizes or contents "
            f"differ); build a cache of the training data with `lealla cache` (a cache of "
            f"only the files you added, given beside the others, will do), or pass the "
            f"caches' corpus as --train_data"
        )


def check_shards(cache_dir: str, manifest: dict, *, checksums: bool) -> list[str]:
    """Names of the manifest's shards that are missing, truncated or (with checksums) altered."""

    def intact(shard: dict) -> bool:
        path = fileio.join(cache_dir, shard["file"])
        if not fileio.exists(path):
            return False
        if fileio.size(path) != shard["bytes"]:
            return False
        return not checksums or fileio.sha256(path)[1] == shard.get("sha256")

    return [s["file"] for s in manifest["shards"] if not intact(s)]


def cached_dataset(
    cache_dirs: str | Sequence[str],
    config: pipeline.InputConfig,
    *,
    expected_teacher: str | None = None,
    sources: Sequence[corpus.CorpusSource] = (),
) -> tf.data.Dataset:
    """Examples with their teacher embeddings, mixed by language like the corpus pipeline.

    Args:
      cache_dirs: one cache folder, or several read as one corpus (`read_cache_set`).
      sources: the training corpus (`--train_data`, already checked against the caches
        by `check_corpus`); the shards of its sources given a share form that share's
        group (with their augmented variants), as in `pipeline.make_example_dataset`.

    Returns:
      Dicts {"src", "tgt", "src_lang", "tgt_lang"} (tf.string) and "src_emb",
      "tgt_emb" (float32 [d]; zeros for monolingual examples).

    Raises:
      ValueError: a cache is unfinished, built with another teacher, or damaged.
    """
    dirs = cache_list(cache_dirs)
    manifests = read_cache_set(dirs)
    shared = {_fingerprint_key(_source_fingerprint(s)): corpus.share_group_key(s)
              for s in sources if s.share is not None}  # fmt: skip
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    for cache_dir, manifest in zip(dirs, manifests, strict=True):
        _check_readable(cache_dir, manifest, expected_teacher)
        corpus_fingerprints = manifest["identity"]["corpus"]
        for shard in manifest["shards"]:
            key = (
                shared.get(_fingerprint_key(corpus_fingerprints[shard["source"]]))
                if shared
                else None
            )
            path = os.path.join(cache_dir, shard["file"])
            for group, n in shard["groups"].items():
                counts[key or group] = counts.get(key or group, 0) + n
            for group in [key] if key else shard["groups"]:
                files.setdefault(group, []).append(path)
    identity = manifests[0]["identity"]
    dim, dtype = identity["embedding_dim"], tf.as_dtype(identity["dtype"])

    def group_dataset(group: str, paths: list[str]) -> tf.data.Dataset:
        ds = tf.data.TFRecordDataset(paths).map(
            _graph_only(lambda record: _parse(record, dim, dtype))
        )
        if group in shared.values():  # every example of these shards
            return ds
        return ds.filter(_graph_only(lambda ex: tf.equal(pipeline.group_of(ex), group)))

    datasets = {group: group_dataset(group, paths) for group, paths in files.items()}
    return pipeline.mix_groups(datasets, counts, config, shares=corpus.source_shares(sources))


def _check_readable(cache_dir: str, manifest: dict, expected_teacher: str | None) -> None:
    """Refuses an unfinished or damaged cache, or one of another teacher (named)."""
    identity = manifest["identity"]
    if not manifest.get("complete"):
        raise ValueError(
            f"the cache at {cache_dir} is unfinished ({len(manifest['shards'])} shard(s)); "
            f"run `lealla cache` again with the same flags to finish it"
        )
    if expected_teacher is not None and identity["teacher"] != expected_teacher:
        raise CacheMismatchError(
            f"the cache at {cache_dir} holds embeddings of {identity['teacher']!r}, "
            f"not of {expected_teacher!r}"
        )
    damaged = check_shards(cache_dir, manifest, checksums=False)
    if damaged:
        raise CacheMismatchError(
            f"the cache at {cache_dir} is damaged: shard(s) {', '.join(damaged)} missing or "
            f"truncated; run `lealla cache` again with the same flags to rebuild them"
        )


def iter_cache(cache_dir: str) -> Iterator[dict]:
    """Every cached example once, in shard order, as Python values (str, float32 arrays)."""
    manifest = read_manifest(cache_dir)
    identity = manifest["identity"]
    dim, dtype = identity["embedding_dim"], tf.as_dtype(identity["dtype"])
    paths = [os.path.join(cache_dir, s["file"]) for s in manifest["shards"]]
    dataset = tf.data.TFRecordDataset(paths).map(_graph_only(lambda r: _parse(r, dim, dtype)))
    for ex in dataset.as_numpy_iterator():
        yield {
            **{k: ex[k].decode() for k in ("src", "tgt", "src_lang", "tgt_lang")},
            **{k: v for k, v in ex.items() if k.endswith("_emb")},
        }


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


_FEATURES = {
    k: tf.io.FixedLenFeature([], tf.string)
    for k in ("src", "tgt", "src_lang", "tgt_lang", "src_emb", "tgt_emb")
}


def _parse(record: tf.Tensor, dim: int, dtype: tf.DType) -> dict:
    ex = tf.io.parse_single_example(record, _FEATURES)
    out = {k: ex[k] for k in ("src", "tgt", "src_lang", "tgt_lang")}
    out["src_emb"] = tf.reshape(tf.cast(tf.io.decode_raw(ex["src_emb"], dtype), tf.float32), [dim])
    tgt = tf.cast(tf.io.decode_raw(ex["tgt_emb"], dtype), tf.float32)
    out["tgt_emb"] = tf.reshape(
        tf.cond(tf.size(tgt) > 0, lambda: tgt, lambda: tf.zeros([dim], tf.float32)), [dim]
    )
    return out


def _file_names(fingerprints: list[dict]) -> str:
    names = [f["name"] for fp in fingerprints for f in fp["files"]]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"[{shown}]"


def _fingerprint_key(fingerprint: dict) -> str:
    return json.dumps(fingerprint, sort_keys=True)


def _source_fingerprint(source: corpus.CorpusSource) -> dict:
    files = []
    for path in source.paths:
        size, sha256 = fileio.sha256(path)
        files.append({"name": os.path.basename(path), "bytes": size, "sha256": sha256})
    return {"kind": source.kind, "src_lang": source.src_lang, "tgt_lang": source.tgt_lang,
            "files": files}  # fmt: skip


def _open_manifest(out_dir: str, identity: dict, overwrite: bool) -> dict:
    """The manifest to continue from: checks an existing cache's identity and shards
    (damaged ones are dropped to be rebuilt) or starts an empty one; removes debris."""
    path = fileio.join(out_dir, MANIFEST)
    if fileio.exists(path) and not overwrite:
        manifest = read_manifest(out_dir)
        old = manifest["identity"]
        if old != identity:
            raise CacheMismatchError(
                f"the cache at {out_dir} was built differently: {_differences(old, identity)}; "
                f"use another --out or pass --overwrite"
            )
        listed = manifest["shards"] if manifest.get("complete") else _shard_records(out_dir)
        damaged = set(check_shards(out_dir, {"shards": listed}, checksums=True))
        if not damaged and manifest.get("complete"):
            console.stage(f"cache at {out_dir} is complete; nothing to do")
            return manifest
        if damaged:
            logging.warning(
                "cache at %s: shard(s) %s missing, truncated or altered: rebuilding them",
                out_dir, ", ".join(sorted(damaged)),
            )  # fmt: skip
        kept = [r for r in listed if r["file"] not in damaged]
        if manifest.get("complete"):  # reopened to rebuild: its records become shard records
            for record in kept:
                fileio.write_json(_record_path(out_dir, record["file"]), record)
            manifest = {"identity": old, "shards": [], "complete": False}
            _write_manifest(out_dir, manifest)
        for name in damaged:  # without its record a shard is built again
            fileio.remove(_record_path(out_dir, name))
        output_dirs.remove_debris(out_dir)
        return manifest
    fileio.makedirs(out_dir)
    # Replacing: the folder holds nothing but ours (checked under the lock, locally).
    for path in fileio.glob_files(fileio.join(out_dir, f"{_SHARD_GLOB}.*")):
        fileio.remove(path)
    output_dirs.remove_debris(out_dir)
    manifest = {"identity": identity, "shards": [], "complete": False}
    _write_manifest(out_dir, manifest)
    return manifest


def _record_path(out_dir: str, shard_file: str) -> str:
    return fileio.join(out_dir, shard_file.removesuffix(".tfrecord") + ".json")


def _shard_records(out_dir: str) -> list[dict]:
    """Records of the shards published so far by an unfinished build."""
    records = []
    for path in fileio.glob_files(fileio.join(out_dir, "[0-9]*-[0-9]*.json")):
        try:
            records.append(json.loads(fileio.read_bytes(path)))
        except (ValueError, UnicodeDecodeError):  # cannot happen with atomic writes; be safe
            fileio.remove(path)
    return records


def _write_manifest(out_dir: str, manifest: dict) -> None:
    if fileio.is_remote(out_dir):
        fileio.write_json(fileio.join(out_dir, MANIFEST), manifest)
    else:
        atomic.atomic_write_text(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=1))


def _differences(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    parts = []
    for key in keys:
        if key == "corpus":
            parts.append("corpus: the files' names, sizes or contents changed")
        else:
            parts.append(f"{key}: cache has {old.get(key)!r}, asked {new.get(key)!r}")
    return "; ".join(parts)
