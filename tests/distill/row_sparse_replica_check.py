"""One RowSparseAdamW training step on 2 replicas and on one device; prints JSON.

Run by tests/distill/test_row_sparse_adamw.py in a fresh interpreter.
"""

import json

import numpy as np
import tensorflow as tf

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from lealla.models.distill.row_sparse_adamw import RowSparseAdamW  # noqa: E402

RNG = np.random.default_rng(3)
TABLE = RNG.normal(size=(30, 4)).astype(np.float32)
IDS = np.array(
    [[1, 2, 5], [2, 7, 7], [5, 9, 1], [11, 2, 3]], np.int32
)  # rows 2, 5, 1 on both halves
TARGET = RNG.normal(size=(4, 4)).astype(np.float32)


def train(strategy) -> np.ndarray:
    with strategy.scope():
        table = keras.Variable(TABLE, name="embeddings")
        optimizer = RowSparseAdamW(learning_rate=0.1, weight_decay=0.01, global_clipnorm=100.0)
        optimizer.build([table])
    replicas = strategy.num_replicas_in_sync

    def step(ids, target):
        with tf.GradientTape() as tape:
            pooled = tf.reduce_mean(tf.gather(table, ids), axis=1)
            # Each replica's share of the global mean loss.
            loss = tf.reduce_sum(tf.square(pooled - target)) / len(IDS)
        optimizer.apply_gradients([(tape.gradient(loss, table), table)])

    data = tf.data.Dataset.from_tensor_slices((IDS, TARGET)).batch(len(IDS))
    for ids, target in strategy.experimental_distribute_dataset(data):
        tf.function(lambda i, t: strategy.run(step, args=(i, t)))(ids, target)
    assert replicas in (1, 2)
    return table.numpy()


one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
moved = sorted(np.flatnonzero(np.abs(two - TABLE).sum(axis=1) > 0).tolist())
print(
    json.dumps(
        {
            "one_device": one.tolist(),
            "two_replicas": two.tolist(),
            "rows_moved": moved,
            "rows_touched": sorted(set(IDS.ravel().tolist())),
        }
    )
)
