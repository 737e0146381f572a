"""Checks of an export: the reloaded SavedModel reproduces the student, and float16
weights keep its embeddings (both refused with numbers when they do not)."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from lealla.models.export import tflite_export
from lealla.models.export.sample_text import probe_sentences

LABSE_DIR = "labse_format"
PREPROCESSOR_DIR = os.path.join(LABSE_DIR, "preprocessor")
ENCODER_DIR = os.path.join(LABSE_DIR, "encoder")
# float16 weights: the bar of the float16 TFLite variant (mean cosine on the probes).
MIN_FLOAT16_COSINE = tflite_export.MIN_COSINE["float16"]


class ExportVerificationError(RuntimeError):
    """The reloaded export does not reproduce the in-memory student's embeddings."""


def verify_export(path: str, encoder, tolerance: float, labse_format: bool) -> dict:
    """Reloads the export at `path` and compares it with `encoder` on multilingual probes.

    Returns:
      {"sentences", "max_abs_diff", "labse_format_max_abs_diff"}.

    Raises:
      ExportVerificationError: a difference above `tolerance`.
    """
    texts = probe_sentences()
    expected = encoder.encode(texts)
    loaded = tf.saved_model.load(path)
    got = loaded(tf.constant(texts)).numpy()
    checks = {"sentences": len(texts), "max_abs_diff": float(np.abs(got - expected).max())}
    if labse_format:
        pre = tf.saved_model.load(os.path.join(path, PREPROCESSOR_DIR))
        enc = tf.saved_model.load(os.path.join(path, ENCODER_DIR))
        pair = enc(pre(tf.constant(texts)))["default"].numpy()
        checks["labse_format_max_abs_diff"] = float(np.abs(pair - expected).max())
    for name in ("max_abs_diff", "labse_format_max_abs_diff"):
        if checks.get(name, 0.0) > tolerance:
            raise ExportVerificationError(
                f"reloaded export differs from the trained student: {name}={checks[name]:.3g} "
                f"> tolerance {tolerance:g} on {len(texts)} sentences"
            )
    return checks


def round_weights(encoder, dtype: str, dev: tflite_export.DevSets | None = None) -> dict | None:
    """Rounds the encoder's floating weights to `dtype` in place, as the export stores them.

    With `dev` (an export), the rounding is measured first: the mean and least cosine to
    the float32 encoder on the probe sentences, and the dev retrieval accuracy of both.

    Returns:
      Those measurements; None for float32 (nothing to round).

    Raises:
      ExportVerificationError: a mean cosine under MIN_FLOAT16_COSINE (with `dev` given).
    """
    if dtype == "float32":
        return None
    texts = probe_sentences()
    measure = dev is not None
    if measure:
        reference = encoder.encode(texts)
        reference_accuracy = tflite_export.dev_accuracy(encoder.encode, dev) if dev else None
    for variable in encoder.backbone.variables:
        if variable.value.dtype.is_floating:
            variable.assign(tf.cast(tf.cast(variable.value, dtype), variable.value.dtype))
    if not measure:
        return None
    cosine = np.sum(encoder.encode(texts) * reference, axis=1)
    accuracy = tflite_export.dev_accuracy(encoder.encode, dev) if dev else None
    report = {
        "dtype": dtype, "compute_dtype": "float32", "sentences": len(texts),
        "cosine_to_float32_mean": float(cosine.mean()),
        "cosine_to_float32_min": float(cosine.min()),
        "dev_accuracy": accuracy, "float32_dev_accuracy": reference_accuracy,
    }  # fmt: skip
    if report["cosine_to_float32_mean"] < MIN_FLOAT16_COSINE:
        dev_note = "" if accuracy is None else (
            f"; dev retrieval accuracy {accuracy:.4f} vs {reference_accuracy:.4f} in float32"
        )  # fmt: skip
        raise ExportVerificationError(
            f"--weights_dtype={dtype} refused: mean cosine to the float32 model "
            f"{cosine.mean():.5f} < {MIN_FLOAT16_COSINE} (least {cosine.min():.5f}, "
            f"{len(texts)} probe sentences{dev_note}); export with --weights_dtype=float32"
        )
    return report
