"""Encoder specs -> `TextEncoder`: the one resolver behind `lealla.load_encoder` and every
`--encoder` flag.

A spec is a registry name (`use-multilingual`, `labse`, `lealla-small`, ...), a TF
Hub/Kaggle handle, an exported SavedModel folder, a training `--model_dir`, or an
exported `model*.tflite` file.
"""

from __future__ import annotations

import functools
import os

from lealla.embeddings.text_encoder import BatchEncoder, TextEncoder
from lealla.records import run_layout


def load_encoder(spec: str, checkpoint: str = "best") -> TextEncoder:
    """Loads any encoder the toolkit knows as a `TextEncoder`.

    Args:
      spec: a registry name, TF Hub/Kaggle handle, exported SavedModel folder, training
        `--model_dir` or `.tflite` file.
      checkpoint: for a training `--model_dir`: `best` (the best dev checkpoint; the
        latest when none was kept) or `latest`.

    Returns:
      A `TextEncoder`: `encode(texts) -> float32 [n, dim]`, unit-length rows in input
      order; `.dim`, `.name` (the spec).

    Raises:
      ValueError: the spec names nothing loadable (the message says what was tried),
        or `checkpoint` is not one of `run_layout.CHECKPOINTS`.
      lealla.models.teachers.loading.TeacherUnavailableError: a remote handle is unreachable.

    Example:
      >>> import lealla
      >>> encoder = lealla.load_encoder("use-multilingual")  # offline, built on first use
      >>> embeddings = encoder.encode(["Hello world", "Hallo Welt"])
      >>> embeddings.shape == (2, encoder.dim), embeddings.dtype.name
      (True, 'float32')
      >>> round(float(embeddings[0] @ embeddings[1]), 1) > 0.5  # translations land close
      True
    """
    if checkpoint not in run_layout.CHECKPOINTS:
        raise ValueError(
            f"checkpoint must be one of {', '.join(run_layout.CHECKPOINTS)}, got {checkpoint!r}"
        )
    if spec.endswith(".tflite") and os.path.isfile(spec):
        # export/ imports TensorFlow Lite: loaded only for a .tflite spec.
        from lealla.models.export.tflite_model import TFLiteEncoder

        model = TFLiteEncoder(spec)
        return BatchEncoder(spec, model.embedding_dim, model)
    if os.path.isdir(spec) and run_layout.is_model_dir(spec):
        # export/ and students/ import TensorFlow: loaded only for a run folder.
        import tensorflow as tf

        from lealla.models.export import restore

        student = restore.restore_sentence_encoder(spec, checkpoint=checkpoint)
        return BatchEncoder(
            spec, int(student.backbone.embedding_dim),
            lambda batch: student(tf.constant(batch, tf.string)).numpy(),
        )  # fmt: skip
    # teachers/ imports TensorFlow (and TF Hub): loaded only when a module is wanted.
    from lealla.models.teachers import loading

    return teacher_encoder(loading.load_teacher(spec), spec)


def teacher_encoder(teacher, name: str | None = None) -> TextEncoder:
    """A loaded teacher (`lealla.models.teachers.teacher`) or export as a TextEncoder."""
    import tensorflow as tf  # a Teacher exists only once TensorFlow is loaded

    return BatchEncoder(
        name or teacher.handle, int(teacher.embedding_dim),
        lambda batch: teacher.embed(tf.constant(batch, tf.string)).numpy(),
    )  # fmt: skip


def loader(encoder: TextEncoder | str):
    """`encoder`, or a picklable function that loads the spec (called once inputs are valid)."""
    return functools.partial(load_encoder, encoder) if isinstance(encoder, str) else encoder
