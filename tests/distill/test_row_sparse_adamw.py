"""RowSparseAdamW against a numpy lazy-AdamW reference, Keras AdamW and 2 replicas."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from lealla.models.distill.row_sparse_adamw import RowSparseAdamW, merge_duplicate_rows

LR, WD, CLIP, B1, B2, EPS = 0.05, 0.1, 1.0, 0.9, 0.999, 1e-7


def lazy_adamw_reference(w, b, steps):
    """Numpy: table rows updated only where touched; the dense bias is not decayed."""
    w, b = w.astype(np.float64).copy(), b.astype(np.float64).copy()
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    for t, (ids, values, gb) in enumerate(steps, start=1):
        g = np.zeros_like(w)
        np.add.at(g, ids, values)  # duplicates summed
        rows = np.unique(ids)
        norm = np.sqrt((g[rows] ** 2).sum() + (gb**2).sum())
        scale = min(1.0, CLIP / norm)
        g, gb = g * scale, gb * scale
        alpha = LR * np.sqrt(1 - B2**t) / (1 - B1**t)
        mw[rows] = B1 * mw[rows] + (1 - B1) * g[rows]
        vw[rows] = B2 * vw[rows] + (1 - B2) * g[rows] ** 2
        w[rows] -= w[rows] * WD * LR
        w[rows] -= alpha * mw[rows] / (np.sqrt(vw[rows]) + EPS)
        mb = B1 * mb + (1 - B1) * gb
        vb = B2 * vb + (1 - B2) * gb**2
        b -= alpha * mb / (np.sqrt(vb) + EPS)
    return w, b


def _optimizer(cls=RowSparseAdamW):
    optimizer = cls(learning_rate=LR, weight_decay=WD, global_clipnorm=CLIP, epsilon=EPS)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    return optimizer


def _steps(rng, vocab, dim, n=6):
    # Some steps under the clip norm, some over it; repeated ids in every step.
    out = []
    for i in range(n):
        ids = rng.integers(0, vocab // 2, size=9)
        ids[-1] = ids[0]
        size = 0.05 if i % 2 else 3.0
        out.append((ids, size * rng.normal(size=(9, dim)), size * rng.normal(size=dim)))
    return out


def test_indexed_slices_update_only_their_rows_like_the_numpy_reference():
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    steps = _steps(rng, 20, 3)
    w, b = keras.Variable(w0, name="embeddings"), keras.Variable(b0, name="bias")
    optimizer = _optimizer()
    for ids, values, gb in steps:
        grad = tf.IndexedSlices(tf.constant(values, tf.float32), tf.constant(ids), (20, 3))
        optimizer.apply_gradients([(grad, w), (tf.constant(gb, tf.float32), b)])
    want_w, want_b = lazy_adamw_reference(w0, b0, steps)
    np.testing.assert_allclose(w.numpy(), want_w, atol=2e-5)
    np.testing.assert_allclose(b.numpy(), want_b, atol=2e-5)
    never = sorted(set(range(20)) - set(np.concatenate([s[0] for s in steps])))
    assert never and np.array_equal(w.numpy()[never], w0[never])  # 10..19 at least


def test_dense_gradients_take_keras_adamw_unchanged():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(6, 4)).astype(np.float32)
    grads = [3.0 * rng.normal(size=(6, 4)).astype(np.float32) for _ in range(4)]
    results = []
    for cls in (RowSparseAdamW, keras.optimizers.AdamW):
        w = keras.Variable(w0, name="kernel")
        optimizer = _optimizer(cls)
        for grad in grads:
            optimizer.apply_gradients([(tf.constant(grad), w)])
        results.append(w.numpy())
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_duplicate_rows_are_summed():
    grad = tf.IndexedSlices(tf.constant([[1.0], [2.0], [4.0]]), tf.constant([3, 1, 3]), (5, 1))
    merged = merge_duplicate_rows(grad)
    got = dict(
        zip(merged.indices.numpy().tolist(), merged.values.numpy()[:, 0].tolist(), strict=True)
    )
    assert got == {3: 5.0, 1: 2.0}


def test_amsgrad_is_refused():
    with pytest.raises(ValueError, match="amsgrad"):
        RowSparseAdamW(amsgrad=True)


def test_two_replicas_update_like_one_device():
    # MirroredStrategy all-reduces the replicas' IndexedSlices by concatenation, which
    # repeats rows touched on both: they must add up, not overwrite each other.
    script = os.path.join(os.path.dirname(__file__), "row_sparse_replica_check.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(got["two_replicas"], got["one_device"], atol=1e-5)
    assert got["rows_moved"] == got["rows_touched"]


def test_the_trainer_takes_it_unless_told_not_to():
    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.optimizer import make_optimizer as _optimizer

    assert (
        type(_optimizer(DistillConfig().override({"data.train_data": ("a.tsv",)})))
        is RowSparseAdamW
    )
    dense = DistillConfig().override(
        {"data.train_data": ("a.tsv",), "optimizer.lazy_embeddings": False}
    )
    assert type(_optimizer(dense)) is keras.optimizers.AdamW
