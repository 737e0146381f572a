"""Training-only heads of the EMS objectives (XTR head, contrastive projection); never exported."""

from __future__ import annotations

import keras

from lealla.models.students.transformer_block import INITIALIZER_STDDEV, LAYER_NORM_EPSILON


@keras.saving.register_keras_serializable(package="lealla")
class XtrHead(keras.layers.Layer):
    """Sentence embedding + target-language embedding -> hidden state for the vocabulary softmax.

        h = LayerNorm(act(W [e; l(lang)] + b)),    logits = E h + c   (E: [vocab, hidden])

    The logits are not computed here: `lealla.models.distill.losses.bidirectional_xtr_loss` takes
    `h` with `output_embeddings` (E) and `output_bias` (c), so a sampled softmax can
    touch only some rows of E.

    Args:
      vocabulary_size: rows of E (the student's vocabulary).
      num_languages: rows of the language embedding (row 0: unknown/none).
      hidden_dim: width of h and of the language embedding.
      activation: the transform's activation.

    Call args: sentence float [batch, d], language_ids int32 [batch] -> float [batch, hidden_dim].

    Example:
      >>> head = XtrHead(vocabulary_size=100, num_languages=3, hidden_dim=16)
      >>> h = head(tf.zeros([2, 16]), tf.constant([1, 2]))

    Reference: EMS, Mao, Chu & Kurohashi (arXiv 2205.15744), XTR.
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_languages: int,
        hidden_dim: int,
        activation: str = "gelu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        init = keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV)
        self.language_embedding = keras.layers.Embedding(
            num_languages, hidden_dim, embeddings_initializer=init, name="language_embedding"
        )
        self.transform = keras.layers.Dense(
            hidden_dim, activation=activation, kernel_initializer=init, name="transform"
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=LAYER_NORM_EPSILON, name="layer_norm"
        )
        self.vocabulary_size = vocabulary_size
        self.num_languages = num_languages
        self.hidden_dim = hidden_dim
        self.activation = activation

    def build(self, sentence_shape, language_ids_shape=None):
        self.language_embedding.build((None,))
        self.transform.build((None, sentence_shape[-1] + self.hidden_dim))
        self.layer_norm.build((None, self.hidden_dim))
        init = keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV)
        self.output_embeddings = self.add_weight(
            shape=(self.vocabulary_size, self.hidden_dim), initializer=init,
            name="output_embeddings",
        )  # fmt: skip
        self.output_bias = self.add_weight(
            shape=(self.vocabulary_size,), initializer="zeros", name="output_bias"
        )
        self.built = True

    def call(self, sentence, language_ids):
        language = self.language_embedding(language_ids)
        joined = keras.ops.concatenate([sentence, keras.ops.cast(language, sentence.dtype)], -1)
        return self.layer_norm(self.transform(joined))

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_languages": self.num_languages,
            "hidden_dim": self.hidden_dim,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="lealla")
class ProjectionHead(keras.layers.Layer):
    """The contrastive loss's small MLP: dense + activation + dense (SimCLR-style).

    Args:
      hidden_dim: width of both layers (the output width).
      activation: activation between them.

    Call args: float [batch, d] -> float [batch, hidden_dim].

    Example:
      >>> z = ProjectionHead(hidden_dim=16)(tf.zeros([2, 16]))

    Reference: EMS (arXiv 2205.15744); Chen et al., SimCLR (arXiv 2002.05709).
    """

    def __init__(self, hidden_dim: int, activation: str = "gelu", **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.TruncatedNormal(stddev=INITIALIZER_STDDEV)
        self.inner = keras.layers.Dense(
            hidden_dim, activation=activation, kernel_initializer=init, name="inner"
        )
        self.outer = keras.layers.Dense(hidden_dim, kernel_initializer=init, name="outer")
        self.hidden_dim = hidden_dim
        self.activation = activation

    def build(self, input_shape):
        self.inner.build(input_shape)
        self.outer.build((None, self.hidden_dim))
        self.built = True

    def call(self, x):
        return self.outer(self.inner(x))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "activation": self.activation,
        }
