"""Compares each loss on a 2-replica MirroredStrategy with one device; prints JSON.

Run by tests/distill/test_losses.py in a fresh interpreter.
"""

import json

import numpy as np
import tensorflow as tf

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from distill.losses import (  # noqa: E402
    bidirectional_additive_margin_loss,
    feature_distillation_loss,
    logit_distillation_loss,
)

LOSSES = {
    "ams": (lambda x, y: bidirectional_additive_margin_loss(x, y, scale=20.0, margin=0.3), (8, 8)),
    "feature": (lambda s, t: feature_distillation_loss(s, t), (8, 8)),
    "logit": (lambda a, b, c, d: logit_distillation_loss(a, b, c, d), (8, 8, 5, 5)),
}


def unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def two_replicas(fn, arrays, strategy):
    variables = [tf.Variable(a) for a in arrays]
    half = arrays[0].shape[0] // 2

    def replica_fn():
        i = tf.distribute.get_replica_context().replica_id_in_sync_group
        with tf.GradientTape() as tape:
            loss = fn(*[v[i * half : (i + 1) * half] for v in variables])
        return loss, tape.gradient(loss, variables)

    loss, grads = strategy.run(tf.function(replica_fn))
    total = sum(float(v) for v in strategy.experimental_local_results(loss))
    summed = [sum(g.numpy() for g in strategy.experimental_local_results(g_)) for g_ in grads]
    return total, summed


def one_device(fn, arrays):
    variables = [tf.Variable(a) for a in arrays]
    with tf.GradientTape() as tape:
        loss = fn(*variables)
    return float(loss), [g.numpy() for g in tape.gradient(loss, variables)]


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for name, (fn, dims) in LOSSES.items():
        arrays = [unit(np.random.default_rng(5), 6, d) for d in dims]
        arrays = [a[np.random.default_rng(i).permutation(6)] for i, a in enumerate(arrays)]
        total, grads = two_replicas(fn, arrays, strategy)
        expected, expected_grads = one_device(fn, arrays)
        results[name] = {
            "replicas": strategy.num_replicas_in_sync,
            "value": expected,
            "value_diff": abs(total - expected),
            "grad_diff": max(
                float(np.abs(g - e).max()) for g, e in zip(grads, expected_grads, strict=True)
            ),
            "grad_norm": float(sum(np.linalg.norm(e) for e in expected_grads)),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
