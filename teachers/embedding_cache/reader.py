"""Reading teacher caches: manifests, several caches as one corpus, checks against the
training data, and the examples with their embeddings as a `tf.data.Dataset`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

import tensorflow as tf

import lealla.models.teachers.embedding_cache.identity as identity_lib
from lealla.data import corpus, pipeline
from lealla.files import fileio, json_shape
from lealla.models.teachers.embedding_cache.identity import (
    CacheMismatchError,
    file_names,
    fingerprint_key,
    source_fingerprint,
)
from lealla.shards import output

MANIFEST = output.MANIFEST
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
_graph_only = tf.autograph.experimental.do_not_convert


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
        for key in identity_lib.SHARED_IDENTITY:
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
    given = [source_fingerprint(s) for s in sources]

    def key(fingerprints):
        return sorted(fingerprint_key(f) for f in fingerprints)

    if key(cached) != key(given):
        where = f"the cache at {dirs[0]}" if len(dirs) == 1 else f"the caches at {', '.join(dirs)}"
        raise CacheMismatchError(
            f"{where} {'was' if len(dirs) == 1 else 'were'} built from {file_names(cached)}, "
            f"but the training data is {file_names(given)} (names, sizes or contents "
            f"differ); build a cache of the training data with `lealla cache` (a cache of "
            f"only the files you added, given beside the others, will do), or pass the "
            f"caches' corpus as --train_data"
        )


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
    shared = {fingerprint_key(source_fingerprint(s)): corpus.share_group_key(s)
              for s in sources if s.share is not None}  # fmt: skip
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    for cache_dir, manifest in zip(dirs, manifests, strict=True):
        _check_readable(cache_dir, manifest, expected_teacher)
        corpus_fingerprints = manifest["identity"]["corpus"]
        for shard in manifest["shards"]:
            key = (
                shared.get(fingerprint_key(corpus_fingerprints[shard["source"]]))
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
    damaged = output.check_shards(cache_dir, manifest["shards"], checksums=False)
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
