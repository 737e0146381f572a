"""Progress for long work: a tqdm bar on a terminal (or with --progress), a few lines otherwise.

tqdm draws the live bar. Off a terminal (CI, a log file, `make demo > log`) a redrawn
bar would be noise, so `Progress` writes plain lines instead, each after twice the time
spent so far (30 s, 90 s, 270 s, ... after the start): an hour's job leaves six lines,
work shorter than 30 s none.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from lealla.ui import console

_LOG_EVERY_SECONDS = 30.0
# A finished bar shorter than this is cleared (on a terminal) or not reported.
_KEEP_AFTER_SECONDS = 1.0


class Progress:
    """Counts work done and shows rate and ETA.

    On a terminal, or with `--progress`, a tqdm bar redraws one line; elsewhere a plain
    line goes to the stream after `log_every` seconds, then each time after twice the time
    spent so far, and once at the end when the work took at least `log_every`. Never
    call it inside tf.function.

    Args:
      description: what is being counted, e.g. "caching de-en".
      total: expected units, or None when unknown (no ETA then).
      unit: the unit's name, e.g. "sentences".
      stream: where the bar goes (default stderr).
      log_every: seconds to the first plain line when the bar is not live.
      clock: seconds, monotonic (tests pass a fake one).

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
        self.postfix = ""
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._start = clock()
        self._log_every = log_every
        self._next_line = self._start + log_every
        # (time, count) at the first update: the rate of a periodic line leaves out the
        # start-up before it (a first training step also traces the graph).
        self._first: tuple[float, int] | None = None
        self._closed = False
        self._bar = None
        if console.live_bars(self._stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=description, unit=f" {unit}", file=self._stream,
                dynamic_ncols=True, mininterval=0.2, leave=True,
            )  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Adds `n` units; `postfix` (e.g. "loss 1.23") is shown after the rate."""
        if postfix is not None:
            self.postfix = postfix
            if self._bar is not None:
                self._bar.set_postfix_str(postfix, refresh=False)
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = self._clock()
        if self._first is None:
            self._first = (now, self.count)
        since, done_then = self._first
        if now >= self._next_line and self.count > done_then and now > since:
            self._write(self.line(now, rate=(self.count - done_then) / (now - since)))
            self._next_line = now + 2 * (now - self._start)  # few lines, however long

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        now = self._clock()
        kept = now - self._start >= _KEEP_AFTER_SECONDS
        if self._bar is not None:
            self._bar.leave = kept
            self._bar.close()
        elif now - self._start >= self._log_every:
            self._write(self.line(now))

    @property
    def rate(self) -> float:
        elapsed = self._clock() - self._start
        return self.count / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None, rate: float | None = None) -> str:
        """The status text, e.g. "caching: 500/1000 sentences (50.0%) 120.0 sentences/s ETA 4s".

        rate: units per second (default: the count over the time since the start)."""
        now = self._clock() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        rate = self.count / elapsed if rate is None else rate
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

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()


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
