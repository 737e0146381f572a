"""Bidirectional additive-margin softmax over in-batch translation pairs (LaBSE's loss)."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import bidirectional_in_batch_loss

# LaBSE's public implementation (TF Model Garden, projects/labse) on unit vectors.
DEFAULT_SCALE = 100.0
DEFAULT_MARGIN = 0.3


def bidirectional_additive_margin_loss(
    src: tf.Tensor,
    tgt: tf.Tensor,
    *,
    scale: float = DEFAULT_SCALE,
    margin: float = DEFAULT_MARGIN,
    valid: tf.Tensor | None = None,
) -> tf.Tensor:
    """Additive-margin softmax in both directions, negatives from the global batch.

        phi_ij = scale * (x_i . y_j - margin * [i == j])
        L      = 1/|V| sum_{i in V} [ -log softmax_j(phi_ij)_i - log softmax_j(phi_ji)_i ]

    over the global batch (all replicas), j running over the valid candidates V.
    Inputs must be L2-normalized. Scale is an inverse temperature: scale 100 is
    temperature 0.01.

    Args:
      src: float [local_batch, d], unit-length source embeddings.
      tgt: float [local_batch, d], unit-length embeddings of their translations.
      scale: logit scale (LaBSE: 100).
      margin: additive margin subtracted from the positive pair's cosine (LaBSE: 0.3).
      valid: optional bool [local_batch]: rows that are real pairs (monolingual
        rows in a mixed batch are neither queries nor candidates).

    Returns:
      float32 scalar: this replica's share of L, so that the sum over replicas (what
      gradient all-reduce computes) is L on the concatenated global batch.

    Reference: Feng et al., "Language-agnostic BERT Sentence Embedding", ACL 2022
      (arXiv 2007.01852); Yang et al., IJCAI 2019 (additive margin for dual encoders).
    Relations: `logit_distillation_loss` regresses the same similarity matrix onto
      the teacher's instead of classifying it.
    """

    def logits(queries, candidates, positives):
        cosine = tf.matmul(queries, candidates, transpose_b=True)  # [b, n]
        positive_mask = tf.one_hot(positives, tf.shape(candidates)[0])
        return scale * (cosine - margin * positive_mask)

    return bidirectional_in_batch_loss(
        tf.cast(src, tf.float32), tf.cast(tgt, tf.float32), valid, logits
    )
