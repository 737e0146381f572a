"""The Apache Beam pipelines of `lealla mine`: the steps of `mine_job` wired together.

Repeats:   embedding shards -> text hashes -> GroupByKey(hash bucket) -> later
           occurrences -> GroupByKey(shard) -> dropped rows per shard.
kNN:       index blocks -> Reshuffle -> search (one index built per block, every query
           block streamed past it) -> CombinePerKey(top-k merge) -> publish lists.
Selection: query blocks -> requests for the candidates' neighbourhood means ->
           GroupByKey(block holding them) -> answers -> GroupByKey(asking block) ->
           best candidate per query -> GroupByKey(target block) -> select, filter,
           write one TSV shard.
Every element is a block's numpy arrays, so the shuffles carry O(blocks^2) elements,
never one per sentence. A step's output is published under its final name only when
complete, and a step whose output exists is skipped, so retries and reruns give
identical files.
"""

from __future__ import annotations

import apache_beam as beam

from lealla.mining import block_math
from lealla.mining.mine_job import MineJob
from lealla.shards import beam_pipeline, contract


def run_dedupe(job: MineJob, sides: list[str], runner: contract.RunnerConfig) -> None:
    """Finds the repeated sentences of each side (all but the first occurrence)."""
    shards = [(side, s) for side in sides for s in range(len(getattr(job, side).records))]
    with beam.Pipeline(options=beam_pipeline.pipeline_options(runner)) as p:
        (
            p
            | "embedding shards" >> beam.Create(shards)
            | "spread" >> beam.Reshuffle()
            | "hash texts" >> beam.ParDo(_Step(job, "hash"))
            | "by hash bucket" >> beam.GroupByKey()
            | "find repeats" >> beam.ParDo(_Step(job, "repeats"))
            | "by shard" >> beam.GroupByKey()
            | "write dropped rows" >> beam.ParDo(_Step(job, "dropped"))
        )  # fmt: skip


def run_knn(job: MineJob, runner: contract.RunnerConfig) -> None:
    """Computes and publishes the merged neighbour lists still missing."""
    todo_queries = job.knn_todo()
    index_blocks = [(d, b) for d in sorted({d for d, _ in todo_queries})
                    for b in range(job.index_side(d).num_blocks)]  # fmt: skip
    with beam.Pipeline(options=beam_pipeline.pipeline_options(runner)) as p:
        (
            p
            | "index blocks" >> beam.Create(index_blocks)
            | "spread" >> beam.Reshuffle()
            | "search" >> beam.ParDo(_Step(job, "search"))
            | "merge top-k" >> beam.CombinePerKey(TopK(job.k))
            | "publish" >> beam.ParDo(_Step(job, "publish"))
        )  # fmt: skip


def run_selection(job: MineJob, runner: contract.RunnerConfig) -> None:
    """Scores every candidate with the ratio margin and writes the pair shards."""
    query_blocks = [(d, b) for d in ("fwd", "bwd") for b in range(job.queries(d).num_blocks)]
    with beam.Pipeline(options=beam_pipeline.pipeline_options(runner)) as p:
        (
            p
            | "query blocks" >> beam.Create(query_blocks)
            | "spread" >> beam.Reshuffle()
            | "ask for means" >> beam.ParDo(_Step(job, "requests"))
            | "by holder" >> beam.GroupByKey()
            | "answer" >> beam.ParDo(_Step(job, "answer"))
            | "by asker" >> beam.GroupByKey()
            | "best candidates" >> beam.ParDo(_Step(job, "best"))
            | "by target block" >> beam.GroupByKey()
            | "select and write" >> beam.ParDo(_Step(job, "write"))
        )  # fmt: skip


def run_threshold(job: MineJob, threshold: float, runner: contract.RunnerConfig) -> None:
    """Applies a threshold found after selection (--threshold=auto) to every shard."""
    with beam.Pipeline(options=beam_pipeline.pipeline_options(runner)) as p:
        (
            p
            | "target blocks" >> beam.Create(list(range(job.tgt.num_blocks)))
            | "spread" >> beam.Reshuffle()
            | "cut" >> beam.Map(job.apply_threshold, threshold)
        )  # fmt: skip


class TopK(beam.CombineFn):
    """Merges partial (scores, ids) lists of one query block into its k best."""

    def __init__(self, k: int):
        self._k = k

    def create_accumulator(self):
        return None

    def add_input(self, accumulator, lists):
        return lists if accumulator is None else block_math.merge_top_k(accumulator, lists,
                                                                        self._k)  # fmt: skip

    def merge_accumulators(self, accumulators):
        merged = None
        for lists in accumulators:
            if lists is not None:
                merged = self.add_input(merged, lists)
        return merged

    def extract_output(self, accumulator):
        return accumulator


class _Step(beam.DoFn):
    """One `MineJob` step; a data error is recorded for the launching command."""

    def __init__(self, job: MineJob, step: str):
        self._job = job
        self._step = step

    def process(self, element):
        job, step = self._job, self._step
        try:
            if step == "hash":
                yield from job.hash_shard(*element)
            elif step == "repeats":
                (side, _), parts = element
                yield from job.bucket_duplicates(side, list(parts))
            elif step == "dropped":
                (side, shard), row_lists = element
                job.write_dropped(side, shard, row_lists)
            elif step == "search":
                direction, block = element
                yield from job.search_index_block(direction, block)
            elif step == "publish":
                (direction, block), lists = element
                job.publish_knn(direction, block, lists)
            elif step == "requests":
                yield from job.requests(*element)
            elif step == "answer":
                (direction, block), asks = element
                yield from job.answer(direction, block, list(asks))
            elif step == "best":
                (direction, block), answers = element
                yield from job.best(direction, block, list(answers))
            else:
                block, parts = element
                job.select_and_write(block, list(parts))
        except (ValueError, OSError, KeyError) as e:
            contract.record_failure(job.work, f"{step}-{element_name(element)}", e)
            raise


def element_name(element) -> str:
    key = element[0] if isinstance(element, tuple) and isinstance(element[0], tuple) else element
    return "-".join(str(part) for part in (key if isinstance(key, tuple) else (key,)))[:60]
