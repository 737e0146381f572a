"""Mines two embedded corpora into a folder of pair shards (`lealla mine`'s driver).

Runs the two pipelines of `beam_mine` on the work folder (resuming whatever a
previous run finished), then publishes the output folder in one step:

  pairs-TTTTT.tsv   score<TAB>src<TAB>tgt<TAB>src_file:line<TAB>tgt_file:line, the
                    pairs whose target is in block T, best first
  summary.json      pairs, filter counts, score histogram, settings
  scores.png        the score distribution
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import shutil
import time

import numpy as np
from absl import logging

from lealla.files import atomic, fileio, output_dirs, textio
from lealla.mining import mine_job
from lealla.mining import threshold as threshold_lib
from lealla.mining.mine_job import MineJob
from lealla.shards import contract, output, shard_runner
from lealla.ui import plots

SUMMARY, CHART = "summary.json", "scores.png"


class MinedOutputExistsError(ValueError):
    """The output folder exists and --overwrite was not given."""


def check_output(out: str, overwrite: bool) -> None:
    """Refuses an existing `out` without `overwrite`, and with it one that is not wholly
    a mined folder (or is the root, home or current folder).

    Raises:
      MinedOutputExistsError, UnsafeOutputError, NotOursError.
    """
    if fileio.exists(out) and not overwrite:
        raise MinedOutputExistsError(
            f"--out={out} exists; pass --overwrite to replace it, or choose another folder"
        )
    output_dirs.check_target(out)
    output_dirs.check_replaceable(out, output_dirs.MINED)


def mine_to_folder(
    job: MineJob,
    out: str,
    runner: contract.RunnerConfig,
    *,
    overwrite: bool = False,
    dedupe: bool = True,
) -> dict:
    """Mines `job`'s two sides into `out` (see the module docstring).

    Args:
      job: the two sides and the settings.
      out: the output folder.
      runner: where the pipelines run.
      overwrite: replace an existing `out`.
      dedupe: leave out repeated sentences of each side (the first one is kept).

    Returns:
      The summary.

    Raises:
      MinedOutputExistsError: `out` exists and not `overwrite`.
      ValueError, OSError: a data error of a step (its own message).
      RuntimeError: the pipeline failed otherwise.
    """
    check_output(out, overwrite)
    with output_dirs.locked(out), output_dirs.locked(job.work):
        check_output(out, overwrite)  # again, now that no one else writes
        return _mine_locked(job, out, runner, dedupe)


def _mine_locked(job: MineJob, out: str, runner, dedupe: bool) -> dict:
    from lealla.mining import beam_mine  # Beam only when mining

    _mark_work_folder(job.work)
    for side in (job.src, job.tgt):
        if not side.size:
            raise ValueError(f"the embeddings at {side.folder} hold no sentences (inputs "
                             f"{side.inputs}); nothing to mine")  # fmt: skip
    seconds = {}
    start = time.perf_counter()
    job, duplicates = _drop_duplicates(job, runner) if dedupe else (job, None)
    seconds["duplicates"] = time.perf_counter() - start
    _prepare_knn(job)
    start = time.perf_counter()
    todo = job.knn_todo()
    if todo:
        done = [functools.partial(job.knn_done, d, b) for d, b in todo]
        shard_runner.run_pipeline(lambda: beam_mine.run_knn(job, runner), job.work, runner,
                                  "nearest neighbours", done, unit="blocks")  # fmt: skip
        missing = job.knn_todo()
        if missing:
            raise RuntimeError(f"the kNN pipeline ended without the lists of {missing[:5]}")
    job.remove_parts()
    seconds["knn"] = time.perf_counter() - start
    start = time.perf_counter()
    fileio.remove_folder(job.pairs_dir)
    fileio.makedirs(job.pairs_dir)
    done = [functools.partial(job.pairs_done, b) for b in range(job.tgt.num_blocks)]
    shard_runner.run_pipeline(lambda: beam_mine.run_selection(job, runner), job.work, runner,
                              "scoring and selecting pairs", done, unit="blocks")  # fmt: skip
    threshold, calibration = job.threshold, None
    if job.calibration:
        threshold, calibration = _calibrate(job)
        shard_runner.run_pipeline(lambda: beam_mine.run_threshold(job, threshold, runner),
                                  job.work, runner, "applying the threshold", [],
                                  unit="blocks")  # fmt: skip
    summary = mine_job.summarize(job, threshold)
    seconds["selection"] = time.perf_counter() - start
    summary["seconds"] = seconds  # this run's (neighbour lists reused from a previous run: ~0)
    summary["duplicates_left_out"] = duplicates
    if calibration is not None:
        summary["calibration"] = calibration
    _write_summary(job.pairs_dir, summary)
    _publish_folder(job.pairs_dir, out, summary)
    return summary


def _mark_work_folder(work: str) -> None:
    """Writes the marker that lets a rerun resume in `work` (`output_dirs.MINE_WORK`)."""
    marker = fileio.join(work, output_dirs.MINE_WORK.markers[0])
    if not fileio.exists(marker):
        fileio.makedirs(work)
        atomic.atomic_write_json(marker, {"format": "lealla-mine-work"})


def _calibrate(job: MineJob) -> tuple[float, dict]:
    """The F1-optimal threshold on the pairs touching the calibration sample (as
    `lealla eval bucc` chooses its threshold on gold pairs).

    Raises:
      ValueError: none of the sample's pairs was mined.
    """
    hits = [hit for record in mine_job.shard_records(job) for hit in record["calibration"]]
    scores = np.asarray([h[0] for h in hits], np.float32)
    correct = np.asarray([h[1] for h in hits], bool)
    best = threshold_lib.optimize_threshold(scores, correct, len(set(job.calibration)))
    if not np.isfinite(best.threshold):
        raise ValueError(
            f"none of the {len(set(job.calibration))} calibration pairs was mined; check that "
            f"both sentences of each occur in --src and --tgt (exact text), or give --threshold"
        )
    logging.info("--threshold=auto: %.4f (calibration sample: precision %.3f, recall %.3f, "
                 "F1 %.3f)", best.threshold, best.precision, best.recall, best.f1)  # fmt: skip
    return best.threshold, {
        "pairs": len(set(job.calibration)), "candidates": len(hits),
        "precision": best.precision, "recall": best.recall, "f1": best.f1,
    }  # fmt: skip


def read_calibration(path: str) -> tuple[tuple[str, str], ...]:
    """Known pairs, one `src<TAB>tgt` per line.

    Raises:
      CorpusError: a line without two fields, invalid UTF-8, or an empty file.
    """
    textio.require_file(path, "--calibration file")
    pairs = []
    for line_no, raw in enumerate(textio.iter_raw_lines(path), 1):
        text = textio.decode_line(path, line_no, raw)
        src, tgt = textio.split_fields(path, line_no, text, 2)
        pairs.append((src, tgt))
    if not pairs:
        raise textio.CorpusError(path, None, "no pairs (the file is empty)")
    return tuple(pairs)


def _drop_duplicates(job: MineJob, runner) -> tuple[MineJob, dict]:
    """The job on both sides without repeated sentences (computed once, then reused)."""
    # Beam is imported only when duplicates are dropped
    from lealla.mining import beam_mine

    marker = fileio.join(job.dedupe_dir, "done.json")
    identity = {side: getattr(job, side).identity for side in ("src", "tgt")}
    if not output.holds_identity(marker, identity):
        fileio.remove_folder(job.dedupe_dir)
        fileio.makedirs(job.dedupe_dir)
        shard_runner.run_pipeline(lambda: beam_mine.run_dedupe(job, ["src", "tgt"], runner),
                                  job.work, runner, "finding repeated sentences", [],
                                  unit="shards")  # fmt: skip
        atomic.atomic_write_json(marker, identity)
    sides, duplicates = {}, {}
    for side in ("src", "tgt"):
        dropped = job.dropped_counts(side)
        duplicates[side] = sum(dropped)
        prefix = fileio.join(job.dedupe_dir, side)
        sides[side] = getattr(job, side).without_duplicates(prefix, dropped)
    if any(duplicates.values()):
        logging.info("left out repeated sentences: %d source, %d target", duplicates["src"],
                     duplicates["tgt"])  # fmt: skip
    return dataclasses.replace(job, **sides), duplicates


def _prepare_knn(job: MineJob) -> None:
    """Keeps neighbour lists computed from the same inputs and settings, else starts over."""
    path = fileio.join(job.knn_dir, "manifest.json")
    identity = job.knn_identity()
    if output.holds_identity(path, identity):
        return
    if fileio.exists(path):
        logging.info("neighbour lists in %s are of other inputs or settings: recomputing",
                     job.knn_dir)  # fmt: skip
        job.remove_parts()
        fileio.remove_folder(job.knn_dir)
    fileio.makedirs(fileio.join(job.knn_dir, "part"))
    atomic.atomic_write_json(path, identity)


def _write_summary(folder: str, summary: dict) -> None:
    hist = summary["histogram"]
    plots.histogram_chart(
        fileio.join(folder, CHART), hist["edges"], hist["counts"],
        title=f"{summary['pairs']} mined pairs ({summary['mode']}, k={summary['k']})",
        xlabel="ratio-margin score (clipped to the axis)", threshold=summary["threshold"],
    )  # fmt: skip
    atomic.atomic_write_json(fileio.join(folder, SUMMARY), summary)


def _publish_folder(staged: str, out: str, summary: dict) -> None:
    """Makes the staged folder the output: a rename locally; remotely, every file is
    copied and summary.json last (its presence marks a complete output)."""
    if not fileio.is_remote(out) and not fileio.is_remote(staged):
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        output_dirs.remove_debris_beside(out)
        try:
            output_dirs.replace_folder(staged, out, output_dirs.MINED)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            tmp = output_dirs.temp_beside(out)  # another file system: copy, then rename
            shutil.copytree(staged, tmp)
            output_dirs.replace_folder(tmp, out, output_dirs.MINED)
            shutil.rmtree(staged)
        return
    if fileio.exists(out):  # remotely, only a folder our summary marks is replaced
        if not fileio.exists(fileio.join(out, SUMMARY)):
            raise output_dirs.NotOursError(
                f"--out={out} has no {SUMMARY}: `lealla mine` did not write it; refusing to "
                f"replace it"
            )
        fileio.remove_folder(out)
    fileio.makedirs(out)
    for name in [*summary["files"], CHART, SUMMARY]:
        atomic.copy_file(fileio.join(staged, name), fileio.join(out, name))
    fileio.remove_folder(staged)
