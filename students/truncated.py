"""A backbone whose sentence embedding is the first `dims` of another's, renormalized.

Exporting a Matryoshka-trained student at fewer dimensions wraps its backbone in
`TruncatedBackbone`: every exported module (string encoder, LaBSE-format pair, TFLite
sources) then outputs the prefix without knowing about it.
"""

from __future__ import annotations

import keras
from keras import ops


def cut_outputs(outputs: dict, dims: int) -> dict:
    """pooled_output[:, :dims] and its unit-length sentence_embedding; the rest unchanged."""
    pooled = outputs["pooled_output"][:, :dims]
    embedding = ops.normalize(ops.cast(pooled, "float32"), axis=-1, order=2)
    return {**outputs, "pooled_output": pooled, "sentence_embedding": embedding}


class TruncatedBackbone(keras.Model):
    """Wraps a built backbone (thin-deep or static); same inputs and output keys.

    Args:
      backbone: the trained backbone (its weights are shared, not copied).
      dims: output width, 1..backbone.embedding_dim.
    """

    def __init__(self, backbone, dims: int, **kwargs):
        if not 0 < dims <= backbone.embedding_dim:
            raise ValueError(
                f"cannot cut a {backbone.embedding_dim}-dimensional embedding to {dims}"
            )
        super().__init__(name=f"{backbone.name}_first_{dims}", **kwargs)
        self.backbone = backbone
        self.dims = dims
        self.built = True  # the wrapped backbone is

    def call(self, inputs, training=None):
        return cut_outputs(self.backbone(inputs, training=training), self.dims)

    def from_token_embeddings(self, x, padding_mask, training=None) -> dict:
        outputs = self.backbone.from_token_embeddings(x, padding_mask, training=training)
        return cut_outputs(outputs, self.dims)

    @property
    def token_embedding(self):
        return self.backbone.token_embedding

    @property
    def embedding_dim(self) -> int:
        return self.dims
