"""Atomic writes on any filesystem, and modes that follow the umask.

Every file we publish is built under a temp name and renamed into place, so a reader
(or a rerun after a kill) sees all of it or nothing: locally a temp file in the same
folder (its name holds `fileio.TEMP_MARK`, so a killed write is known debris), remotely
(`gs://...`) a local temp file uploaded under a temp name, then renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from lealla.files import fileio, output_dirs


def atomic_write_text(path: str, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str, value: Any) -> None:
    """Writes `value` as JSON (indent 1, the sharded outputs' records and manifests)."""
    atomic_write_text(path, json.dumps(value, indent=1))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` atomically."""
    with built_aside(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def built_aside(dest: str) -> Iterator[str]:
    """A local temp path to build `dest` at (for writers that want a path: np.save,
    TFRecordWriter); published to `dest` when the block ends, removed if it raises.

    Locally the temp file is beside `dest` (same filesystem: the rename is atomic) with
    the mode `open()` would give; for a remote `dest` it is in the system temp folder.
    """
    if fileio.is_remote(dest):
        fd, tmp = tempfile.mkstemp(prefix=f"lealla-{os.path.basename(dest)}-")
    else:
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        prefix = f".{os.path.basename(dest)}{fileio.TEMP_MARK}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix)
    try:
        # mkstemp makes the file private (0600); give it the mode open() would, so a
        # serving account can read exports and caches.
        follow_umask(fd)
        os.close(fd)
        yield tmp
        publish(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def folder_built_aside(dest: str, *, done: Callable[[str], bool] | None = None) -> Iterator[str]:
    """A temp folder beside the local folder `dest` to build it in (same filesystem, the
    umask's mode); renamed to `dest` when the block ends, removed with
    what it holds if the block raises, so `dest` is whole or absent.

    Args:
      dest: a folder that must not exist yet...
      done: ...unless this says the `dest` found at the rename is finished (another
        process built it meanwhile): the folder built here is then dropped.
    """
    # temp_beside's name: a killed build is debris that remove_debris_beside(dest) knows.
    tmp = output_dirs.temp_beside(dest)
    os.makedirs(tmp)
    try:
        yield tmp
        try:
            os.rename(tmp, dest)
        except OSError:
            if done is None or not done(dest):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(local_file: str, dest: str) -> None:
    """Moves a finished local file to `dest` atomically: a reader sees all of it or nothing.

    Locally a rename; remotely an upload under a temp name, then a rename (object stores
    make the renamed object visible whole).
    """
    if not fileio.is_remote(dest):
        os.replace(local_file, dest)
        return
    fs = fileio.beam_filesystems()
    tmp = f"{dest}{fileio.TEMP_MARK}{os.getpid()}"
    with open(local_file, "rb") as src, fs.create(tmp, compression_type="uncompressed") as out:
        shutil.copyfileobj(src, out, 1 << 22)
    if fs.exists(dest):
        fs.delete([dest])
    fs.rename([tmp], [dest])
    os.remove(local_file)


def copy_file(src: str, dest: str) -> None:
    """Copies a file between any filesystems; `dest` appears whole or not at all."""
    with built_aside(dest) as tmp, open(tmp, "wb") as out, fileio.open_read(src) as f:
        shutil.copyfileobj(f, out, 1 << 22)


def _umask_at_start() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read by flipping it once, at import, before any thread of ours runs: flipping it later
# could give a file another thread creates meanwhile the wrong mode.
_UMASK_AT_START = _umask_at_start()


def current_umask() -> int:
    """The process umask, read without changing it (Linux's /proc/self/status), else
    the one it had when this module was imported."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK_AT_START


def follow_umask(target: int | str, folder: bool = False) -> None:
    """Gives a file (a path or an open descriptor) the mode `open()` would have given
    it, 0666 less the umask (a folder 0777 less the umask, as `os.makedirs`):
    `tempfile.mkstemp`/`mkdtemp` make them private (0600/0700), and what we publish
    from them should follow the user's umask like every other output."""
    mode = (0o777 if folder else 0o666) & ~current_umask()
    if isinstance(target, int):
        os.fchmod(target, mode)
    else:
        os.chmod(target, mode)


def normalize_permissions(root: str) -> None:
    """Gives every file under `root` mode 0666 and every folder 0777, less the umask."""
    mask = current_umask()
    os.chmod(root, 0o777 & ~mask)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o666 & ~mask)
