"""The Apache Beam side of `shard_runner`: shards in, one DoFn call per shard.

The shards are spread over the workers (`Reshuffle`), each worker process loads the
job's model once (`beam.utils.shared.Shared`), and a shard already published (a retried
bundle, a rerun) is skipped, so retries cannot duplicate or corrupt output.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils import shared

from lealla.shards import contract
from lealla.shards.line_shards import LineShard


def pipeline_options(config: contract.RunnerConfig) -> PipelineOptions:
    """Options of the runner: the local one needs no network (no job server, no download)."""
    # Workers log at INFO by default: lifecycle chatter, unless --verbose.
    level = [] if os.environ.get("LEALLA_VERBOSE") else ["--default_sdk_harness_log_level=ERROR"]
    if config.runner == contract.INPROCESS:  # a pipeline without worker processes
        return PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=in_memory",
                                *level])  # fmt: skip
    if config.runner == contract.LOCAL:
        return PipelineOptions(
            ["--runner=DirectRunner", "--direct_running_mode=multi_processing",
             f"--direct_num_workers={config.workers}", *level]
        )  # fmt: skip
    return PipelineOptions([f"--runner={config.runner}", *level, *config.pipeline_args])


def run_shards(job: contract.ShardJob, shards: list[LineShard],
               config: contract.RunnerConfig) -> None:  # fmt: skip
    with beam.Pipeline(options=pipeline_options(config)) as p:
        (
            p
            | "shards" >> beam.Create(shards)
            | "spread" >> beam.Reshuffle()
            | "process" >> beam.ParDo(ShardFn(job))
        )  # fmt: skip


class _Held:
    """A weak-referenceable box for whatever `setup` returns (Shared needs one)."""

    def __init__(self, value: Any):
        self.value = value


class ShardFn(beam.DoFn):
    """Processes one shard; data errors are recorded beside the output for the driver."""

    def __init__(self, job: contract.ShardJob):
        self._job = job
        self._shared = shared.Shared()

    def setup(self):
        self._state = self._shared.acquire(lambda: _Held(self._job.setup())).value

    def process(self, shard: LineShard):
        if self._job.is_done(shard):
            return
        try:
            self._job.process(self._state, shard)
        except (ValueError, OSError) as e:
            contract.record_failure(self._job.out_dir, shard.name, e)
            raise
        yield shard.name
