"""A training model_dir -> the student as a `SentenceEncoder` (tokenizer + backbone + weights).

Reads what a run leaves behind (`lealla.records.run_record.RunRecord`): the packed
length (`data.seq_length`), the student's shape, `tokenizer/` and the `best/` or
`checkpoints/` checkpoint, of which only the `student` object is restored: the
distillation projection and the EMS heads stay behind.
"""

from __future__ import annotations

import tensorflow as tf

from lealla.models.students.sentence_encoder import SentenceEncoder
from lealla.models.students.student_config import StudentConfig

# The run's files are read in lealla.records (distill reads runs too); callers of this
# module keep using these from here.
from lealla.records.run_layout import checkpoint_path, is_model_dir, load_tokenizer
from lealla.records.run_record import RunRecord, read_run

__all__ = [
    "RunRecord", "checkpoint_path", "is_model_dir", "load_tokenizer", "read_run",
    "restore_sentence_encoder",
]  # fmt: skip


def restore_sentence_encoder(
    model_dir: str, checkpoint: str = "best", seq_length: int | None = None
) -> SentenceEncoder:
    """Rebuilds the student of `model_dir` with its trained weights, float32.

    Args:
      model_dir: a training run's folder.
      checkpoint: `best` (best dev retrieval, else latest) or `latest`.
      seq_length: longest packed input; default: the run's training seq_length.

    Raises:
      ValueError: not a model_dir, no checkpoint, or a checkpoint without the
        student's variables.
    """
    run = read_run(model_dir)
    tokenizer, _ = load_tokenizer(model_dir)
    student_config = StudentConfig.from_dict(dict(run.student))
    # Exports and evaluation run in float32 whatever the training policy was.
    backbone = StudentConfig.from_dict(
        {**student_config.to_dict(), "dtype_policy": "float32", "dropout": 0.0}
    ).build()
    path = run.checkpoint(checkpoint)
    try:
        status = tf.train.Checkpoint(student=backbone).restore(path).expect_partial()
    except (IndexError, tf.errors.OpError) as e:  # a truncated .data or .index file
        other = "latest" if checkpoint == "best" else "best"
        raise ValueError(
            f"{path}: the checkpoint is damaged ({str(e).strip().splitlines()[0]}); use "
            f"--checkpoint={other}, or rerun the training command to write a new one"
        ) from None
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        raise ValueError(
            f"{path}: the checkpoint does not hold this student's weights: {e}"
        ) from None
    length = seq_length or run.seq_length
    length = min(length, student_config.max_sequence_length)
    return SentenceEncoder(tokenizer, backbone, length)
