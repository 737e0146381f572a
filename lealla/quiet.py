"""Keeping third-party chatter off the console unless the user asks for it (--verbose)."""

from __future__ import annotations

import contextlib
import os
import sys

VERBOSE_ENV = "LEALLA_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextlib.contextmanager
def native_stderr_silenced():
    """Sends what native code writes to file descriptor 2 to /dev/null for the block.

    ScaNN's C++ logs through absl before absl logging is initialised, straight to
    stderr, whatever TF_CPP_MIN_LOG_LEVEL says; Python-level writes are unaffected
    (sys.stderr is flushed first). A no-op with --verbose.
    """
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
