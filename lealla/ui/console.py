"""What a command shows a person: results, stage lines, progress; INFO lines on request.

Every `lealla` command follows one rule set:
- results (tables, "wrote N pairs to ...") on stdout; with `--json` stdout holds the
  JSON object alone and the human lines go to stderr;
- stage lines and progress bars on stderr (bars on a terminal, or with `--progress`);
  `lealla demo`, which has no `--json`, prints its eight stages with its results;
- INFO lines of our own modules only with `--verbose`; warnings always.

`--verbose` and `--progress` are read by `lealla.cli.main` and kept in the environment, so
child processes (the demo's `lealla distill`, Beam workers) follow the parent.
"""

from __future__ import annotations

import json
import logging as std_logging
import os
import sys
from typing import TextIO

VERBOSE_ENV = "LEALLA_VERBOSE"
PROGRESS_ENV = "LEALLA_PROGRESS"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def verbose() -> bool:
    """True with `--verbose` (here or in a parent `lealla` process)."""
    return _env_flag(VERBOSE_ENV)


def progress_forced() -> bool:
    """True with `--progress`: live bars even when stderr is not a terminal."""
    return _env_flag(PROGRESS_ENV)


def set_modes(*, verbose: bool | None = None, progress: bool | None = None) -> None:
    """Records --verbose / --progress for this process and the processes it starts."""
    for name, on in ((VERBOSE_ENV, verbose), (PROGRESS_ENV, progress)):
        if on:
            os.environ[name] = "1"
        elif on is not None:
            os.environ.pop(name, None)


def is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def live_bars(stream: TextIO) -> bool:
    """Whether progress on `stream` is drawn as a live bar (terminal or --progress)."""
    return progress_forced() or is_terminal(stream)


def show_our_info_lines(show: bool) -> None:
    """absl INFO lines (ours and those third-party code logs through absl) only when
    `show`; warnings and errors always, as "warning: ..." lines without the log prefix
    (time, thread, file) unless `show`. Call after absl has parsed its flags."""
    from absl import logging

    logging.set_verbosity(logging.INFO if show else logging.WARNING)
    if not show:
        logging.get_absl_handler().setFormatter(_PlainFormatter())


class _PlainFormatter(std_logging.Formatter):
    def format(self, record: std_logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def human_stream(json_output: bool) -> TextIO:
    """Where a command's human-readable result goes: stderr when stdout is for JSON."""
    return sys.stderr if json_output else sys.stdout


def say(text: str, *, json_output: bool = False) -> None:
    """A result line for a person (stdout, or stderr when `--json` owns stdout)."""
    print(text, file=human_stream(json_output), flush=True)


def stage(text: str) -> None:
    """A stage line ("embedding the src side ..."): stderr, so stdout stays results."""
    print(text, file=sys.stderr, flush=True)


def print_json(value: dict) -> None:
    """The `--json` object: one line, alone on stdout."""
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()
