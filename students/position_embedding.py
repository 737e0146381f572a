"""Learned absolute position embeddings, sliced to the input's length."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lealla")
class PositionEmbedding(keras.layers.Layer):
    """Returns the first seq_len rows of a learned [max_length, hidden] table.

    Args:
      max_length: the longest sequence the model accepts.
      initializer: initializer of the table.

    Call args:
      x: any [batch, seq_len, hidden] tensor (only its shape is used).

    Returns:
      [1, seq_len, hidden], to be added to the token embeddings.
    """

    def __init__(self, max_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )
        self.built = True

    def call(self, x):
        length = ops.shape(x)[1]
        return ops.cast(self.embeddings[None, :length], self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            max_length=self.max_length,
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config
