"""The teacher-embedding cache: run the teacher once per corpus, read it every epoch.

Layout of a cache folder:
  manifest.json           identity (teacher, dims, tokenizer, corpus fingerprint,
                          dtype, shard size) + the list of finished shards, each
                          with its size and sha256 (checked on resume: a damaged
                          shard is rebuilt), + the skipped-line report
  SSS-NNNNN.tfrecord      shard NNNNN of source SSS: tf.train.Examples with
                          src, tgt, src_lang, tgt_lang (bytes) and src_emb, tgt_emb
                          (raw float16/float32 bytes; tgt_emb empty for monolingual)

Shards are written to a temp file and renamed; the manifest is rewritten (atomically)
after each one, so a killed run resumes from its last finished shard. A cache
whose identity differs from the request is refused, naming what differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from lealla import configs, corpus, pipeline, textio
from lealla.progress import Progress
from teachers import augmentation
from teachers import teacher as teacher_lib

MANIFEST = "manifest.json"
DTYPES = ("float16", "float32")
_FINGERPRINT_BYTES = 1 << 20  # hash the first and last MiB of each file
_graph_only = tf.autograph.experimental.do_not_convert


class CacheMismatchError(ValueError):
    """An existing cache was built for another teacher, corpus or setting."""


@dataclasses.dataclass(frozen=True)
class CacheConfig(configs.ConfigMixin):
    """How a cache is built.

    Attributes:
      shard_size: examples per shard (the unit of resumption).
      batch_size: sentences per teacher call.
      dtype: "float16" halves the size; "float32" keeps the teacher's exact output.
      on_bad_line: "error" or "skip", as for the corpus readers.
      augment: kinds of variants (see `teachers.augmentation.KINDS`) to add to each
        shard as monolingual examples, one per example: word spans, short prefixes,
        case and punctuation variants, embedded by the teacher here so training stays
        teacher-free.
    """

    shard_size: int = 10_000
    batch_size: int = 256
    dtype: str = "float16"
    on_bad_line: str = "error"
    augment: tuple[str, ...] = ()

    def __post_init__(self):
        if self.shard_size < 1 or self.batch_size < 1:
            raise ValueError(
                f"shard_size and batch_size must be >= 1, got {self.shard_size}, {self.batch_size}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        textio.check_on_bad_line(self.on_bad_line)
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
) -> dict:
    """Embeds every example of `sources` with `teacher` into `out_dir` (resumable).

    Returns:
      The final manifest.

    Raises:
      CacheMismatchError: `out_dir` holds a cache of another identity (and not
        `overwrite`).
      CorpusError: a bad corpus line (with on_bad_line="error"), before anything
        is embedded.
    """
    index = pipeline.scan_corpus(sources, on_bad_line=config.on_bad_line)
    identity = cache_identity(teacher, sources, config)
    manifest = _open_manifest(out_dir, identity, overwrite)
    done = {s["file"] for s in manifest["shards"]}
    report = textio.BadLineReport()
    embed = tf.function(teacher.embed, reduce_retracing=True)
    logging.info(
        "caching %d examples from %d source(s) with %s into %s (%d shard(s) already done)",
        index.num_examples, len(sources), teacher.describe(), out_dir, len(done),
    )  # fmt: skip
    with Progress("caching teacher embeddings", total=index.num_examples, unit="examples") as bar:
        for source_id, source in enumerate(sources):
            for shard_id, examples in _shards(source, config, report):
                name = f"{source_id:03d}-{shard_id:05d}.tfrecord"
                if name not in done:
                    path = os.path.join(out_dir, name)
                    seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
                    rows = [*examples, *augmentation.augment(examples, config.augment, seed)]
                    groups = _write_shard(path, rows, embed, config)
                    manifest["shards"].append(
                        {
                            "file": name,
                            "source": source_id,
                            "count": len(rows),
                            "groups": groups,
                            **_file_digest(path),
                        }
                    )
                    _write_manifest(out_dir, manifest)
                bar.update(len(examples))
    manifest["shards"].sort(key=lambda s: s["file"])
    manifest["complete"] = True
    manifest["num_examples"] = sum(s["count"] for s in manifest["shards"])
    manifest["skipped_lines"] = dict(report.counts)
    _write_manifest(out_dir, manifest)
    if report.total:
        logging.warning("skipped bad lines: %s", report.summary())
    return manifest


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
        "on_bad_line": config.on_bad_line,
        **({"augment": sorted(config.augment)} if config.augment else {}),
    }  # fmt: skip


def _embedding_settings(teacher: teacher_lib.Teacher) -> dict:
    """Teacher settings besides its handle that change its embeddings (packed length of
    LaBSE-format teachers); absent for teachers without any, so older caches still match."""
    seq_length = getattr(teacher, "seq_length", None)
    return {"teacher_seq_length": int(seq_length)} if seq_length is not None else {}


def read_manifest(cache_dir: str) -> dict:
    path = os.path.join(cache_dir, MANIFEST)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no teacher-embedding cache at {cache_dir} (no {MANIFEST})")
    manifest = configs.read_json_object(
        path, advice="; the cache is damaged: rebuild it with `lealla cache ... --overwrite`"
    )
    if "identity" not in manifest or "shards" not in manifest:
        raise ValueError(f"{path}: not a teacher-cache manifest (no identity or shards)")
    return manifest


def check_corpus(cache_dir: str, sources: Sequence[corpus.CorpusSource]) -> None:
    """Refuses a cache built from another corpus than `sources` (e.g. a run's --train_data).

    Raises:
      CacheMismatchError: naming the cache's files and the given ones.
    """
    manifest = read_manifest(cache_dir)
    cached = manifest["identity"]["corpus"]
    given = [_source_fingerprint(s) for s in sources]

    def key(fingerprints):
        return sorted(json.dumps(f, sort_keys=True) for f in fingerprints)

    if key(cached) != key(given):
        raise CacheMismatchError(
            f"the cache at {cache_dir} was built from {_file_names(cached)}, but the training "
            f"data is {_file_names(given)} (names, sizes or contents differ); build a cache of "
            f"the training data with `lealla cache`, or pass the cache's corpus as --train_data"
        )


def check_shards(cache_dir: str, manifest: dict, *, checksums: bool) -> list[str]:
    """Names of the manifest's shards that are missing, truncated or (with checksums) altered."""

    def intact(shard: dict) -> bool:
        path = os.path.join(cache_dir, shard["file"])
        if not os.path.isfile(path):
            return False
        if "bytes" not in shard:  # a cache written before sizes were recorded
            return True
        if os.path.getsize(path) != shard["bytes"]:
            return False
        return not checksums or _file_digest(path)["sha256"] == shard.get("sha256")

    return [s["file"] for s in manifest["shards"] if not intact(s)]


def cached_dataset(
    cache_dir: str,
    config: pipeline.InputConfig,
    *,
    expected_teacher: str | None = None,
) -> tf.data.Dataset:
    """Examples with their teacher embeddings, mixed by language like the corpus pipeline.

    Returns:
      Dicts {"src", "tgt", "src_lang", "tgt_lang"} (tf.string) and "src_emb",
      "tgt_emb" (float32 [d]; zeros for monolingual examples).

    Raises:
      ValueError: the cache is unfinished, or built with another teacher.
    """
    manifest = read_manifest(cache_dir)
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
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    for shard in manifest["shards"]:
        for group, n in shard["groups"].items():
            counts[group] = counts.get(group, 0) + n
            files.setdefault(group, []).append(os.path.join(cache_dir, shard["file"]))
    dim, dtype = identity["embedding_dim"], tf.as_dtype(identity["dtype"])
    datasets = {
        group: tf.data.TFRecordDataset(paths)
        .map(_graph_only(lambda record: _parse(record, dim, dtype)))
        .filter(_graph_only(lambda ex, g=group: tf.equal(pipeline.group_of(ex), g)))
        for group, paths in files.items()
    }
    return pipeline.mix_groups(datasets, counts, config)


def iter_cache(cache_dir: str) -> Iterator[dict]:
    """Every cached example once, in shard order, as Python values (str, float32 arrays)."""
    manifest = read_manifest(cache_dir)
    dim, dtype = manifest["identity"]["embedding_dim"], tf.as_dtype(manifest["identity"]["dtype"])
    paths = [os.path.join(cache_dir, s["file"]) for s in manifest["shards"]]
    dataset = tf.data.TFRecordDataset(paths).map(_graph_only(lambda r: _parse(r, dim, dtype)))
    for ex in dataset.as_numpy_iterator():
        yield {
            **{k: ex[k].decode() for k in ("src", "tgt", "src_lang", "tgt_lang")},
            "src_emb": ex["src_emb"], "tgt_emb": ex["tgt_emb"],
        }  # fmt: skip


def _shards(
    source: corpus.CorpusSource, config: CacheConfig, report: textio.BadLineReport
) -> Iterator[tuple[int, list[corpus.Example]]]:
    shard: list[corpus.Example] = []
    shard_id = 0
    for example in corpus.read_examples([source], on_bad_line=config.on_bad_line, report=report):
        shard.append(example)
        if len(shard) == config.shard_size:
            yield shard_id, shard
            shard, shard_id = [], shard_id + 1
    if shard:
        yield shard_id, shard


def _write_shard(path: str, examples: list[corpus.Example], embed, config: CacheConfig) -> dict:
    groups: dict[str, int] = {}
    np_dtype = np.dtype(config.dtype)
    src_emb = _embed_all(embed, [e.src for e in examples], config.batch_size)
    parallel = [i for i, e in enumerate(examples) if e.tgt_lang]
    tgt_emb = _embed_all(embed, [examples[i].tgt for i in parallel], config.batch_size)
    tgt_rows = dict(zip(parallel, tgt_emb, strict=True))
    tmp = path + ".tmp"
    with tf.io.TFRecordWriter(tmp) as writer:
        for i, ex in enumerate(examples):
            key = corpus.group_key(ex.src_lang, ex.tgt_lang)
            groups[key] = groups.get(key, 0) + 1
            tgt = tgt_rows[i].astype(np_dtype).tobytes() if i in tgt_rows else b""
            writer.write(_example_proto(ex, src_emb[i].astype(np_dtype).tobytes(), tgt))
    os.replace(tmp, path)
    return groups


def _embed_all(embed, texts: list[str], batch_size: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), np.float32)
    parts = [
        embed(tf.constant(texts[i : i + batch_size])).numpy()
        for i in range(0, len(texts), batch_size)
    ]
    return np.concatenate(parts)


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
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


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


def _file_digest(path: str) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return {"bytes": os.path.getsize(path), "sha256": digest.hexdigest()}


def _file_names(fingerprints: list[dict]) -> str:
    names = [f["name"] for fp in fingerprints for f in fp["files"]]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"[{shown}]"


def _source_fingerprint(source: corpus.CorpusSource) -> dict:
    files = []
    for path in source.paths:
        size = os.path.getsize(path)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            digest.update(f.read(_FINGERPRINT_BYTES))
            if size > 2 * _FINGERPRINT_BYTES:
                f.seek(size - _FINGERPRINT_BYTES)
            digest.update(f.read())
        files.append({"name": os.path.basename(path), "bytes": size, "sha256": digest.hexdigest()})
    return {"kind": source.kind, "src_lang": source.src_lang, "tgt_lang": source.tgt_lang,
            "files": files}  # fmt: skip


def _open_manifest(out_dir: str, identity: dict, overwrite: bool) -> dict:
    path = os.path.join(out_dir, MANIFEST)
    if os.path.isfile(path) and not overwrite:
        manifest = read_manifest(out_dir)
        if manifest["identity"] != identity:
            raise CacheMismatchError(
                f"the cache at {out_dir} was built differently: "
                f"{_differences(manifest['identity'], identity)}; "
                f"use another --out or pass --overwrite"
            )
        damaged = set(check_shards(out_dir, manifest, checksums=True))
        if damaged:
            logging.warning(
                "cache at %s: shard(s) %s missing, truncated or altered: rebuilding them",
                out_dir, ", ".join(sorted(damaged)),
            )  # fmt: skip
            manifest["shards"] = [s for s in manifest["shards"] if s["file"] not in damaged]
            manifest["complete"] = False
            _write_manifest(out_dir, manifest)
        elif manifest.get("complete"):
            logging.info("cache at %s is complete; nothing to do", out_dir)
        _remove_unlisted_shards(out_dir, {s["file"] for s in manifest["shards"]})
        return manifest
    os.makedirs(out_dir, exist_ok=True)
    _remove_unlisted_shards(out_dir, keep=set())
    manifest = {"identity": identity, "shards": [], "complete": False}
    _write_manifest(out_dir, manifest)
    return manifest


def _remove_unlisted_shards(out_dir: str, keep: set[str]) -> None:
    """Deletes shard files a killed run left behind (temp files, unrecorded shards)."""
    for name in os.listdir(out_dir):
        if name.endswith((".tfrecord", ".tfrecord.tmp")) and name not in keep:
            os.remove(os.path.join(out_dir, name))


def _write_manifest(out_dir: str, manifest: dict) -> None:
    configs.atomic_write_text(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=1))


def _differences(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    parts = []
    for key in keys:
        if key == "corpus":
            parts.append("corpus: the files' names, sizes or contents changed")
        else:
            parts.append(f"{key}: cache has {old.get(key)!r}, asked {new.get(key)!r}")
    return "; ".join(parts)
