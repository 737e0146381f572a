"""Compares each loss on a 2-replica MirroredStrategy with one device; prints JSON.

Run by tests/distill/test_losses.py in a fresh interpreter.
"""

import json

import numpy as np
import tensorflow as tf

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from lealla.models.distill.losses import (  # noqa: E402
    bidirectional_additive_margin_loss,
    bidirectional_contrastive_loss,
    bidirectional_xtr_loss,
    feature_distillation_loss,
    logit_distillation_loss,
    teacher_contrastive_loss,
)

# XTR's per-row token ids (split across replicas like the embeddings) and its shared
# vocabulary projection (the same on every replica).
_RNG = np.random.default_rng(7)
XTR_IDS = _RNG.integers(4, 12, size=(6, 7)).astype(np.int32)
XTR_IDS[:, 0] = 2
XTR_LENGTHS = np.array([7, 5, 3, 6, 7, 4], np.int32)
XTR_TABLE = _RNG.normal(size=(13, 8)).astype(np.float32)
XTR_BIAS = _RNG.normal(size=13).astype(np.float32)
# The bank of cached teacher embeddings: the same on every replica.
BANK = _RNG.normal(size=(5, 8)).astype(np.float32)
BANK /= np.linalg.norm(BANK, axis=1, keepdims=True)
WEIGHTS = np.array([1, 1, 0, 1, 1, 0], np.float32)


def _xtr(hs, ht, ids, lengths):
    return bidirectional_xtr_loss(hs, ht, ids, lengths, ids[:, ::-1], lengths, XTR_TABLE, XTR_BIAS)


# name -> (loss of the sliced variables and sliced constants, variable widths, constants)
LOSSES = {
    "ams": (
        lambda x, y: bidirectional_additive_margin_loss(x, y, scale=20.0, margin=0.3),
        (8, 8),
        (),
    ),
    "feature": (lambda s, t: feature_distillation_loss(s, t), (8, 8), ()),
    "logit": (lambda a, b, c, d: logit_distillation_loss(a, b, c, d), (8, 8, 5, 5), ()),
    "contrastive": (lambda x, y: bidirectional_contrastive_loss(x, y), (8, 8), ()),
    "xtr": (_xtr, (8, 8), (XTR_IDS, XTR_LENGTHS)),
    "teacher_contrastive": (
        lambda s, t, w: teacher_contrastive_loss(s, t, BANK, temperature=0.1, weights=w),
        (8, 8),
        (WEIGHTS,),
    ),
}


def unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def two_replicas(fn, arrays, strategy, constants=()):
    variables = [tf.Variable(a) for a in arrays]
    half = arrays[0].shape[0] // 2

    def replica_fn():
        i = tf.distribute.get_replica_context().replica_id_in_sync_group
        rows = [tf.constant(c)[i * half : (i + 1) * half] for c in constants]
        with tf.GradientTape() as tape:
            loss = fn(*[v[i * half : (i + 1) * half] for v in variables], *rows)
        return loss, tape.gradient(loss, variables)

    loss, grads = strategy.run(tf.function(replica_fn))
    total = sum(float(v) for v in strategy.experimental_local_results(loss))
    summed = [sum(g.numpy() for g in strategy.experimental_local_results(g_)) for g_ in grads]
    return total, summed


def one_device(fn, arrays, constants=()):
    variables = [tf.Variable(a) for a in arrays]
    with tf.GradientTape() as tape:
        loss = fn(*variables, *[tf.constant(c) for c in constants])
    return float(loss), [g.numpy() for g in tape.gradient(loss, variables)]


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for name, (fn, dims, constants) in LOSSES.items():
        arrays = [unit(np.random.default_rng(5), 6, d) for d in dims]
        arrays = [a[np.random.default_rng(i).permutation(6)] for i, a in enumerate(arrays)]
        total, grads = two_replicas(fn, arrays, strategy, constants)
        expected, expected_grads = one_device(fn, arrays, constants)
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
