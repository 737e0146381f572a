"""Files on any filesystem: local paths directly, `gs://`, `s3://`, `hdfs://`... through
Apache Beam's FileSystems, so the same pipeline reads and writes wherever its runner does.

Only what the sharded pipelines need: open, size, exists, list, remove, and a folder.
Atomic writes (temp name, then rename) are `lealla.files.atomic`'s.
"""

from __future__ import annotations

import glob
import os
import re
from typing import IO

# In the name of every file or folder built aside and renamed into place: what a
# writer holding the folder's lock may remove as a killed run's debris.
TEMP_MARK = ".lealla-tmp-"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_remote(path: str) -> bool:
    """True for a URL-like path (gs://bucket/x) that Beam's FileSystems must handle."""
    return bool(_SCHEME.match(path))


def beam_filesystems():
    """Beam's FileSystems (imported on first use: heavy, and only remote paths need it)."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def join(base: str, *parts: str) -> str:
    return beam_filesystems().join(base, *parts) if is_remote(base) else os.path.join(base, *parts)


def open_read(path: str) -> IO[bytes]:
    """A seekable binary reader."""
    if is_remote(path):
        return beam_filesystems().open(path, compression_type="uncompressed")
    return open(path, "rb")


def exists(path: str) -> bool:
    return beam_filesystems().exists(path) if is_remote(path) else os.path.exists(path)


def size(path: str) -> int:
    if is_remote(path):
        return beam_filesystems().match([path])[0].metadata_list[0].size_in_bytes
    return os.path.getsize(path)


def glob_files(pattern: str) -> list[str]:
    """Sorted files matching a glob pattern."""
    if is_remote(pattern):
        return sorted(m.path for m in beam_filesystems().match([pattern])[0].metadata_list)
    return sorted(glob.glob(pattern))


def expand(spec: str, what: str) -> list[str]:
    """The files a path or glob pattern names (sorted); a pattern matching nothing is an
    error naming `what` was asked for."""
    if not glob.has_magic(spec):
        return [spec]
    matches = glob_files(spec)
    if not matches:
        raise FileNotFoundError(f"no {what} matches {spec!r}")
    return matches


def makedirs(path: str) -> None:
    if not is_remote(path):
        os.makedirs(path, exist_ok=True)
    elif not beam_filesystems().exists(path):
        beam_filesystems().mkdirs(path)


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


def remove(path: str) -> None:
    """Deletes a file if it exists."""
    if is_remote(path):
        if beam_filesystems().exists(path):
            beam_filesystems().delete([path])
    elif os.path.exists(path):
        os.remove(path)


def sha256(path: str) -> tuple[int, str]:
    """(size in bytes, sha256 hex digest) of a whole file, streamed: the fingerprint of
    an input (cache, embed, mine), so an edit anywhere in it is seen."""
    import hashlib

    digest, size = hashlib.sha256(), 0
    with open_read(path) as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def remove_folder(path: str) -> None:
    """Deletes a flat folder of files (an output a failed call created) and the folder."""
    for file in glob_files(join(path, "*")):
        remove(file)
    if not is_remote(path) and os.path.isdir(path):
        os.rmdir(path)


def folder_bytes(folder: str) -> int:
    """Bytes of every file under a local `folder` (the size an export or a staged upload
    takes on disk)."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
    )
