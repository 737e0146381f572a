"""Contrastive distillation: find the teacher's embedding of a sentence among many others."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import gather_global

DEFAULT_TEMPERATURE = 0.05
_NEG_INF = -1e9


def teacher_contrastive_loss(
    student: tf.Tensor,
    teacher: tf.Tensor,
    bank: tf.Tensor | None = None,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    weights: tf.Tensor | None = None,
) -> tf.Tensor:
    """InfoNCE of student embeddings against teacher embeddings of the batch and a bank.

        z_i = s_i / |s_i|,   C = [t_1 .. t_N (global batch, valid rows); b_1 .. b_K]
        L   = sum_i w_i * -log( exp(z_i . t_i / tau) / sum_{c in C} exp(z_i . c / tau) )
              / sum_i w_i          (i over the global batch)

    The feature term pulls each student embedding to its teacher target; this term
    also pushes it away from the teacher's embeddings of other sentences, so the
    student keeps the teacher's neighbourhoods, not only its coordinates. The bank
    (cached teacher embeddings of other sentences) adds negatives at no teacher cost.

    Args:
      student: float [local_batch, d], the student embedding projected to the
        teacher's width (normalized here).
      teacher: float [local_batch, d], the teacher's unit embeddings (the positives).
      bank: optional float [K, d] unit teacher embeddings of other sentences.
      temperature: tau > 0.
      weights: optional float [local_batch]; rows with weight 0 are neither queries
        nor candidates (e.g. the empty target side of monolingual rows).

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L).

    Reference: Tian et al. 2020 (contrastive representation distillation, arXiv
      1910.10699); He et al. 2020 (MoCo) for the bank of negatives.
    Relations: `feature_distillation_loss` is the regression on the same pairs.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = tf.math.l2_normalize(tf.cast(student, tf.float32), axis=-1)
    teacher = tf.cast(teacher, tf.float32)
    if weights is None:
        weights = tf.ones(tf.shape(z)[:1], tf.float32)
    weights = tf.cast(weights, tf.float32)
    all_teacher, offset, _ = gather_global(teacher)
    all_weights, _, _ = gather_global(weights)
    positives = offset + tf.range(tf.shape(z)[0])
    logits = tf.matmul(z, all_teacher, transpose_b=True) / temperature  # [b, N]
    logits = tf.where(all_weights[None, :] > 0, logits, _NEG_INF)
    if bank is not None:
        bank_logits = tf.matmul(z, tf.cast(bank, tf.float32), transpose_b=True) / temperature
        logits = tf.concat([logits, bank_logits], axis=1)
    per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=logits)
    return tf.reduce_sum(per_row * weights) / tf.maximum(tf.reduce_sum(all_weights), 1e-9)
