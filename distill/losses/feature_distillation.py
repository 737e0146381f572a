"""Feature distillation: regress the (projected) student embedding onto the teacher's."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import gather_global

KINDS = ("squared_error", "mse", "cosine")


def feature_distillation_loss(
    student: tf.Tensor,
    teacher: tf.Tensor,
    *,
    kind: str = "squared_error",
    weights: tf.Tensor | None = None,
) -> tf.Tensor:
    """Distance between student embeddings (projected to the teacher's width) and the teacher's.

        squared_error: l_i = sum_d (s_id - t_id)^2            (= d * mse_i)
        mse:           l_i = 1/d sum_d (s_id - t_id)^2
        cosine:        l_i = 1 - s_i . t_i / (|s_i| |t_i|)
        L = sum_i w_i l_i / sum_i w_i   over the global batch

    Why "squared_error" is the default: teacher targets are unit vectors, so each
    dimension has variance about 1/d; per-dimension MSE is then ~1/d as large as
    the signal that distinguishes sentences and a student can sit at the mean
    embedding with a near-zero loss (sentence-transformers' plain MSE recipe
    collapses so). Summing over dimensions restores an O(1) loss.

    Args:
      student: float [local_batch, d], the student embedding after the trainable
        projection to the teacher's width d (dropped at export).
      teacher: float [local_batch, d], the teacher's embeddings (unit length).
      kind: one of "squared_error", "mse", "cosine".
      weights: optional float [local_batch] (e.g. 0 for monolingual targets).

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L).

    Reference: LEALLA (arXiv 2302.08387), feature distillation; Reimers & Gurevych
      2020 (arXiv 2004.09813) for plain MSE.
    Relations: `logit_distillation_loss` matches similarities instead of features.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    student = tf.cast(student, tf.float32)
    teacher = tf.cast(teacher, tf.float32)
    if kind == "cosine":
        per_example = 1.0 - tf.reduce_sum(
            tf.math.l2_normalize(student, -1) * tf.math.l2_normalize(teacher, -1), -1
        )
    else:
        per_example = tf.reduce_sum(tf.square(student - teacher), -1)
        if kind == "mse":
            per_example /= tf.cast(tf.shape(student)[-1], tf.float32)
    if weights is None:
        weights = tf.ones_like(per_example)
    weights = tf.cast(weights, tf.float32)
    all_weights, _, _ = gather_global(weights)
    return tf.reduce_sum(per_example * weights) / tf.maximum(tf.reduce_sum(all_weights), 1e-9)
