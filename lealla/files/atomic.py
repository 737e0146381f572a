"""Atomic writes (temp file in the same folder, then rename) and modes that follow the umask."""

from __future__ import annotations

import os
import tempfile

from lealla.files import fileio


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
