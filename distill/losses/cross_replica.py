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
