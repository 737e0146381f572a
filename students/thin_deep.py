"""The student backbone: a BERT-style encoder whose shape is data (LEALLA: thin and deep)."""

from __future__ import annotations

import keras
from keras import ops

from lealla.models.students.position_embedding import PositionEmbedding
from lealla.models.students.transformer_block import (
    INITIALIZER_STDDEV,
    LAYER_NORM_EPSILON,
    TransformerBlock,
)
from lealla.tokenization import packing

POOLINGS = ("cls", "mean")  # cls: dense + tanh on [CLS] (LaBSE, LEALLA); mean: EMS


@keras.saving.register_keras_serializable(package="lealla")
class ThinDeepBackbone(keras.Model):
    """Token ids in, contextual states and a unit-length sentence embedding out.

    Tokenization is not part of the backbone: it takes ids and a padding mask made
    by a `lealla.tokenization.Packer` (or the exported model's own preprocessing).

    Args:
      vocabulary_size: rows of the token embedding (501,153 for LaBSE's vocab;
        far fewer for a pruned one).
      num_layers: Transformer blocks (24 in LEALLA).
      num_heads: attention heads per block.
      hidden_dim: width of every block and of the token embedding.
      intermediate_dim: feed-forward width (4 x hidden_dim in LEALLA).
      max_sequence_length: rows of the learned position embedding.
      pooling: "cls" (dense + tanh on the first token) or "mean" (masked mean).
      output_dim: width of a final linear projection, or None for hidden_dim.
      dropout: dropout rate in training.
      dtype: a Keras dtype policy, e.g. "mixed_bfloat16"; the sentence embedding is
        always float32.

    Inputs: {"token_ids": int32 [batch, seq_len], "padding_mask": int32 [batch, seq_len]}.
    Outputs: {"sequence_output": [batch, seq_len, hidden_dim],
              "pooled_output": [batch, output_dim or hidden_dim],
              "sentence_embedding": float32 [batch, output_dim or hidden_dim], unit length}.

    Example:
      >>> backbone = ThinDeepBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
      ...                             hidden_dim=16, intermediate_dim=64)
      >>> out = backbone({"token_ids": ids, "padding_mask": mask})

    Reference: LEALLA, Mao & Nakagawa, EACL 2023 (arXiv 2302.08387).
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        intermediate_dim: int,
        max_sequence_length: int = 512,
        pooling: str = "cls",
        output_dim: int | None = None,
        dropout: float = 0.1,
        dtype=None,
        **kwargs,
    ):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim={hidden_dim} is not divisible by num_heads={num_heads}")
        init = keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV)

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, hidden_dim, embeddings_initializer=init, dtype=dtype,
            name="token_embedding",
        )  # fmt: skip
        self.position_embedding = PositionEmbedding(
            max_sequence_length, initializer=init, dtype=dtype, name="position_embedding"
        )
        self.embeddings_norm = keras.layers.LayerNormalization(
            epsilon=LAYER_NORM_EPSILON, dtype=dtype, name="embeddings_layer_norm"
        )
        self.embeddings_dropout = keras.layers.Dropout(dropout, dtype=dtype)
        self.blocks = [
            TransformerBlock(
                num_heads,
                intermediate_dim,
                dropout=dropout,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooler = (
            keras.layers.Dense(
                hidden_dim, activation="tanh", kernel_initializer=init, dtype=dtype, name="pooler"
            )
            if pooling == "cls"
            else None
        )
        self.projection = (
            keras.layers.Dense(output_dim, kernel_initializer=init, dtype=dtype, name="projection")
            if output_dim
            else None
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name=packing.TOKEN_IDS)
        padding_mask = keras.Input(shape=(None,), dtype="int32", name=packing.PADDING_MASK)
        outputs = self.from_token_embeddings(self.token_embedding(token_ids), padding_mask)
        super().__init__(
            inputs={packing.TOKEN_IDS: token_ids, packing.PADDING_MASK: padding_mask},
            outputs=outputs,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.pooling = pooling
        self.output_dim = output_dim
        self.dropout = dropout

    def from_token_embeddings(self, x, padding_mask, training=None) -> dict:
        """Everything after the token lookup: [B, T, hidden] -> the model's outputs.

        Builds the functional graph; also callable on tensors, so that an export can
        look tokens up its own way (a row-quantized table in the int8 TFLite models).
        """
        x = x + self.position_embedding(x)
        x = self.embeddings_dropout(self.embeddings_norm(x), training=training)
        for block in self.blocks:
            x = block(x, padding_mask, training=training)
        pooled = self._pool(x, padding_mask)
        if self.projection is not None:
            pooled = self.projection(pooled)
        embedding = ops.normalize(ops.cast(pooled, "float32"), axis=-1, order=2)
        return {"sequence_output": x, "pooled_output": pooled, "sentence_embedding": embedding}

    def _pool(self, x, padding_mask):
        if self.pooler is not None:
            return self.pooler(x[:, 0])
        mask = ops.expand_dims(ops.cast(padding_mask, x.dtype), -1)
        return ops.sum(x * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)

    @property
    def embedding_dim(self) -> int:
        return self.output_dim or self.hidden_dim

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "pooling": self.pooling,
            "output_dim": self.output_dim,
            "dropout": self.dropout,
            "name": self.name,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
