"""One post-LayerNorm Transformer encoder block (BERT/LaBSE/LEALLA style), Keras 3."""

from __future__ import annotations

import keras
from keras import ops

LAYER_NORM_EPSILON = 1e-12  # BERT's value, kept by LaBSE and LEALLA
# google-research/bert's gelu is the tanh approximation, also the cheaper form on CPU.
DEFAULT_ACTIVATION = "gelu_tanh"
INITIALIZER_STDDEV = 0.02  # BERT's truncated-normal initializer range


@keras.saving.register_keras_serializable(package="lealla")
class TransformerBlock(keras.layers.Layer):
    """Self-attention + feed-forward, each with a residual and a post-LayerNorm.

    The query/key/value projections are one fused [hidden, 3 * hidden] matmul and
    attention runs through `keras.ops.dot_product_attention` (a fused kernel where
    the backend has one); thin-deep students are bound by per-op overhead, so
    fewer, larger ops matter.

    Args:
      num_heads: attention heads; must divide the hidden size.
      intermediate_dim: feed-forward width (4 x hidden in LEALLA).
      dropout: dropout rate after attention and feed-forward (training only). There is
        no dropout on the attention probabilities (BERT and LaBSE have 0.1 there): the
        fused `ops.dot_product_attention` (flash / cuDNN kernels on accelerators) has
        none, and a distilled student fits a fixed teacher rather than noisy labels.
      activation: feed-forward activation: "gelu_tanh" (BERT's approximation),
        or any Keras activation name ("gelu" is the exact erf form).
      layer_norm_epsilon: LayerNorm epsilon.

    Call args:
      x: float [batch, seq_len, hidden].
      padding_mask: bool/int [batch, seq_len]; 0 marks padding keys.
      training: enables dropout.

    Example:
      >>> block = TransformerBlock(num_heads=2, intermediate_dim=64)
      >>> block(keras.ops.ones((1, 4, 16)), keras.ops.ones((1, 4))).shape
      (1, 4, 16)
    """

    def __init__(
        self,
        num_heads: int,
        intermediate_dim: int,
        dropout: float = 0.1,
        activation: str = DEFAULT_ACTIVATION,
        layer_norm_epsilon: float = LAYER_NORM_EPSILON,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_shape):
        hidden = input_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(f"hidden size {hidden} is not divisible by num_heads={self.num_heads}")
        self.head_dim = hidden // self.num_heads

        def dense(units, name, activation=None):
            return keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV),
                dtype=self.dtype_policy,
                name=name,
            )

        def norm(name):
            return keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
            )

        self.qkv = dense(3 * hidden, "query_key_value")
        self.attention_output = dense(hidden, "attention_output")
        self.attention_norm = norm("attention_layer_norm")
        self.intermediate = dense(
            self.intermediate_dim, "intermediate", _activation(self.activation)
        )
        self.output_dense = dense(hidden, "output")
        self.output_norm = norm("output_layer_norm")
        self.drop = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.qkv.build(input_shape)
        self.attention_output.build(input_shape)
        self.attention_norm.build(input_shape)
        self.intermediate.build(input_shape)
        self.output_dense.build((*input_shape[:-1], self.intermediate_dim))
        self.output_norm.build(input_shape)
        self.built = True

    def call(self, x, padding_mask, training=False):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        qkv = ops.reshape(self.qkv(x), (batch, length, 3, self.num_heads, self.head_dim))
        query, key, value = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]  # [B, T, heads, head_dim]
        # [B, 1, 1, T]: every query may attend to every non-padding key.
        # expand_dims, not [:, None, None, :]: TFLite has no strided slice with new axes.
        mask = ops.expand_dims(ops.expand_dims(ops.cast(padding_mask, "bool"), 1), 1)
        context = ops.dot_product_attention(query, key, value, mask=mask)
        context = ops.reshape(context, (batch, length, self.num_heads * self.head_dim))
        x = self.attention_norm(x + self.drop(self.attention_output(context), training=training))
        ffn = self.output_dense(self.intermediate(x))
        return self.output_norm(x + self.drop(ffn, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            dropout=self.dropout,
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        return config


def _activation(name: str):
    if name == "gelu_tanh":
        return lambda x: keras.activations.gelu(x, approximate=True)
    return keras.activations.get(name)
