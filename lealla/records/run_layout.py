"""The files of a training run's model_dir: written by distill/, read by export/ and the CLI.

distill_config.json   the run's settings (DistillConfig)
distill_command.txt   the `lealla distill` command with those settings (the model card quotes it)
student_config.json   the student's shape (StudentConfig)
tokenizer/            the student's tokenizer (+ pruning.json and old_ids.npy when it
                      is the teacher's vocabulary pruned to the data)
languages.json        the XTR head's language table (EMS objectives)
dev_mono_teacher.npz  the teacher's embeddings of --dev_mono_data and their sha256 (first start)
"""

from __future__ import annotations

import os

import numpy as np

RUN_CONFIG = "distill_config.json"
RUN_COMMAND = "distill_command.txt"
STUDENT_CONFIG = "student_config.json"
TOKENIZER_DIR = "tokenizer"
LANGUAGES_FILE = "languages.json"
# The teacher's embeddings of --dev_mono_data (with the sha256 of the sentences), computed
# on the first start, so a resumed run needs no teacher for its agreement signal.
DEV_MONO_TEACHER = "dev_mono_teacher.npz"
# Which checkpoint of a run to read: the best on the dev score (retrieval accuracy, plus
# teacher agreement with --dev_mono_data; the latest if none), or the latest.
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
        path = tf.train.latest_checkpoint(os.path.join(model_dir, "best"))
    if path is None:
        path = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    if path is None:
        raise ValueError(f"{model_dir}: no checkpoint in best/ or checkpoints/ (train first)")
    return path
