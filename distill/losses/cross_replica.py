"""Gathering a batch from every replica, so in-batch losses see the global batch."""

from __future__ import annotations

import tensorflow as tf


def gather_global(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Concatenates `x` from all replicas along axis 0 (differentiably).

    In a replica context of a multi-replica strategy this is LaBSE's cross-accelerator
    negative sampling: each replica scores its rows against every replica's rows.
    Elsewhere (eager, default strategy, one replica) it returns `x` unchanged.

    Args:
      x: [local_batch, ...] tensor.

    Returns:
      (global_x [num_replicas * local_batch, ...], offset of this replica's rows in
      global_x as an int32 scalar, num_replicas as a float32 scalar).
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x, tf.constant(0, tf.int32), tf.constant(1.0)
    if x.dtype == tf.bool:  # all_gather does not take bool
        global_x = tf.cast(context.all_gather(tf.cast(x, tf.int32), axis=0), tf.bool)
    else:
        global_x = context.all_gather(x, axis=0)
    replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
    offset = replica * tf.shape(x)[0]
    return global_x, offset, tf.cast(context.num_replicas_in_sync, tf.float32)


_NEG_INF = -1e9


def bidirectional_in_batch_loss(src, tgt, valid, logits_fn) -> tf.Tensor:
    """Classifies each row's translation among the global batch, both directions.

        L = 1/|V| sum_{i in V} [ CE(logits(x_i, Y), i) + CE(logits(y_i, X), i) ]

    i runs over this replica's valid rows, candidates over the valid rows of all
    replicas (invalid candidates are masked out). Shared by the AMS and InfoNCE losses,
    which differ only in `logits_fn`.

    Args:
      src, tgt: float32 [local_batch, d], row i of one translating row i of the other.
      valid: bool [local_batch] or None (all rows valid).
      logits_fn: (queries [b, d], candidates [n, d], positives int32 [b]) -> logits [b, n].

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L).
    """
    if valid is None:
        valid = tf.ones(tf.shape(src)[:1], tf.bool)
    all_src, offset, _ = gather_global(src)
    all_tgt, _, _ = gather_global(tgt)
    all_valid, _, _ = gather_global(valid)
    positives = offset + tf.range(tf.shape(src)[0])

    def direction(queries, candidates):
        logits = logits_fn(queries, candidates, positives)
        logits = tf.where(all_valid[None, :], logits, _NEG_INF)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=logits)

    per_row = direction(src, all_tgt) + direction(tgt, all_src)
    global_count = tf.maximum(tf.reduce_sum(tf.cast(all_valid, tf.float32)), 1.0)
    return tf.reduce_sum(per_row * tf.cast(valid, tf.float32)) / global_count
