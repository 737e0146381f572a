"""Output folders: which ones a command may replace, and one writer at a time in each.

Every command that writes a folder goes through here, so none destroys what it did not
write:

- Ownership. A folder is replaced or removed only when its marker proves which command
  wrote it (`FolderKind.markers`: `lealla_export.json`, a mine `summary.json`, a cache or
  embeddings `manifest.json`, ...) and every entry in it is a name that command writes.
  Otherwise the command refuses, naming the first foreign entry.
- Refused targets. An output equal to, inside or around one of the command's inputs,
  or around the root, the home or the current folder, is a usage error (resolved real
  paths are compared, so `--out=/` or a symlink to an input is caught too).
- Locks. `locked(path)` takes an advisory `fcntl.flock` on a lock file beside the
  folder before any work: a second process writing the same folder is told "DIR is in
  use by another lealla process (pid N)". The OS drops the lock when its holder dies,
  so a killed run leaves no stale lock; and whatever carries our temp marker beside or
  inside a folder whose lock we hold is a killed run's debris (`remove_debris`).

Remote paths (gs://, s3://, ...) are neither locked nor listed here: object stores
have no advisory locks, and their writers replace only files they name.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import fcntl
import fnmatch
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator

from lealla.files import fileio

TEMP_MARK = fileio.TEMP_MARK  # in the name of everything built aside and renamed
OLD_MARK = ".lealla-old-"  # a replaced folder, renamed aside until it is removed
LOCK_SUFFIX = ".lealla-lock"
# Temp files of earlier versions: a shard's (000-00001.tfrecord.tmp-PID) and an atomic
# write's (.manifest.json.XXXXXXXX.tmp).
_LEGACY_TEMP = re.compile(r"^(\d{3}-\d{5}\.[a-z.]+\.tmp(-\d+)?|\..+\.[A-Za-z0-9_]{8}\.tmp)$")


class UnsafeOutputError(ValueError):
    """An output path no command may write: an input, the root, home or current folder."""


class NotOursError(ValueError):
    """A folder to replace or fill holds something its command did not write."""


class FolderInUseError(RuntimeError):
    """Another process holds the folder's lock."""


@dataclasses.dataclass(frozen=True)
class FolderKind:
    """The folders one command writes.

    Attributes:
      command: the command, as messages name it (`lealla export`).
      markers: files (relative paths) of which one, a JSON object with `marker_keys`,
        proves the command wrote the folder.
      names: shell patterns of the top-level entries the command writes.
      marker_keys: keys the marker's JSON object must have.
    """

    command: str
    markers: tuple[str, ...]
    names: tuple[str, ...]
    marker_keys: tuple[str, ...] = ()


_SHARD = "[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]"
EXPORT = FolderKind(
    "lealla export", ("lealla_export.json",),
    ("lealla_export.json", "saved_model.pb", "fingerprint.pb", "variables", "assets",
     "labse_format", "README.md", "dims.png", "*.tflite"),
    ("embedding_dim",),
)  # fmt: skip
MINED = FolderKind(
    "lealla mine", ("summary.json",),
    ("summary.json", "scores.png", "pairs-[0-9]*.tsv", "pairs-[0-9]*.json"),
    ("pairs", "files"),
)  # fmt: skip
MINE_WORK = FolderKind(
    "lealla mine",
    ("lealla_mine_work.json", "knn/manifest.json", "dedupe/done.json",
     "src_embeddings/manifest.json", "tgt_embeddings/manifest.json"),
    ("lealla_mine_work.json", "src_embeddings", "tgt_embeddings", "dedupe", "knn", "pairs",
     "_failed-*.json"),
)  # fmt: skip
EMBEDDINGS = FolderKind(
    "lealla embed", ("manifest.json",),
    ("manifest.json", f"{_SHARD}.npy", f"{_SHARD}.index.npy", f"{_SHARD}.scales.npy",
     f"{_SHARD}.json", "_failed-*.json"),
    ("format", "identity", "shards"),
)  # fmt: skip
CACHE = FolderKind(
    "lealla cache", ("manifest.json",),
    ("manifest.json", f"{_SHARD}.tfrecord", f"{_SHARD}.json", "_failed-*.json"),
    ("identity", "shards"),
)  # fmt: skip
DEMO = FolderKind(
    "lealla demo", ("lealla_demo.json", "report/summary.json"),
    ("lealla_demo.json", "teacher_cache", "model", "static", "export", "mined", "report"),
)  # fmt: skip
RUN = FolderKind(
    "lealla distill", ("distill_config.json",),
    ("distill_config.json", "distill_command.txt", "student_config.json", "tokenizer",
     "languages.json",
     "dev_mono_teacher.npz", "checkpoints", "best", "summaries", "metrics.json"),
    ("student",),
)  # fmt: skip
PRUNED_VOCAB = FolderKind(
    "lealla vocab prune", ("pruning.json",),
    ("pruning.json", "old_ids.npy", "tokenizer.json", "vocab.txt", "sp.model"),
    ("original_size", "size"),
)  # fmt: skip


def is_debris(name: str) -> bool:
    """Whether an entry's name is one of our temp, aside or lock names."""
    return (
        TEMP_MARK in name or OLD_MARK in name or name.endswith(LOCK_SUFFIX)
        or bool(_LEGACY_TEMP.search(name))
    )  # fmt: skip


def has_marker(folder: str, kind: FolderKind) -> bool:
    """Whether one of `kind`'s markers in `folder` is a JSON object with its keys."""
    for marker in kind.markers:
        path = os.path.join(folder, marker)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(values, dict) and all(k in values for k in kind.marker_keys):
            return True
    return False


def first_foreign(folder: str, kind: FolderKind) -> str | None:
    """The first entry of `folder` (sorted) that `kind`'s command did not write, or None.

    Without a marker every entry is foreign (the first is named); a marked folder's
    foreign entries are those matching none of `kind.names` (debris aside).
    """
    entries = sorted(os.listdir(folder))
    marked = has_marker(folder, kind)
    for name in entries:
        if is_debris(name):
            continue
        if not marked or not any(fnmatch.fnmatchcase(name, p) for p in kind.names):
            return name
    return None


def check_replaceable(path: str, kind: FolderKind, flag: str = "--out") -> None:
    """Refuses to replace or remove `path` unless it is absent or wholly `kind`'s.

    Raises:
      NotOursError: `path` is a file, a symlink, or a folder holding anything else.
    """
    if fileio.is_remote(path) or not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        raise NotOursError(
            f"{flag}={path} is a {'symlink' if os.path.islink(path) else 'file'}, not a "
            f"folder `{kind.command}` wrote; refusing to replace it: remove it yourself or "
            f"choose another {flag}"
        )
    foreign = first_foreign(path, kind)
    if foreign is not None:
        raise NotOursError(
            f"{flag}={path} holds {foreign}, which `{kind.command}` did not write; refusing "
            f"to replace it: remove it yourself or choose another {flag}"
        )


def check_fillable(path: str, kind: FolderKind, flag: str = "--out") -> None:
    """Refuses a folder a resumable writer would fill (and clean) unless it is new,
    empty, or marked as `kind`'s; foreign files in a marked folder are left alone.

    Raises:
      NotOursError: `path` is a file, or a non-empty folder without `kind`'s marker.
    """
    if fileio.is_remote(path) or not os.path.lexists(path):
        return
    if not os.path.isdir(path):
        raise NotOursError(f"{flag}={path} is a file; give a folder `{kind.command}` may "
                           f"create or resume")  # fmt: skip
    entries = sorted(n for n in os.listdir(path) if not is_debris(n))
    if entries and not has_marker(path, kind):
        raise NotOursError(
            f"{flag}={path} holds {entries[0]}, and no {' or '.join(kind.markers)} says "
            f"`{kind.command}` wrote it; give a new or empty folder"
        )


def check_target(
    path: str, flag: str = "--out", inputs: Iterable[tuple[str, str | None]] = ()
) -> None:
    """Refuses an output path that is, contains or lies inside one of the command's
    `inputs` ((flag, path) pairs; None skipped), or contains the home or current folder
    (the root contains both).

    Raises:
      UnsafeOutputError: naming the flag, the path and the clash.
    """
    if not path or fileio.is_remote(path):
        return
    real = os.path.realpath(path)
    if real == os.path.realpath(os.sep):
        raise UnsafeOutputError(f"{flag}={path} is the root folder; choose a folder of its own")
    for place, what in ((os.path.expanduser("~"), "your home folder"),
                        (os.getcwd(), "the current folder")):  # fmt: skip
        if _within(os.path.realpath(place), real):
            relation = "is" if os.path.realpath(place) == real else "contains"
            raise UnsafeOutputError(f"{flag}={path} {relation} {what}; choose a folder of its own")
    for input_flag, input_path in inputs:
        if not input_path or fileio.is_remote(input_path):
            continue
        other = os.path.realpath(input_path)
        if other == real:
            relation = "is also"
        elif _within(other, real):
            relation = "contains"
        elif _within(real, other):
            relation = "is inside"
        else:
            continue
        raise UnsafeOutputError(
            f"{flag}={path} {relation} {input_flag}={input_path}: the output must not touch "
            f"the command's own input; choose another {flag}"
        )


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def temp_beside(path: str) -> str:
    """A fresh name beside `path` to build it under (then renamed to `path`)."""
    return f"{os.path.abspath(path.rstrip(os.sep))}{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def remove_debris(folder: str) -> list[str]:
    """Removes the temp files and folders inside `folder` that a killed run left.

    Call it holding `folder`'s lock: then none belongs to a running writer.

    Returns:
      The paths removed.
    """
    if fileio.is_remote(folder) or not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder) if is_debris(n) and not n.endswith(LOCK_SUFFIX)]
    return [_remove(os.path.join(folder, n)) for n in sorted(names)]


def remove_debris_beside(path: str) -> list[str]:
    """Removes what a killed writer of `path` left beside it: `path` built under a temp
    name, or an older `path` moved aside. Call it holding `path`'s lock.

    Returns:
      The paths removed.
    """
    folder, base = os.path.split(os.path.abspath(path.rstrip(os.sep)))
    ours = re.compile(
        rf"^{re.escape(base)}({re.escape(TEMP_MARK)}|{re.escape(OLD_MARK)}|\.(tmp|old)-)\d+-"
        r"[0-9a-f]{8}$"
    )
    names = [n for n in os.listdir(folder) if ours.match(n)] if os.path.isdir(folder) else []
    return [_remove(os.path.join(folder, n)) for n in sorted(names)]


def _remove(path: str) -> str:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return path


def replace_folder(staged: str, out: str, kind: FolderKind, flag: str = "--out") -> None:
    """Renames the finished folder `staged` to `out`; an existing `out` (which must be
    wholly `kind`'s) is moved aside first and removed after. Hold `out`'s lock."""
    check_replaceable(out, kind, flag)
    old = None
    if os.path.lexists(out):
        old = f"{os.path.abspath(out)}{OLD_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(out, old)
    try:
        os.rename(staged, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_folder(path: str, kind: FolderKind, flag: str = "--out") -> None:
    """Removes `path` if it is wholly `kind`'s (see `check_replaceable`)."""
    check_replaceable(path, kind, flag)
    if os.path.isdir(path):
        shutil.rmtree(path)


# Locks this process holds: lock file -> [descriptor, holders]. Re-entrant, so a
# command's entry point and the library function it calls may both take one.
_held: dict[str, list] = {}


def lock_path(path: str) -> str:
    """The lock file of folder `path`: a hidden file beside it."""
    folder, base = os.path.split(os.path.abspath(path.rstrip(os.sep)) or os.sep)
    return os.path.join(folder, f".{base}{LOCK_SUFFIX}")


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Holds the advisory lock of folder `path` (created or not) while the block runs.

    Raises:
      FolderInUseError: another process holds it.
    """
    if fileio.is_remote(path):
        yield
        return
    key = acquire(path)
    try:
        yield
    finally:
        _release(key)


def acquire(path: str) -> str:
    """Takes the lock of folder `path` (see `locked`); returns its key for `_release`.
    An entry point may take a lock and keep it: it is let go at exit (`_release_all`),
    or by the OS if the process dies."""
    key = lock_path(path)
    if os.path.isdir(path) and not os.access(os.path.dirname(key), os.W_OK):
        key = os.path.join(os.path.abspath(path), LOCK_SUFFIX)  # a read-only parent: inside
    if key in _held:
        _held[key][1] += 1
        return key
    created = _make_parents(os.path.dirname(key))
    try:
        fd = _lock_file(key, path)
    except BaseException:
        _remove_empty(created)
        raise
    _held[key] = [fd, 1, created, os.getpid()]
    return key


def _lock_file(key: str, path: str) -> int:
    while True:
        fd = os.open(key, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise FolderInUseError(
                f"{path} is in use by another lealla process (pid {holder}); wait for it to "
                f"finish or stop it"
            ) from None
        # A holder unlinks the file before it lets go: a lock won on an unlinked file
        # is no lock, try the path again.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(key, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


def _release(key: str) -> None:
    entry = _held[key]
    entry[1] -= 1
    if entry[1] > 0:
        return
    del _held[key]
    if entry[3] != os.getpid():  # a forked child's copy: the lock is its parent's
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(key)  # before letting go: see _lock_file
    os.close(entry[0])
    _remove_empty(entry[2])


def _make_parents(folder: str) -> list[str]:
    """Creates `folder` and its missing parents; returns those created, deepest first."""
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    if missing:
        os.makedirs(missing[0], exist_ok=True)
    return missing


def _remove_empty(folders: list[str]) -> None:
    """Removes folders a lock created, deepest first, while they are empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


@contextlib.contextmanager
def created(folder: str) -> Iterator[None]:
    """Creates `folder` and its missing parents for the block; if the block fails, removes
    those it created again (while they are empty)."""
    made = _make_parents(os.path.abspath(folder))
    try:
        yield
    except BaseException:
        _remove_empty(made)
        raise


@atexit.register
def _release_all() -> None:
    """Lets go of the locks an entry point held for the whole process."""
    for key in list(_held):
        _held[key][1] = 1
        _release(key)


def claim(
    path: str,
    kind: FolderKind,
    *,
    flag: str = "--out",
    inputs: Iterable[tuple[str, str | None]] = (),
    replace: bool = False,
) -> None:
    """What an entry point does before any work: `check_target`, the lock (held until
    the process exits), then `check_replaceable` when it will replace `path`, else
    `check_fillable`.

    Raises:
      UnsafeOutputError, FolderInUseError, NotOursError: see those checks.
    """
    check_target(path, flag, inputs)
    if fileio.is_remote(path):
        return
    acquire(path)
    if replace:
        check_replaceable(path, kind, flag)
    else:
        check_fillable(path, kind, flag)


def check_writable(path: str, flag: str = "--out") -> None:
    """Fails fast when `path` (a file or folder to be created) cannot be written.

    Writes and removes a probe file in the nearest existing folder on the way to `path`,
    before any expensive work starts; creates no folder (a failed command leaves none).
    Remote paths (gs://, s3://, ...) are left to the filesystem that writes them
    (credentials and buckets are checked by its first write).

    Raises:
      ValueError: naming the flag, the path and the reason.
    """
    if fileio.is_remote(path):
        return
    parent = os.path.dirname(os.path.abspath(path.rstrip("/"))) or "."
    try:
        if os.path.exists(path) and not os.path.isdir(path) and path.endswith("/"):
            raise NotADirectoryError(path)
        while not os.path.exists(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            raise NotADirectoryError(parent)
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".lealla-write-check{fileio.TEMP_MARK}")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ValueError(f"{flag}={path}: cannot write there ({reason})") from None
