"""A backbone whose sentence embedding is the first `dims` of another's, renormalized.

Exporting at fewer dimensions wraps the student's backbone in `TruncatedBackbone`,
optionally after an orthogonal rotation of its pooled output (PCA of its embeddings,
`lealla.embeddings.truncation.pca_rotation`: cosines unchanged, the leading dimensions carry the
most): every exported module (string encoder, LaBSE-format pair, TFLite sources) then
outputs the prefix without knowing about it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def cut_outputs(outputs: dict, dims: int, rotation=None) -> dict:
    """(pooled_output @ rotation)[:, :dims] and its unit-length sentence_embedding."""
    pooled = outputs["pooled_output"]
    if rotation is not None:
        pooled = ops.matmul(pooled, ops.cast(rotation, pooled.dtype))
    pooled = pooled[:, :dims]
    embedding = ops.normalize(ops.cast(pooled, "float32"), axis=-1, order=2)
    return {**outputs, "pooled_output": pooled, "sentence_embedding": embedding}


class TruncatedBackbone(keras.Model):
    """Wraps a built backbone (thin-deep or static); same inputs and output keys.

    Args:
      backbone: the trained backbone (its weights are shared, not copied).
      dims: output width, 1..backbone.embedding_dim.
      rotation: optional orthogonal [d, d] applied to the pooled output first (saved
        with the model as a constant weight).
    """

    def __init__(self, backbone, dims: int, rotation: np.ndarray | None = None, **kwargs):
        width = backbone.embedding_dim
        if not 0 < dims <= width:
            raise ValueError(f"cannot cut a {width}-dimensional embedding to {dims}")
        if rotation is not None and np.shape(rotation) != (width, width):
            raise ValueError(f"rotation must be [{width}, {width}], got {np.shape(rotation)}")
        super().__init__(name=f"{backbone.name}_first_{dims}", **kwargs)
        self.backbone = backbone
        self.dims = dims
        self.rotation = (
            None
            if rotation is None
            else keras.Variable(np.asarray(rotation, np.float32), trainable=False, name="rotation")
        )
        self.built = True  # the wrapped backbone is

    def call(self, inputs, training=None):
        return cut_outputs(self.backbone(inputs, training=training), self.dims, self.rotation)

    def from_token_embeddings(self, x, padding_mask, training=None) -> dict:
        outputs = self.backbone.from_token_embeddings(x, padding_mask, training=training)
        return cut_outputs(outputs, self.dims, self.rotation)

    @property
    def token_embedding(self):
        return self.backbone.token_embedding

    @property
    def embedding_dim(self) -> int:
        return self.dims
