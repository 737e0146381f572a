"""In-batch contrastive loss (InfoNCE) over translation pairs, both directions."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import bidirectional_in_batch_loss

DEFAULT_TEMPERATURE = 0.1  # EMS (arXiv 2205.15744)


def bidirectional_contrastive_loss(
    src: tf.Tensor,
    tgt: tf.Tensor,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    valid: tf.Tensor | None = None,
) -> tf.Tensor:
    """InfoNCE with cosine similarity in both directions, negatives from the global batch.

        s_ij = cos(z_i, w_j) / temperature
        L    = 1/|V| sum_{i in V} [ -log softmax_j(s_ij)_i - log softmax_j(s_ji)_i ]

    z, w are the projection head's outputs for sources and their translations
    (normalized here), i runs over this replica's valid rows and j over the valid
    rows of all replicas. Temperature 0.1 is scale 10 in `additive_margin` terms.

    Args:
      src: float [local_batch, d], projected source embeddings (any length).
      tgt: float [local_batch, d], projected embeddings of their translations.
      temperature: softmax temperature (> 0; EMS: 0.1).
      valid: optional bool [local_batch]: rows that are real pairs (monolingual
        rows are neither queries nor candidates).

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L).

    Raises:
      ValueError: temperature <= 0.

    Reference: Mao, Chu & Kurohashi, EMS (arXiv 2205.15744), sentence-level
      contrastive loss; van den Oord et al. 2018 (arXiv 1807.03748), InfoNCE.
    Relations: `bidirectional_additive_margin_loss` with margin 0 and scale
      1/temperature on the normalized vectors.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    src = tf.math.l2_normalize(tf.cast(src, tf.float32), axis=-1)
    tgt = tf.math.l2_normalize(tf.cast(tgt, tf.float32), axis=-1)

    def logits(queries, candidates, positives):
        return tf.matmul(queries, candidates, transpose_b=True) / temperature  # [b, n]

    return bidirectional_in_batch_loss(src, tgt, valid, logits)
