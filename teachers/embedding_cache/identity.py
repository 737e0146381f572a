"""What a teacher cache holds: how it is built (`CacheConfig`), its identity (teacher,
tokenizer, corpus fingerprint, settings) and the messages that refuse a cache of
something else."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence

from lealla.config import json_config
from lealla.data import corpus
from lealla.embeddings import embedding_shards
from lealla.files import fileio
from lealla.models.teachers import augmentation
from lealla.models.teachers import teacher as teacher_lib
from lealla.shards import output

DTYPES = embedding_shards.DTYPES

# Identity fields caches read together must share: what their embeddings are (the
# teacher's function, width, precision) and which features their examples have.
SHARED_IDENTITY = (
    "teacher", "teacher_format", "embedding_dim", "tokenizer", "teacher_seq_length", "dtype",
)  # fmt: skip


class CacheMismatchError(ValueError):
    """An existing cache was built for another teacher, corpus or setting."""


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
        "corpus": [source_fingerprint(s) for s in sources],
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


def source_fingerprint(source: corpus.CorpusSource) -> dict:
    """The kind, languages and every file's name, size and sha256 of one corpus source."""
    files = []
    for path in source.paths:
        size, sha256 = fileio.sha256(path)
        files.append({"name": os.path.basename(path), "bytes": size, "sha256": sha256})
    return {"kind": source.kind, "src_lang": source.src_lang, "tgt_lang": source.tgt_lang,
            "files": files}  # fmt: skip


def fingerprint_key(fingerprint: dict) -> str:
    """A source fingerprint as a comparable, hashable string."""
    return json.dumps(fingerprint, sort_keys=True)


def file_names(fingerprints: list[dict]) -> str:
    """The files of some source fingerprints, for a message (the first six)."""
    names = [f["name"] for fp in fingerprints for f in fp["files"]]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"[{shown}]"


def mismatch(out_dir: str, old: dict, new: dict) -> CacheMismatchError:
    """The refusal of an existing cache of identity `old` asked to hold `new`."""
    parts = []
    for key in output.differing_keys(old, new):
        if key == "corpus":
            parts.append("corpus: the files' names, sizes or contents changed")
        else:
            parts.append(f"{key}: cache has {old.get(key)!r}, asked {new.get(key)!r}")
    return CacheMismatchError(
        f"the cache at {out_dir} was built differently: {'; '.join(parts)}; "
        f"use another --out or pass --overwrite"
    )
