"""Shared benchmark helpers: machine description and best-of-N timing."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable


def machine() -> str:
    """One line describing where the numbers were taken."""
    import tensorflow as tf

    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}"
    )


def best_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The fastest of `repeats` timed calls (after `warmup` untimed ones).

    The minimum is the least noisy estimate on a shared machine: noise only adds time.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
