"""A training run as export and the encoder loader read it: the typed view of a model_dir.

`read_run` is the one reader of distill_config.json's settings outside distill/ (which
owns the whole DistillConfig): a setting export needs is one field here, read by its
place in the config's sections (`data.seq_length`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from lealla.files.json_shape import read_json_object
from lealla.records import run_layout

# The settings read here, by their place in distill_config.json's sections, and what
# an absent one means: DistillConfig's default (tests/distill/test_run_folder.py keeps
# the two the same). Another absent setting reads as None.
DEFAULTS: Mapping[str, Any] = {
    "objective.name": "lealla",
    "data.seq_length": 64,
    "trainer.steps": 10_000,
    "data.on_bad_line": "error",
}
# The settings a model card reports under "training", by key: these, and the Matryoshka
# widths (the chosen objective's).
_REPORTED_PATHS: Mapping[str, str] = {
    "train_data": "data.train_data", "dev_data": "data.dev_data", "steps": "trainer.steps",
    "batch_size": "data.batch_size", "learning_rate": "optimizer.learning_rate",
    "teacher_cache": "teacher.cache", "vocab": "student.vocab",
}  # fmt: skip
REPORTED_SETTINGS = (*_REPORTED_PATHS, "matryoshka_dims")


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """What a run's folder says about the run.

    Attributes:
      model_dir: the run's folder.
      teacher: the teacher's registry name or handle (None: the run had none).
      objective: the training objective ("lealla", "ems", ...).
      seq_length: the packed input length it trained with.
      steps: its step budget.
      matryoshka_dims: the embedding prefixes it trained besides the full width.
      train_data: its training data specs.
      dev_data: its parallel dev data specs.
      on_bad_line: how it treated malformed lines (export reads its data the same way).
      reported: the settings a model card reports (REPORTED_SETTINGS and the Matryoshka
        widths; None when unset).
      student: the student's shape (student_config.json).
      command: the `lealla distill` command (None: a run from before it was recorded).
      best: best/best.json, the kept checkpoint's step and dev scores (None: none kept).
      metrics: metrics.json, the final step's losses and scores (None: not finished).
    """

    model_dir: str
    teacher: str | None
    objective: str
    seq_length: int
    steps: int
    matryoshka_dims: tuple[int, ...]
    train_data: tuple[str, ...]
    dev_data: tuple[str, ...]
    on_bad_line: str
    reported: Mapping[str, Any]
    student: Mapping[str, Any]
    command: str | None = None
    best: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | None = None

    @property
    def tokenizer_dir(self) -> str:
        return os.path.join(self.model_dir, run_layout.TOKENIZER_DIR)

    def checkpoint(self, which: str = "best") -> str:
        """The checkpoint prefix to restore (`run_layout.checkpoint_path`)."""
        return run_layout.checkpoint_path(self.model_dir, which)

    def trained_dims(self, width: int) -> list[int]:
        """The widths the run trained as embeddings: its Matryoshka prefixes and `width`,
        the full one."""
        return sorted({*self.matryoshka_dims, int(width)})


def read_run(model_dir: str) -> RunRecord:
    """Reads the record of the run in `model_dir`.

    Raises:
      ValueError: not a training run's folder, a file of it that is no JSON object, or
        a run written by an earlier version (flat settings), naming the file.
    """
    if not run_layout.is_model_dir(model_dir):
        raise ValueError(
            f"{model_dir} is not a training model_dir (expected {run_layout.RUN_CONFIG}, "
            f"{run_layout.STUDENT_CONFIG} and {run_layout.TOKENIZER_DIR}/ in it)"
        )
    settings = run_layout.read_run_config(model_dir)

    def setting(path: str) -> Any:
        value = run_layout.run_setting(settings, path, DEFAULTS.get(path))
        return tuple(value) if isinstance(value, list) else value

    matryoshka_dims = tuple(run_layout.trained_dims(settings))

    return RunRecord(
        model_dir=model_dir,
        teacher=setting("teacher.name"),
        objective=setting("objective.name"),
        seq_length=int(setting("data.seq_length")),
        steps=int(setting("trainer.steps")),
        matryoshka_dims=matryoshka_dims,
        train_data=setting("data.train_data") or (),
        dev_data=setting("data.dev_data") or (),
        on_bad_line=setting("data.on_bad_line"),
        reported={
            **{key: setting(path) for key, path in _REPORTED_PATHS.items()},
            "matryoshka_dims": matryoshka_dims,
        },
        student=read_json_object(os.path.join(model_dir, run_layout.STUDENT_CONFIG)),
        command=_read_text(os.path.join(model_dir, run_layout.RUN_COMMAND)),
        best=_read_optional(os.path.join(model_dir, run_layout.BEST_FILE)),
        metrics=_read_optional(os.path.join(model_dir, run_layout.METRICS_FILE)),
    )


def _read_optional(path: str) -> dict | None:
    return read_json_object(path) if os.path.isfile(path) else None


def _read_text(path: str) -> str | None:
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()
