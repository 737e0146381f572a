"""The teacher-embedding cache: run the teacher once per corpus, read it every epoch.

Layout of a cache folder:
  manifest.json           identity (teacher, dims, tokenizer, corpus fingerprint,
                          dtype, shard size) + the list of finished shards, each
                          with its size and sha256 (checked on resume: a damaged
                          shard is rebuilt), + the skipped-line report
  SSS-NNNNN.tfrecord      shard NNNNN of source SSS: tf.train.Examples with
                          src, tgt, src_lang, tgt_lang (bytes) and src_emb, tgt_emb
                          (raw float16/float32 bytes; tgt_emb empty for monolingual)

`writer` builds a cache, `reader` reads one or several as one corpus, `identity` says
what a cache holds and refuses one of something else. The names below are the API.
"""

from lealla.models.teachers.embedding_cache.identity import (
    DTYPES,
    SHARED_IDENTITY,
    CacheConfig,
    CacheMismatchError,
    cache_identity,
)
from lealla.models.teachers.embedding_cache.reader import (
    MANIFEST,
    MANIFEST_SHAPE,
    cache_list,
    cached_dataset,
    check_corpus,
    iter_cache,
    read_cache_set,
    read_manifest,
)
from lealla.models.teachers.embedding_cache.writer import build_cache, embed_all

__all__ = [
    "DTYPES", "MANIFEST", "MANIFEST_SHAPE", "SHARED_IDENTITY", "CacheConfig",
    "CacheMismatchError", "build_cache", "cache_identity", "cache_list", "cached_dataset",
    "check_corpus", "embed_all", "iter_cache", "read_cache_set", "read_manifest",
]  # fmt: skip
