"""The files of a training run's model_dir: written by distill/, read by export/ and the CLI.

distill_config.json   the run's settings (DistillConfig): one object per section; the
                      objective section holds each objective's settings under its key
distill_command.txt   the `lealla distill` command with those settings (the model card quotes it)
student_config.json   the student's shape (StudentConfig)
tokenizer/            the student's tokenizer (+ pruning.json and old_ids.npy when it
                      is the teacher's vocabulary pruned to the data)
languages.json        the XTR head's language table (EMS objectives)
dev_mono_teacher.npz  the teacher's embeddings of --data.dev_mono_data and their sha256 (first
                      start)
checkpoints/          the newest training checkpoints (`student` is the encoder export restores)
best/                 the checkpoint with the best dev score, and best.json (its step and scores)
summaries/            TensorBoard (train/ and dev/)
metrics.json          the final step's losses and dev scores
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
from absl import logging

from lealla.files.json_shape import read_json_object

RUN_CONFIG = "distill_config.json"
RUN_COMMAND = "distill_command.txt"
STUDENT_CONFIG = "student_config.json"
TOKENIZER_DIR = "tokenizer"
LANGUAGES_FILE = "languages.json"
# The teacher's embeddings of --data.dev_mono_data (with the sha256 of the sentences), computed
# on the first start, so a resumed run needs no teacher for its agreement signal.
DEV_MONO_TEACHER = "dev_mono_teacher.npz"
CHECKPOINTS_DIR = "checkpoints"
BEST_DIR = "best"
BEST_FILE = os.path.join(BEST_DIR, "best.json")
SUMMARIES_DIR = "summaries"
METRICS_FILE = "metrics.json"
# Which checkpoint of a run to read: the best on the dev score (retrieval accuracy, plus
# teacher agreement with --data.dev_mono_data; the latest if none), or the latest.
CHECKPOINTS = ("best", "latest")


def load_tokenizer(model_dir: str):
    """The run's saved tokenizer -> (tokenizer, old_ids or None).

    old_ids maps the student's token ids to the teacher's when the vocabulary is the
    teacher's pruned one; None for any other vocabulary.
    """
    # tokenization imports TensorFlow: only when a run's tokenizer is loaded
    from lealla.tokenization import loading as tokenizer_loading
    from lealla.tokenization import vocab_pruning

    path = os.path.join(model_dir, TOKENIZER_DIR)
    if os.path.isfile(os.path.join(path, vocab_pruning.PRUNING_JSON)):
        tok, pruned = vocab_pruning.load_pruned(path)
        return tok, np.asarray(pruned.old_ids)
    return tokenizer_loading.load_tokenizer(path), None


def is_model_dir(path: str) -> bool:
    """Whether `path` looks like a training run's model_dir."""
    return all(
        os.path.exists(os.path.join(path, name))
        for name in (RUN_CONFIG, STUDENT_CONFIG, TOKENIZER_DIR)
    )


def checkpoint_path(model_dir: str, checkpoint: str = "best") -> str:
    """The checkpoint prefix to restore: `best` falls back to the latest one.

    Raises:
      ValueError: unknown choice, or the run has no checkpoint yet.
    """
    import tensorflow as tf

    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {CHECKPOINTS}, got {checkpoint!r}")
    path = None
    if checkpoint == "best":
        path = tf.train.latest_checkpoint(os.path.join(model_dir, BEST_DIR))
    if path is None:
        path = tf.train.latest_checkpoint(os.path.join(model_dir, CHECKPOINTS_DIR))
    if path is None:
        raise ValueError(f"{model_dir}: no checkpoint in best/ or checkpoints/ (train first)")
    return path


def has_checkpoint(model_dir: str) -> bool:
    """Whether the run has written a training checkpoint (a folder without one is no run yet)."""
    import tensorflow as tf  # TensorFlow stays out of `import lealla`

    return tf.train.latest_checkpoint(os.path.join(model_dir, CHECKPOINTS_DIR)) is not None


def restore_newest_intact(checkpoint, manager) -> str:
    """Restores into `checkpoint` (a tf.train.Checkpoint) the newest of `manager`'s
    checkpoints that reads back whole, and says when it fell back: a kill while saving, a
    full disk or a copy cut short can leave the newest truncated. Returns its path.

    Raises:
      ValueError: no checkpoint of the run is readable (naming them).
    """
    import tensorflow as tf  # TensorFlow stays out of `import lealla`

    damaged = []
    for path in reversed(manager.checkpoints):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
        except (IndexError, tf.errors.OpError) as e:  # truncated .data / .index files
            damaged.append(f"{path} ({str(e).strip().splitlines()[0]})")
            continue
        if damaged:
            logging.warning(
                "checkpoint(s) %s damaged: resuming from the newest intact one, %s",
                "; ".join(damaged), path,
            )  # fmt: skip
        return path
    raise ValueError(
        f"no readable checkpoint in {manager.directory}: {'; '.join(damaged)}; remove that "
        f"folder to start the run over"
    )


def read_run_config(model_dir: str) -> dict[str, Any]:
    """The run's distill_config.json as a dict: {section: {setting: value}}.

    Raises:
      ValueError: not a JSON object, or a run written by an earlier version (one flat
        object of settings), naming the file.
    """
    path = os.path.join(model_dir, RUN_CONFIG)
    values = read_json_object(path)
    if not all(isinstance(v, dict) for v in values.values()):
        raise ValueError(
            f"{path} was written by an earlier version of lealla (flat settings, no sections); "
            f"start a new run in another --model_dir"
        )
    return values


def run_setting(run: dict[str, Any], path: str, default: Any = None) -> Any:
    """A setting of a `read_run_config` dict by its dotted path ("data.dev_data"), or
    `default` when the run records none."""
    value: Any = run
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def objective_key(name: str) -> str:
    """The key of an objective's settings in the objective section (and of its flags,
    `--<key>.<setting>`): its name with "_" for what is not a letter, digit or "_"."""
    return re.sub(r"\W", "_", name)


def trained_dims(run: dict[str, Any]) -> list[int]:
    """The embedding prefixes a run trained: its objective's `matryoshka_dims` ([]: none)."""
    name = run_setting(run, "objective.name", "")
    return [int(m) for m in run_setting(run, f"objective.{objective_key(name)}.matryoshka_dims",
                                        None) or ()]  # fmt: skip
