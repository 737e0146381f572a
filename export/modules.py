"""The exported tf.Modules: a string-in encoder and the LaBSE-format preprocessor/encoder pair.

All three follow TF Hub's Reusable SavedModel API: `__call__(inputs, training=False)`
traced for both values of `training` (what `hub.KerasLayer(..., trainable=True)` calls;
the backbone is built without dropout, `lealla.models.export.restore`), plus `variables`,
`trainable_variables` and `regularization_losses` attributes. Tokenization is in the
graph (tensorflow_text), so the tokenizer's vocabulary travels as an asset.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lealla.tokenization import packing
from lealla.tokenization import tokenizer as tokenizer_lib

STRINGS = tf.TensorSpec([None], tf.string, name="texts")
ENCODER_INPUTS = {
    name: tf.TensorSpec([None, None], tf.int32, name=name)
    for name in (packing.HUB_WORD_IDS, packing.HUB_MASK, packing.HUB_TYPE_IDS)
}
# tokenize() returns [batch, (words), (pieces)] as TF Hub's BERT preprocessors do.
_TOKENS = tf.RaggedTensorSpec([None, None, None], tf.int32, ragged_rank=2)


WEIGHT_DTYPES = ("float32", "float16")


class _Reusable(tf.__internal__.tracking.AutoTrackable):
    """Holds the backbone's weights the way hub.KerasLayer looks for them, each saved once.

    Not a tf.Module: its read-only `variables` property would not be saved as the
    plain attribute the Reusable SavedModel API asks for. The backbone itself is not
    tracked: its Keras variables would be saved as objects of their own beside the
    tf.Variables listed in `variables`, a second copy of every weight.

    With `weights_dtype="float16"` the module holds float16 copies of the floating
    weights and the graph casts them to float32 before the (float32) backbone runs.
    """

    def _hold_weights(self, backbone, weights_dtype: str = "float32") -> None:
        if weights_dtype not in WEIGHT_DTYPES:
            raise ValueError(f"weights_dtype must be one of {WEIGHT_DTYPES}, got {weights_dtype!r}")
        object.__setattr__(self, "_backbone", backbone)  # untracked, see the class docstring
        object.__setattr__(self, "_cast_weights", weights_dtype != "float32")
        if self._cast_weights:
            # stateless_call's order: trainable, then non-trainable variables.
            source = _call_order(backbone)
            stored = [_stored_copy(v, weights_dtype) for v in source]
        else:
            source = list(backbone.weights)
            stored = [v.value for v in source]  # the tf.Variables the graph reads
        self.variables = stored
        self.trainable_variables = [s for s, v in zip(stored, source, strict=True) if v.trainable]
        self.regularization_losses = []

    def _backbone_outputs(self, inputs, training: bool) -> dict:
        if not self._cast_weights:
            return self._backbone(inputs, training=training)
        backbone = self._backbone
        order = _call_order(backbone)
        values = [tf.cast(s, v.dtype) for s, v in zip(self.variables, order, strict=True)]
        split = len(backbone.trainable_variables)
        outputs, _ = backbone.stateless_call(
            values[:split], values[split:], inputs, training=training
        )
        return outputs


def _call_order(backbone) -> list:
    return [*backbone.trainable_variables, *backbone.non_trainable_variables]


def _stored_copy(variable, dtype: str) -> tf.Variable:
    """A tf.Variable holding `variable` in `dtype` (floating weights only)."""
    value = variable.value
    if value.dtype.is_floating:
        value = tf.cast(value, dtype)
    name = variable.path.replace("/", "_")
    return tf.Variable(value, trainable=variable.trainable, name=name)


class StringEncoder(_Reusable):
    """Strings in, unit-length [N, d] float32 out: the LEALLA module interface.

    Args:
      tokenizer: the student's tokenizer.
      backbone: the trained ThinDeepBackbone.
      seq_length: inputs are truncated to this many tokens (special tokens included).
      vocab_asset: the tokenizer's vocabulary file, shipped as an asset.
      weights_dtype: how the weights are stored (float32, or float16 cast to float32
        inside the graph).
    """

    def __init__(
        self, tokenizer: tokenizer_lib.Tokenizer, backbone, seq_length: int, vocab_asset,
        weights_dtype: str = "float32",
    ):  # fmt: skip
        self.tokenizer = tokenizer
        self.packer = packing.Packer(tokenizer, seq_length)
        _attach_vocab(self, vocab_asset, tokenizer)
        self.seq_length = tf.Variable(seq_length, trainable=False, name="seq_length")
        self._hold_weights(backbone, weights_dtype)

    @tf.function
    def __call__(self, texts: tf.Tensor, training: bool = False) -> tf.Tensor:
        """[N] tf.string -> [N, d] float32, L2-normalized; longer texts are truncated."""
        inputs = packing.model_inputs(self.packer, texts)
        return self._backbone_outputs(inputs, training)["sentence_embedding"]

    def concrete_functions(self) -> list:
        return [self.__call__.get_concrete_function(STRINGS, training=t) for t in (False, True)]


class Preprocessor(tf.Module):
    """LaBSE-v2-format preprocessor: strings -> {input_word_ids, input_mask, input_type_ids}.

    `__call__` packs one segment to `seq_length`; `tokenize` and
    `bert_pack_inputs(segments, seq_length)` let users pick another length or pack
    sentence pairs (round-robin trimming, type ids 0/1), as TF Hub's BERT
    preprocessors do.
    """

    def __init__(self, tokenizer: tokenizer_lib.Tokenizer, seq_length: int, vocab_asset):
        super().__init__(name="lealla_preprocessor")
        self.tokenizer = tokenizer
        _attach_vocab(self, vocab_asset, tokenizer)
        self.default_seq_length = seq_length

    @tf.function(input_signature=[STRINGS])
    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """[N] strings -> int32 [N, (words), (pieces)], each wordpiece/piece its own word.

        Packing only needs the flat token sequence; the word level is there because
        TF Hub's bert_pack_inputs takes [N, (words), (pieces)] segments.
        """
        ids = self.tokenizer.tokenize(texts).with_row_splits_dtype(tf.int64)
        pieces = tf.RaggedTensor.from_row_lengths(
            ids.flat_values, tf.ones_like(ids.flat_values, tf.int64)
        )
        return tf.RaggedTensor.from_row_splits(pieces, ids.row_splits)

    @tf.function
    def bert_pack_inputs(self, segments: list, seq_length) -> dict[str, tf.Tensor]:
        """Packs 1 or 2 tokenized segments: [CLS] a [SEP] (b [SEP]), padded to seq_length."""
        flat = [s.merge_dims(-2, -1) for s in segments]
        return packing.pack_segments(flat, self.tokenizer.special_ids, seq_length)

    @tf.function(input_signature=[STRINGS])
    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.bert_pack_inputs([self.tokenize(texts)], self.default_seq_length)

    def concrete_functions(self) -> list:
        length = tf.TensorSpec([], tf.int32, name="seq_length")
        return [
            self.bert_pack_inputs.get_concrete_function([_TOKENS], length),
            self.bert_pack_inputs.get_concrete_function([_TOKENS, _TOKENS], length),
        ]


class DictEncoder(_Reusable):
    """LaBSE-v2-format encoder: the preprocessor's dict in; default/pooled/sequence out.

    `default` is the student's sentence embedding (unit length, what the string
    module returns); `pooled_output` is the pooled vector after the output
    projection (when the student has one) and before normalization;
    `sequence_output` the last layer's token states.
    `input_type_ids` is accepted for compatibility; the student has no segment
    embeddings, so it does not change the output.
    """

    def __init__(
        self, backbone, vocab_asset, tokenizer: tokenizer_lib.Tokenizer,
        weights_dtype: str = "float32",
    ):  # fmt: skip
        _attach_vocab(self, vocab_asset, tokenizer)
        self._hold_weights(backbone, weights_dtype)

    @tf.function
    def __call__(self, inputs: dict, training: bool = False) -> dict[str, tf.Tensor]:
        out = self._backbone_outputs(packing.from_hub_inputs(inputs), training)
        return {
            "default": out["sentence_embedding"],
            "pooled_output": tf.cast(out["pooled_output"], tf.float32),
            "sequence_output": tf.cast(out["sequence_output"], tf.float32),
        }

    def concrete_functions(self) -> list:
        return [
            self.__call__.get_concrete_function(ENCODER_INPUTS, training=t) for t in (False, True)
        ]


def _attach_vocab(module: tf.Module, vocab_asset: str, tokenizer: tokenizer_lib.Tokenizer) -> None:
    """vocab_file (+ do_lower_case) for wordpiece, sp_model_file for SentencePiece, as assets."""
    if tokenizer.kind == "sentencepiece":
        module.sp_model_file = tf.saved_model.Asset(vocab_asset)
    else:
        module.vocab_file = tf.saved_model.Asset(vocab_asset)
        lower = bool(getattr(tokenizer, "lower_case", False))
        module.do_lower_case = tf.Variable(lower, trainable=False, name="do_lower_case")


class RowQuantizedStringEncoder(tf.__internal__.tracking.AutoTrackable):
    """A string encoder whose token table is int8 with one scale per row (TFLite only).

    TFLite's quantizers give a gathered table one scale for the whole tensor; token rows
    differ in norm, so short rows lose most of their bits (mean cosine 0.992 to the float
    model from the table alone on the demo student, 0.9999 with a scale per row). This
    module stores the table as int8 codes plus per-row scales (int16 codes of a float
    step, so that no quantizer touches them) and runs the rest of the backbone as is.

    Args:
      tokenizer, backbone, seq_length: as `StringEncoder`; the backbone must have
        `token_embedding` and `from_token_embeddings` (thin-deep students).
    """

    def __init__(self, tokenizer: tokenizer_lib.Tokenizer, backbone, seq_length: int):
        table = backbone.token_embedding.embeddings.numpy()
        scale = np.abs(table).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        step = float(scale.max() / 32767.0)
        self._codes = tf.constant(np.round(table / scale[:, None]).astype(np.int8))
        self._scale_codes = tf.constant(np.round(scale / step).astype(np.int16))
        self._step = step
        self.packer = packing.Packer(tokenizer, seq_length)
        self.backbone = backbone
        # Only what the graph reads, so the float table is not frozen into the model.
        table_ref = backbone.token_embedding.embeddings
        self.variables = [v.value for v in backbone.weights if v is not table_ref]

    @tf.function(input_signature=[STRINGS])
    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        inputs = packing.model_inputs(self.packer, texts)
        ids = inputs[packing.TOKEN_IDS]
        scale = tf.cast(tf.gather(self._scale_codes, ids), tf.float32) * self._step
        x = tf.cast(tf.gather(self._codes, ids), tf.float32) * tf.expand_dims(scale, -1)
        outputs = self.backbone.from_token_embeddings(
            x, inputs[packing.PADDING_MASK], training=False
        )
        return outputs["sentence_embedding"]

    @staticmethod
    def supports(backbone) -> bool:
        return hasattr(backbone, "from_token_embeddings") and hasattr(backbone, "token_embedding")
