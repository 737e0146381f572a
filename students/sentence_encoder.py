"""Strings in, student embeddings out: tokenizer + packer + backbone (evaluation, export)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from lealla.embeddings import length_batches
from lealla.tokenization import packing
from lealla.tokenization import tokenizer as tokenizer_lib


class SentenceEncoder(tf.Module):
    """Tokenizes in-graph, packs to `seq_length`, runs the backbone; unit-length output.

    Args:
      tokenizer: the student's tokenizer.
      backbone: a ThinDeepBackbone.
      seq_length: longest packed input; longer texts are truncated, not rejected.

    Example:
      >>> encoder = SentenceEncoder(tok, backbone, seq_length=64)
      >>> encoder.encode(["Hello", "Hallo"]).shape
      (2, backbone.embedding_dim)
    """

    def __init__(self, tokenizer: tokenizer_lib.Tokenizer, backbone, seq_length: int):
        super().__init__(name="sentence_encoder")
        self.tokenizer = tokenizer
        self.backbone = backbone
        self.packer = packing.Packer(tokenizer, seq_length)
        self.seq_length = seq_length

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], reduce_retracing=True)
    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        """[N] tf.string -> [N, d] float32 unit-length embeddings."""
        out = self.backbone(packing.model_inputs(self.packer, texts), training=False)
        return out["sentence_embedding"]

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Embeds strings in batches of similar length (less padding); float32 [len(texts), d]."""
        if not texts:
            return np.zeros((0, self.backbone.embedding_dim), np.float32)
        return length_batches.embed_in_length_order(
            lambda batch: self(tf.constant(batch)).numpy(), list(texts), batch_size
        )
