"""The contract between a sharded job and the runners that run it (in this process or
on Beam): the job's protocol, where it runs, and how a worker's data error reaches the
driver. Both runners import it; neither imports the other at module level.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Protocol

from lealla.files import atomic, fileio, textio
from lealla.shards.line_shards import LineShard

INPROCESS, LOCAL = "inprocess", "local"
_FAILED_PREFIX = "_failed-"


@dataclasses.dataclass(frozen=True)
class RunnerConfig:
    """Where a sharded job runs.

    Attributes:
      runner: "inprocess", "local" (DirectRunner, multi-processing) or a Beam runner
        name.
      num_workers: local runner: worker processes; 0 = the machine's cores.
      pipeline_args: Beam pipeline options for other runners, e.g. ("--project=p",
        "--region=us-central1", "--temp_location=gs://b/tmp").
    """

    runner: str = LOCAL
    num_workers: int = 0
    pipeline_args: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.runner:
            raise ValueError("runner must be 'inprocess', 'local' or a Beam runner name")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.pipeline_args and self.runner in (INPROCESS, LOCAL):
            raise ValueError(
                f"pipeline options {list(self.pipeline_args)} are for Beam runners like "
                f"DataflowRunner; the {self.runner} runner takes none"
            )

    @property
    def workers(self) -> int:
        return self.num_workers or os.cpu_count() or 1


IN_THIS_PROCESS = RunnerConfig(INPROCESS)


class ShardJob(Protocol):
    """What a runner needs of a job; it must pickle (Beam ships it to workers)."""

    out_dir: str

    def setup(self) -> Any:
        """Loads what every shard needs (a model), once per worker process."""

    def is_done(self, shard: LineShard) -> bool:
        """Whether the shard's output is already published."""

    def process(self, state: Any, shard: LineShard) -> None:
        """Writes the shard's output (temp name, then rename)."""


def record_failure(out_dir: str, name: str, error: Exception) -> None:
    """Writes a worker's data error beside the output, for the driver to raise."""
    if isinstance(error, textio.CorpusError):
        record = {"kind": "corpus", "path": error.path, "line": error.line, "reason": error.reason}
    else:
        record = {"kind": type(error).__name__, "message": str(error)}
    atomic.atomic_write_json(fileio.join(out_dir, f"{_FAILED_PREFIX}{name}.json"), record)


def first_failure(out_dir: str) -> Exception | None:
    """The first error a worker recorded (as the exception to raise), clearing them all."""
    files = _failure_files(out_dir)
    if not files:
        return None
    record = json.loads(fileio.read_bytes(files[0]))
    clear_failures(out_dir)
    if record["kind"] == "corpus":
        return textio.CorpusError(record["path"], record["line"], record["reason"])
    kinds = {"FileNotFoundError": FileNotFoundError, "PermissionError": PermissionError,
             "OSError": OSError, "KeyError": KeyError}  # fmt: skip
    return kinds.get(record["kind"], ValueError)(record["message"])


def clear_failures(out_dir: str) -> None:
    """Removes the errors recorded by an earlier run's workers."""
    if not fileio.exists(out_dir):
        return
    for path in _failure_files(out_dir):
        fileio.remove(path)


def _failure_files(out_dir: str) -> list[str]:
    return fileio.glob_files(fileio.join(out_dir, f"{_FAILED_PREFIX}*.json"))
