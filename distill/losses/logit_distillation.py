"""Logit distillation: regress the student's in-batch similarity matrix onto the teacher's."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import gather_global

DEFAULT_SCALE = 10.0


def logit_distillation_loss(
    student_src: tf.Tensor,
    student_tgt: tf.Tensor,
    teacher_src: tf.Tensor,
    teacher_tgt: tf.Tensor,
    *,
    scale: float = DEFAULT_SCALE,
    valid: tf.Tensor | None = None,
) -> tf.Tensor:
    """Mean squared difference between student and teacher source x target logits.

        S_ij = scale * x_i . y_j     (student, unit vectors)
        T_ij = scale * u_i . v_j     (teacher, unit vectors)
        L    = 1/(|V| |V|) sum_{i, j in V} (S_ij - T_ij)^2

    i runs over the global batch's source rows, j over its target rows (all
    replicas), restricted to valid pairs V. Scale multiplies both cosines (so L is
    scale^2 times the MSE of cosines); 10 puts the loss at O(1) for typical gaps.

    Args:
      student_src, student_tgt: float [local_batch, d_s], unit length.
      teacher_src, teacher_tgt: float [local_batch, d_t], unit length.
      scale: logit scale applied to both matrices.
      valid: optional bool [local_batch]: rows that are real pairs.

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L).

    Reference: LEALLA (arXiv 2302.08387), logit distillation.
    Relations: the same matrix that `bidirectional_additive_margin_loss` classifies.
    """
    cast = [tf.cast(t, tf.float32) for t in (student_src, student_tgt, teacher_src, teacher_tgt)]
    student_src, student_tgt, teacher_src, teacher_tgt = cast
    if valid is None:
        valid = tf.ones(tf.shape(student_src)[:1], tf.bool)
    all_student_tgt, _, _ = gather_global(student_tgt)
    all_teacher_tgt, _, _ = gather_global(teacher_tgt)
    all_valid, _, _ = gather_global(valid)
    student_logits = scale * tf.matmul(student_src, all_student_tgt, transpose_b=True)
    teacher_logits = scale * tf.matmul(teacher_src, all_teacher_tgt, transpose_b=True)
    pair_mask = tf.cast(valid[:, None] & all_valid[None, :], tf.float32)
    n = tf.reduce_sum(tf.cast(all_valid, tf.float32))
    squared = tf.square(student_logits - teacher_logits) * pair_mask
    return tf.reduce_sum(squared) / tf.maximum(n * n, 1.0)
