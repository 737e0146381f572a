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
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from lealla.files.json_shape import read_json_object

RUN_CONFIG = "distill_config.json"
RUN_COMMAND = "distill_command.txt"
STUDENT_CONFIG = "student_config.json"
TOKENIZER_DIR = "tokenizer"
LANGUAGES_FILE = "languages.json"
# The teacher's embeddings of --data.dev_mono_data (with the sha256 of the sentences), computed
# on the first start, so a resumed run needs no teacher for its agreement signal.
DEV_MONO_TEACHER = "dev_mono_teacher.npz"
# Which checkpoint of a run to read: the best on the dev score (retrieval accuracy, plus
# teacher agreement with --data.dev_mono_data; the latest if none), or the latest.
CHECKPOINTS = ("best", "latest")


def load_tokenizer(model_dir: str):
    """The run's saved tokenizer -> (tokenizer, old_ids or None).

    old_ids maps the student's token ids to the teacher's when the vocabulary is the
    teacher's pruned one; None for any other vocabulary.
    """
    from lealla.tokenization import tokenizer as tokenizer_lib
    from lealla.tokenization import vocab_pruning

    path = os.path.join(model_dir, TOKENIZER_DIR)
    if os.path.isfile(os.path.join(path, vocab_pruning.PRUNING_JSON)):
        tok, pruned = vocab_pruning.load_pruned(path)
        return tok, np.asarray(pruned.old_ids)
    return tokenizer_lib.load_tokenizer(path), None


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
        path = tf.train.latest_checkpoint(os.path.join(model_dir, "best"))
    if path is None:
        path = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    if path is None:
        raise ValueError(f"{model_dir}: no checkpoint in best/ or checkpoints/ (train first)")
    return path


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
