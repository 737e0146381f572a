"""JSON round-trip for the frozen dataclass configs of every package; unknown keys are errors."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any, TypeVar

from lealla.io import fileio

T = TypeVar("T", bound="ConfigMixin")


class ConfigMixin:
    """Adds `to_dict`/`from_dict`/`to_json_file`/`from_json_file` to a frozen dataclass.

    Example:
      >>> @dataclasses.dataclass(frozen=True)
      ... class C(ConfigMixin):
      ...     size: int = 1
      >>> C.from_dict({"size": 2}).to_dict()
      {'size': 2}
    """

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any]) -> T:
        """Builds the config; raises ValueError naming any unknown key."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} key(s) {unknown}; expected some of {sorted(names)}"
            )
        kwargs = {}
        for key, value in values.items():
            default = names[key].default
            if isinstance(value, list) and isinstance(default, tuple):
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str) -> None:
        """Writes the config atomically (temp file in the same folder, then rename)."""
        atomic_write_text(path, self.to_json_string())

    @classmethod
    def from_json_file(cls: type[T], path: str) -> T:
        return cls.from_dict(read_json_object(path))


def read_json_object(path: str, advice: str = "") -> dict[str, Any]:
    """Reads a JSON file that must hold one object.

    Raises:
      ValueError: not JSON, or not an object (names the file; `advice` is appended).
    """
    with open(path, encoding="utf-8") as f:
        try:
            values = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e}){advice}") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(values).__name__}{advice}")
    return values


def atomic_write_text(path: str, text: str) -> None:
    """Writes `text` to `path` via a temp file in the same folder and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` via a temp file in the same folder and an atomic rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}{fileio.TEMP_MARK}")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would, so a
        # serving account can read exports and caches.
        follow_umask(fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
