"""A training run's folder (model_dir) as distill writes it: the settings (saved, and
compared on resume), the checkpoint managers, best.json and metrics.json.

`lealla.records.run_layout` names the files; `lealla.records.run_record` reads a run back.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import tensorflow as tf
from absl import logging

from lealla.files import atomic
from lealla.models.distill.distill_config import RESUMABLE_CHANGES, DistillConfig
from lealla.records import run_layout
from lealla.records.run_record import RunRecord, read_run

# What the first start derives from the settings: a start over with other settings
# removes them.
_DERIVED = (run_layout.TOKENIZER_DIR, run_layout.STUDENT_CONFIG, run_layout.LANGUAGES_FILE,
            run_layout.DEV_MONO_TEACHER)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """The folder of one training run (`path`, the --model_dir)."""

    path: str

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def has_checkpoint(self) -> bool:
        """Whether a training checkpoint was written (a folder without one is no run yet)."""
        return run_layout.has_checkpoint(self.path)

    def save_config(self, config: DistillConfig) -> None:
        """Saves the settings (and the command that gives them), creating the folder.

        A run with a checkpoint resumes only with the same settings, but for
        RESUMABLE_CHANGES; a folder without one starts over with the new settings.

        Raises:
          ValueError: the folder holds a run with other settings (naming them).
        """
        os.makedirs(self.path, exist_ok=True)
        path = self.file(run_layout.RUN_CONFIG)
        if os.path.isfile(path):
            saved = self.saved_config()
            changed = config.changes_against(saved)
            if changed and not self.has_checkpoint():
                # A run that failed before its first checkpoint is not a run yet: start over
                # with the new settings (the files derived from the old ones go too).
                self._remove_derived()
                logging.warning(
                    "%s has no checkpoint yet: starting over with the new settings (%s changed)",
                    self.path, ", ".join(changed),
                )  # fmt: skip
                changed = []
            if changed:
                details = "; ".join(
                    f"{k}: saved {saved.get(k)!r}, now {config.get(k)!r}" for k in changed
                )
                raise ValueError(
                    f"{self.path} holds a run with other settings ({details}); use another "
                    f"--model_dir, or the saved settings (only "
                    f"{', '.join(RESUMABLE_CHANGES)} may change)"
                )
        config.to_json_file(path)
        # Rewritten on every start: a resumed run may change RESUMABLE_CHANGES (--steps).
        name = os.path.basename(os.path.normpath(self.path))
        atomic.atomic_write_text(
            self.file(run_layout.RUN_COMMAND), config.command_line(name) + "\n"
        )

    def saved_config(self) -> DistillConfig:
        """The settings the run was started with (an unknown key, or a run of an earlier
        version, is refused naming the file)."""
        values = run_layout.read_run_config(self.path)
        try:
            return DistillConfig.from_dict(values)
        except ValueError as e:
            raise ValueError(f"{self.file(run_layout.RUN_CONFIG)}: {e}") from None

    def _remove_derived(self) -> None:
        for name in _DERIVED:
            target = self.file(name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.isfile(target):
                os.remove(target)

    def checkpoint_manager(
        self, checkpoint: tf.train.Checkpoint, keep: int
    ) -> tf.train.CheckpointManager:
        """The training checkpoints (checkpoints/, the newest `keep`)."""
        return tf.train.CheckpointManager(checkpoint, self.file(run_layout.CHECKPOINTS_DIR), keep)

    def best_manager(self, checkpoint: tf.train.Checkpoint) -> tf.train.CheckpointManager:
        """The best checkpoint on the dev score (best/, one)."""
        return tf.train.CheckpointManager(checkpoint, self.file(run_layout.BEST_DIR), max_to_keep=1)

    def read_best(self) -> dict | None:
        """best.json: the kept checkpoint's step and dev scores (None: none kept yet)."""
        path = self.file(run_layout.BEST_FILE)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def write_best(self, record: dict) -> None:
        atomic.atomic_write_text(self.file(run_layout.BEST_FILE), json.dumps(record, indent=2))

    def write_metrics(self, metrics: dict) -> None:
        """metrics.json: the final step's losses and dev scores."""
        atomic.atomic_write_text(self.file(run_layout.METRICS_FILE), json.dumps(metrics, indent=2))

    def summary_writer(self, name: str):
        """The TensorBoard writer of summaries/`name` (train, dev)."""
        return tf.summary.create_file_writer(
            os.path.join(self.path, run_layout.SUMMARIES_DIR, name)
        )

    def record(self) -> RunRecord:
        """The run as export reads it."""
        return read_run(self.path)
