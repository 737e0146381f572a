"""Progress for long work: a live bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from absl import logging

_LOG_EVERY_SECONDS = 30.0
_REDRAW_EVERY_SECONDS = 0.2


class Progress:
    """Counts work done and shows rate and ETA.

    On a TTY it redraws one line (`\\r`); elsewhere (CI, log files) it logs a line
    every `log_every` seconds and once at the end. Never call it inside tf.function.

    Args:
      description: what is being counted, e.g. "caching de-en".
      total: expected units, or None when unknown (no ETA then).
      unit: the unit's name, e.g. "sentences".
      stream: where the bar goes (default stderr).
      log_every: seconds between log lines when not on a TTY.

    Example:
      >>> with Progress("embedding", total=1000, unit="sentences") as bar:
      ...     for batch in batches:
      ...         bar.update(len(batch))
    """

    def __init__(
        self,
        description: str,
        total: int | None = None,
        unit: str = "items",
        *,
        stream: TextIO | None = None,
        log_every: float = _LOG_EVERY_SECONDS,
        clock=time.monotonic,
    ):
        self.description = description
        self.total = total
        self.unit = unit
        self.count = 0
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._log_every = log_every
        self._clock = clock
        self._start = clock()
        self._last_shown = self._start
        self.postfix = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Adds `n` units; `postfix` (e.g. "loss 1.23") is shown after the rate."""
        if postfix is not None:
            self.postfix = postfix
        self.count += n
        now = self._clock()
        interval = _REDRAW_EVERY_SECONDS if self._tty else self._log_every
        if now - self._last_shown >= interval:
            self._show(now)

    def close(self) -> None:
        self._show(self._clock(), final=True)

    @property
    def rate(self) -> float:
        elapsed = self._clock() - self._start
        return self.count / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None) -> str:
        """The status text, e.g. "caching: 500/1000 sentences (50.0%) 120.0 sentences/s ETA 4s"."""
        now = self._clock() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        rate = self.count / elapsed
        done = f"{self.count}/{self.total}" if self.total else f"{self.count}"
        text = f"{self.description}: {done} {self.unit}"
        if self.total:
            text += f" ({self.count / self.total:.1%})"
        text += f" {rate:.1f} {self.unit}/s"
        if self.total and rate > 0 and self.count < self.total:
            text += f" ETA {format_seconds((self.total - self.count) / rate)}"
        else:
            text += f" elapsed {format_seconds(elapsed)}"
        return f"{text} {self.postfix}" if self.postfix else text

    def _show(self, now: float, final: bool = False) -> None:
        self._last_shown = now
        if self._tty:
            self._stream.write("\r" + self.line(now) + ("\n" if final else ""))
            self._stream.flush()
        else:
            logging.info("%s", self.line(now))


def format_seconds(seconds: float) -> str:
    """3725 -> "1h02m05s", 65 -> "1m05s", 4.2 -> "4s"."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
