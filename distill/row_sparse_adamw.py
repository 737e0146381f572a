"""AdamW that updates a gathered table (the token embeddings) only at the rows in the batch.

A student's token table is most of its parameters (120k pieces x 128 = 15.6M against
0.8M for four 128-wide layers), and a batch touches a few thousand of its rows. Keras's
AdamW decays the moments and the weights of every row on every step: four passes over
the whole table, about 60 ms of a 4 x 128 student's ~470 ms step on 2 CPU cores. Here a
gradient that arrives as `tf.IndexedSlices` (what the gather of an embedding lookup
gives) updates only its rows ("lazy" Adam, as TF-Addons' LazyAdam and PyTorch's
SparseAdam): for each touched row r, with g the row's summed gradient,

    m_r <- b1 m_r + (1 - b1) g        v_r <- b2 v_r + (1 - b2) g^2
    w_r <- w_r - lr wd w_r - lr sqrt(1 - b2^t) / (1 - b1^t) m_r / (sqrt(v_r) + eps)

(Keras's AdamW, row by row), and untouched rows keep their weights and moments. Dense
gradients (every other variable) take Keras's AdamW unchanged. Duplicate indices are
summed first, so the global-norm clip sees the same norm as the dense gradient.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def merge_duplicate_rows(grad: tf.IndexedSlices) -> tf.IndexedSlices:
    """The same gradient with each row index once (the values of repeats summed)."""
    rows, position = tf.unique(grad.indices)
    values = tf.math.unsorted_segment_sum(grad.values, position, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, grad.dense_shape)


class RowSparseAdamW(keras.optimizers.AdamW):
    """Keras AdamW; `tf.IndexedSlices` gradients update only their rows (see the module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("RowSparseAdamW has no amsgrad variant")
        self._sparse_keys: set = set()

    def apply(self, grads, trainable_variables=None):
        variables = (
            self._trainable_variables if trainable_variables is None else list(trainable_variables)
        )
        grads = [merge_duplicate_rows(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        # Decided while tracing: a variable's gradient type is fixed by the graph.
        self._sparse_keys = {
            self._var_key(v)
            for g, v in zip(grads, variables, strict=True)
            if isinstance(g, tf.IndexedSlices)
        }
        return super().apply(grads, trainable_variables)

    def _clip_gradients(self, grads):
        if not (self.global_clipnorm and self.global_clipnorm > 0):
            return super()._clip_gradients(grads)
        # Keras's clip_by_global_norm squares an IndexedSlices as a dense table.
        parts = [g.values if isinstance(g, tf.IndexedSlices) else g for g in grads]
        norm = tf.linalg.global_norm([p for p in parts if p is not None])
        clip = tf.cast(self.global_clipnorm, norm.dtype)
        # As Keras: no-op below the norm, NaN for a non-finite norm (the trainer's guard).
        scale = clip * tf.minimum(1.0 / norm, 1.0 / clip) + (norm - norm)
        return [_scaled(g, scale) for g in grads]

    def _use_weight_decay(self, variable):
        # Sparse rows are decayed in update_step, the other rows not at all.
        if self._var_key(variable) in self._sparse_keys:
            return False
        return super()._use_weight_decay(variable)

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        # Again: an all-reduce across replicas concatenates their rows.
        gradient = merge_duplicate_rows(gradient)
        rows, grad = gradient.indices, tf.cast(gradient.values, dtype)

        m_rows = beta_1 * tf.gather(m, rows) + (1 - beta_1) * grad
        v_rows = beta_2 * tf.gather(v, rows) + (1 - beta_2) * tf.square(grad)
        w_rows = tf.gather(variable, rows)
        if self.weight_decay and super()._use_weight_decay(variable):
            w_rows -= w_rows * tf.cast(self.weight_decay, dtype) * lr
        w_rows -= alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        self.assign(variable, tf.IndexedSlices(w_rows, rows))


def _scaled(grad, scale):
    if grad is None:
        return None
    if isinstance(grad, tf.IndexedSlices):
        return tf.IndexedSlices(grad.values * tf.cast(scale, grad.values.dtype),
                                grad.indices, grad.dense_shape)  # fmt: skip
    return grad * tf.cast(scale, grad.dtype)
