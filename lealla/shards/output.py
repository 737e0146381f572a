"""One owner for a sharded output folder (the teacher cache, `lealla embed`): its
manifest and identity, the per-shard records, resume, debris removal and the mismatch
of an existing output.

Layout every sharded output shares:
  manifest.json    {header keys, "identity", "shards": [records], "complete", totals}:
                   written first with the identity alone, completed at the end
  NNN-SSSSS.*      the files of shard SSSSS of source NNN (`line_shards.LineShard.name`),
                   each built under a temp name and renamed (`lealla.files.atomic`)
  NNN-SSSSS.json   the shard's record (its files' sizes and checksums, counts, skipped
                   lines), published after its files: it marks the shard done, until the
                   finished manifest takes the records over

A rerun with the same identity resumes with the shards that have no record; one with
another identity is refused with the kind's message (or, asked to, starts over).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from absl import logging

from lealla.files import atomic, fileio, output_dirs, textio
from lealla.shards.line_shards import LineShard
from lealla.ui import console

MANIFEST = "manifest.json"
SHARD_GLOB = "[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]"  # line_shards.LineShard.name


@dataclasses.dataclass(frozen=True)
class OutputKind:
    """What tells one kind of sharded output from another.

    Attributes:
      noun: what messages call a folder of this kind ("cache").
      read_manifest: reads an existing folder's manifest (refusing a damaged one with
        the kind's own advice).
      mismatch: the error for an existing folder of another identity, given the folder,
        its identity and the one asked for.
      header: manifest keys written before the identity (format, schema version).
      verify: on a rerun, check the sizes and checksums of the shards published so far
        and rebuild damaged ones; without it a shard's record is trusted.
    """

    noun: str
    read_manifest: Callable[[str], dict]
    mismatch: Callable[[str, dict, dict], Exception]
    header: tuple[tuple[str, object], ...] = ()
    verify: bool = False


def open_output(
    out_dir: str,
    identity: dict,
    kind: OutputKind,
    *,
    overwrite: bool = False,
    replace_mismatch: bool = False,
) -> dict:
    """The manifest to continue from (call it holding `out_dir`'s lock).

    An existing folder of the same identity is resumed (with `kind.verify`, damaged
    shards are dropped to be rebuilt; debris of a killed run is removed); with
    `overwrite`, or another identity and `replace_mismatch`, it starts over.

    Raises:
      the error of `kind.mismatch`: the folder holds another identity.
    """
    if fileio.exists(fileio.join(out_dir, MANIFEST)) and not overwrite:
        manifest = kind.read_manifest(out_dir)
        if manifest["identity"] == identity:
            return _resume(out_dir, manifest, kind)
        if not replace_mismatch:
            raise kind.mismatch(out_dir, manifest["identity"], identity)
    return _start(out_dir, identity, kind)


def _start(out_dir: str, identity: dict, kind: OutputKind) -> dict:
    fileio.makedirs(out_dir)
    # Replacing: the folder holds nothing but ours (checked under the lock, locally).
    for path in fileio.glob_files(fileio.join(out_dir, f"{SHARD_GLOB}.*")):
        fileio.remove(path)
    output_dirs.remove_debris(out_dir)
    manifest = _empty(kind, identity)
    write_manifest(out_dir, manifest)
    return manifest


def _resume(out_dir: str, manifest: dict, kind: OutputKind) -> dict:
    complete = manifest.get("complete")
    if not kind.verify:
        if not complete:
            output_dirs.remove_debris(out_dir)  # shards without a record are redone
        return manifest
    listed = manifest["shards"] if complete else published_records(out_dir)
    damaged = set(check_shards(out_dir, listed, checksums=True))
    if not damaged and complete:
        console.stage(f"{kind.noun} at {out_dir} is complete; nothing to do")
        return manifest
    if damaged:
        logging.warning(
            "%s at %s: shard(s) %s missing, truncated or altered: rebuilding them",
            kind.noun, out_dir, ", ".join(sorted(damaged)),
        )  # fmt: skip
    if complete:  # reopened to rebuild: its records become shard records again
        for record in listed:
            if record["file"] not in damaged:
                write_record(out_dir, _shard_name(record["file"]), record)
        manifest = _empty(kind, manifest["identity"])
        write_manifest(out_dir, manifest)
    for file in damaged:  # without its record a shard is built again
        fileio.remove(record_path(out_dir, _shard_name(file)))
    output_dirs.remove_debris(out_dir)
    return manifest


def _empty(kind: OutputKind, identity: dict) -> dict:
    return {**dict(kind.header), "identity": identity, "shards": [], "complete": False}


def differing_keys(old: dict, new: dict) -> list[str]:
    """The identity keys whose values differ (sorted), for a mismatch message."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def check_shards(out_dir: str, records: Sequence[dict], *, checksums: bool) -> list[str]:
    """Files of `records` that are missing, truncated or (with checksums) altered."""

    def intact(record: dict) -> bool:
        path = fileio.join(out_dir, record["file"])
        if not fileio.exists(path):
            return False
        if fileio.size(path) != record["bytes"]:
            return False
        return not checksums or fileio.sha256(path)[1] == record.get("sha256")

    return [r["file"] for r in records if not intact(r)]


# --- per-shard records ------------------------------------------------------------------


def record_path(out_dir: str, shard_name: str) -> str:
    return fileio.join(out_dir, f"{shard_name}.json")


def write_record(out_dir: str, shard_name: str, record: dict) -> None:
    """Publishes a shard's record (after its files): the shard is done."""
    atomic.atomic_write_json(record_path(out_dir, shard_name), record)


def published_records(out_dir: str) -> list[dict]:
    """The records of the shards an unfinished run published."""
    records = []
    for path in fileio.glob_files(fileio.join(out_dir, f"{SHARD_GLOB}.json")):
        try:
            records.append(json.loads(fileio.read_bytes(path)))
        except (ValueError, UnicodeDecodeError):  # cannot happen with atomic writes; be safe
            fileio.remove(path)
    return records


class RecordedShards:
    """A sharded job (`contract.ShardJob`) whose shard is done once its record is
    published; mixed into the job's frozen dataclass, which has `out_dir`."""

    out_dir: str

    def record_path(self, shard: LineShard) -> str:
        return record_path(self.out_dir, shard.name)

    def is_done(self, shard: LineShard) -> bool:
        return fileio.exists(self.record_path(shard))

    def record(self, shard: LineShard) -> dict:
        return json.loads(fileio.read_bytes(self.record_path(shard)))

    def write_record(self, shard: LineShard, record: dict) -> None:
        write_record(self.out_dir, shard.name, record)


def _shard_name(file: str) -> str:
    return file.split(".", 1)[0]


# --- running and finishing -------------------------------------------------------------


@contextlib.contextmanager
def removed_if_nothing_published(
    out_dir: str, created: bool, published: Callable[[], bool]
) -> Iterator[None]:
    """On a bad corpus line, removes the folder this call `created` if nothing was
    `published` in it; shards published before the error are kept for a rerun."""
    try:
        yield
    except textio.CorpusError:
        if created and not published():
            fileio.remove_folder(out_dir)  # nothing of this call's is worth keeping
        raise


def completed(manifest: dict, records: list[dict], count_key: str) -> dict:
    """The manifest with every shard's record, their `count` total under `count_key` and
    the skipped-line counts (summed from the records, which lose theirs)."""
    skipped: dict[str, int] = {}
    for record in records:
        for reason, n in record.pop("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + n
    return {**manifest, "shards": records, "complete": True,
            count_key: sum(r["count"] for r in records), "skipped_lines": skipped}  # fmt: skip


def finish(out_dir: str, manifest: dict, shards: Sequence[LineShard]) -> None:
    """Writes the finished manifest, then removes the shard records it took over."""
    write_manifest(out_dir, manifest)
    for shard in shards:
        fileio.remove(record_path(out_dir, shard.name))


def write_manifest(out_dir: str, manifest: dict) -> None:
    atomic.atomic_write_json(fileio.join(out_dir, MANIFEST), manifest)


def save_npy(path: str, array: np.ndarray) -> tuple[int, str]:
    """Publishes `array` as a .npy file (no pickle); returns its (bytes, sha256)."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    data = buffer.getvalue()
    atomic.atomic_write_bytes(path, data)
    return len(data), hashlib.sha256(data).hexdigest()


def holds_identity(path: str, identity: dict) -> bool:
    """Whether the JSON file at `path` exists and records `identity` (compared as it
    reads back from JSON: tuples as lists)."""
    if not fileio.exists(path):
        return False
    return json.loads(fileio.read_bytes(path)) == json.loads(json.dumps(identity))
