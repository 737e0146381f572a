"""The static tier: a weighted mean of token vectors, no attention (Model2Vec-style students).

A static student costs one embedding lookup and a weighted sum per token, one to two
orders of magnitude less than a Transformer, at some loss of quality. It takes the
same inputs and gives the same outputs as `ThinDeepBackbone`, so training, export and
evaluation treat it like any student.
"""

from __future__ import annotations

import keras
from keras import ops

from lealla.models.students.transformer_block import INITIALIZER_STDDEV
from lealla.tokenization import packing


@keras.saving.register_keras_serializable(package="lealla")
class StaticBackbone(keras.Model):
    """Token ids in, a weighted mean of token vectors out (unit length).

        e(x) = normalize( sum_i w[x_i] E[x_i] m_i / max(sum_i m_i, 1) )   [then P e]

    E is the token table, w a per-token weight (initialized with SIF weights
    a / (a + p(token)), so frequent tokens count less; 0 for special tokens), m the
    padding mask, P an optional output projection.

    Args:
      vocabulary_size: rows of the token table.
      hidden_dim: width of the token vectors (the embedding width without projection).
      max_sequence_length: kept for the shared config; a static model has no limit.
      output_dim: width of a final linear projection, or None.
      dtype: a Keras dtype policy; the sentence embedding is always float32.

    Inputs: {"token_ids": int32 [batch, seq_len], "padding_mask": int32 [batch, seq_len]}.
    Outputs: {"sequence_output": [batch, seq_len, hidden_dim] (weighted token vectors),
              "pooled_output": [batch, output_dim or hidden_dim],
              "sentence_embedding": float32 [batch, output_dim or hidden_dim], unit length}.

    Reference: Model2Vec (Tulkens & van Dongen 2024); SIF weights (Arora et al. 2017).
    """

    def __init__(
        self,
        vocabulary_size: int,
        hidden_dim: int,
        max_sequence_length: int = 512,
        output_dim: int | None = None,
        dtype=None,
        **kwargs,
    ):
        init = keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV)

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, hidden_dim, embeddings_initializer=init, dtype=dtype,
            name="token_embedding",
        )  # fmt: skip
        self.token_weight = keras.layers.Embedding(
            vocabulary_size, 1, embeddings_initializer="ones", dtype=dtype, name="token_weight"
        )
        self.projection = (
            keras.layers.Dense(output_dim, kernel_initializer=init, dtype=dtype, name="projection")
            if output_dim
            else None
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name=packing.TOKEN_IDS)
        padding_mask = keras.Input(shape=(None,), dtype="int32", name=packing.PADDING_MASK)
        mask = ops.expand_dims(ops.cast(padding_mask, self.token_embedding.compute_dtype), -1)
        x = self.token_embedding(token_ids) * self.token_weight(token_ids) * mask
        pooled = ops.sum(x, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
        if self.projection is not None:
            pooled = self.projection(pooled)
        embedding = ops.normalize(ops.cast(pooled, "float32"), axis=-1, order=2)
        super().__init__(
            inputs={packing.TOKEN_IDS: token_ids, packing.PADDING_MASK: padding_mask},
            outputs={
                "sequence_output": x,
                "pooled_output": pooled,
                "sentence_embedding": embedding,
            },
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.max_sequence_length = max_sequence_length
        self.output_dim = output_dim

    @property
    def embedding_dim(self) -> int:
        return self.output_dim or self.hidden_dim

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "max_sequence_length": self.max_sequence_length,
            "output_dim": self.output_dim,
            "name": self.name,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
