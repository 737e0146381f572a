"""Keeping third-party chatter off the console unless the user asks for it (--verbose)."""

from __future__ import annotations

import contextlib
import os
import sys

from lealla.ui.console import VERBOSE_ENV, verbose  # noqa: F401 (read here and by callers)


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


@contextlib.contextmanager
def worker_output_to(log_path: str):
    """Sends everything written to stderr during the block (Beam's worker processes,
    which inherit file descriptor 2, and the runner's own threads' tracebacks) into
    `log_path`, while this process's log lines still reach the console.

    Workers log their start-up and shutdown at INFO and third-party import warnings
    before any option can lower them. Yields the console stream (for progress bars).
    A no-op with --verbose. The log is created, never reused or followed through a
    link (O_EXCL | O_NOFOLLOW): give a path in a private folder (`tempfile.mkdtemp`).
    """
    if verbose():
        yield sys.stderr
        return
    from absl import logging as absl_logging

    sys.stderr.flush()
    saved = os.dup(2)
    console = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    handler = absl_logging.get_absl_handler().python_handler
    old_stream = handler.stream
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW
        log = os.open(log_path, flags, 0o600)
        try:
            os.dup2(log, 2)
        finally:
            os.close(log)
        handler.setStream(console)
        yield console
    finally:
        console.flush()
        sys.stderr.flush()
        handler.setStream(old_stream)
        os.dup2(saved, 2)
        os.close(saved)
        console.close()
