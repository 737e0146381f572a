"""Runs a sharded job in this process or as an Apache Beam pipeline, with one contract.

A job (`ShardJob`) turns one planned shard (`line_shards.LineShard`) into its output
files, written under temp names and published by rename, and says whether a shard's
output already exists. So any runner, worker count or retry gives the same files, a
rerun skips finished shards, and a killed worker leaves nothing half-written.

Runners:
  inprocess   no Beam: this process, one shard after another (the reference path).
  local       Beam's DirectRunner in multi-processing mode with `num_workers`
              processes (default: the cores); needs no network.
  NAME        any other Beam runner (DataflowRunner, FlinkRunner, SparkRunner, ...),
              with its pipeline options (`--project=...`) passed through unchanged.
The model (teacher, encoder) is loaded once per worker process (`beam.utils.shared`).
Data errors raised in a worker (a bad corpus line, ...) are written beside the output
and raised again here with their own message, whatever the runner.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence

from lealla.shards import contract

# The contract's names stay reachable here for callers that name a runner.
from lealla.shards.contract import IN_THIS_PROCESS, INPROCESS, LOCAL, RunnerConfig, ShardJob
from lealla.shards.line_shards import LineShard
from lealla.ui import console, quiet
from lealla.ui.progress import Progress

__all__ = [
    "INPROCESS", "IN_THIS_PROCESS", "LOCAL", "RunnerConfig", "ShardJob", "run", "run_pipeline",
]  # fmt: skip
_POLL_SECONDS = 2.0


def run(job: ShardJob, shards: Sequence[LineShard], config: RunnerConfig, *, label: str) -> None:
    """Runs `job` on every shard whose output is missing.

    Raises:
      CorpusError, ValueError, OSError: a data error of a worker, re-raised here.
      RuntimeError: the pipeline failed otherwise (the runner's message).
    """
    contract.clear_failures(job.out_dir)
    todo = [s for s in shards if not job.is_done(s)]
    if not todo:
        return
    console.stage(f"{label}: {len(todo)} of {len(shards)} shard(s) to do on the "
                  f"{config.runner} runner")  # fmt: skip
    if config.runner == INPROCESS:
        state = job.setup()
        with Progress(label, total=len(todo), unit="shards") as bar:
            for shard in todo:
                job.process(state, shard)
                bar.update(1)
        return
    _run_beam(job, todo, config, label)


def _run_beam(job: ShardJob, todo: list[LineShard], config: RunnerConfig, label: str) -> None:
    from lealla.shards import beam_pipeline  # Beam is imported only when a Beam runner is asked for

    run_pipeline(
        lambda: beam_pipeline.run_shards(job, todo, config), job.out_dir, config, label,
        [functools.partial(job.is_done, s) for s in todo], unit="shards",
    )  # fmt: skip
    missing = [s.name for s in todo if not job.is_done(s)]
    if missing:
        raise RuntimeError(f"{label}: the pipeline ended without shard(s) {missing[:5]}")


def run_pipeline(
    run_it: Callable[[], None],
    out_dir: str,
    config: RunnerConfig,
    label: str,
    parts_done: Sequence[Callable[[], bool]],
    *,
    unit: str,
) -> None:
    """Runs a Beam pipeline with our console: its workers' output goes to a log file,
    progress is read from the parts published so far, and an error a worker recorded
    (`record_failure`) is raised here with its own message.

    Args:
      run_it: builds and runs the pipeline (returns when it has finished).
      out_dir: where workers record failures.
      config: the runner (for messages).
      label: what the progress line and errors say.
      parts_done: one predicate per unit of output (shown as progress).
      unit: what a part is called ("shards", "blocks").

    Raises:
      CorpusError, ValueError, OSError: a data error of a worker, re-raised here.
      RuntimeError: the pipeline failed otherwise (innermost error + log path).
    """
    contract.clear_failures(out_dir)
    console.stage(f"{label} ({config.runner} runner)")
    # A private folder (mode 0700, unpredictable name): no one else can plant a link
    # where the workers' log is written.
    log_dir = tempfile.mkdtemp(prefix="lealla-beam-")
    log = os.path.join(log_dir, "workers.log")
    keep_log = False
    stop = threading.Event()
    try:
        with quiet.worker_output_to(log) as console_stream:
            watcher = threading.Thread(
                target=_watch,
                args=(list(parts_done), label, unit, stop, console_stream),
                daemon=True,
            )
            watcher.start()
            try:
                run_it()
            except Exception as e:
                failure = contract.first_failure(out_dir)
                if failure is not None:
                    raise failure from None
                keep_log = os.path.exists(log)
                where = f"workers' log: {log}; " if keep_log else ""
                raise RuntimeError(
                    f"{label}: the {config.runner} pipeline failed: {_root_cause(e)} ({where}"
                    f"rerun with the same flags to resume)"
                ) from e
            finally:
                stop.set()
                watcher.join()
    finally:
        if not keep_log:  # the log of a failure it names is the user's to read
            shutil.rmtree(log_dir, ignore_errors=True)


def _root_cause(error: Exception) -> str:
    """The innermost "SomeError: message" line of a runner's wrapped worker traceback."""
    causes = [
        m.group(0).strip()
        for m in re.finditer(r"^\s*[A-Za-z_.]*(?:Error|Exception): .+$", str(error), re.M)
        if "in user code:" not in m.group(0)
    ]
    return causes[-1] if causes else str(error).strip().splitlines()[0][:300]


def _watch(
    parts_done: list[Callable[[], bool]], label: str, unit: str, stop: threading.Event, stream
) -> None:
    """Progress of a Beam run, from the parts published so far."""
    pending = list(parts_done)
    with Progress(label, total=len(pending), unit=unit, stream=stream) as bar:
        while pending and not stop.wait(_POLL_SECONDS):
            still = [done for done in pending if not done()]
            bar.update(len(pending) - len(still))
            pending = still
