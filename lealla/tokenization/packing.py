"""Packing token ids into model inputs: [CLS] ids [SEP], truncation, padding, mask.

The one owner of the packed layout and of the input names. Inside the toolkit every
backbone takes {TOKEN_IDS, PADDING_MASK} (keras-hub's names); the LaBSE-format export
speaks TF Hub's BERT names {HUB_WORD_IDS, HUB_MASK, HUB_TYPE_IDS} at its boundary only
(`pack_segments` makes them, `from_hub_inputs` reads them). A packed row is
`[CLS] t_1 ... t_k [SEP]` then padding; `content_mask` marks t_1..t_k.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as tf_text

from lealla.tokenization import tokenizer as tokenizer_lib

# LaBSE v2's preprocessor packs to 128 tokens by default.
DEFAULT_SEQ_LENGTH = 128
TOKEN_IDS, PADDING_MASK = "token_ids", "padding_mask"
HUB_WORD_IDS, HUB_MASK, HUB_TYPE_IDS = "input_word_ids", "input_mask", "input_type_ids"


class Packer(tf.Module):
    """Strings -> ids with special tokens, truncated to `seq_length` (ragged, no padding).

    Args:
      tokenizer: any `Tokenizer`.
      seq_length: the longest packed sequence, special tokens included (>= 3).

    Example:
      >>> packer = Packer(tok, seq_length=8)
      >>> ids = packer(tf.constant(["hello world"]))        # [[CLS] hello world [SEP]]
      >>> inputs = pad_to_length(ids, 8, tok.special_ids.pad)
    """

    def __init__(self, tokenizer: tokenizer_lib.Tokenizer, seq_length: int = DEFAULT_SEQ_LENGTH):
        super().__init__(name="packer")
        if seq_length < 3:
            raise ValueError(f"seq_length must be >= 3 ([CLS], a token, [SEP]), got {seq_length}")
        self.tokenizer = tokenizer
        self.seq_length = seq_length

    def __call__(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """[n] tf.string -> int32 [n, (<= seq_length)]: [CLS] tokens [SEP]."""
        ids = self.tokenizer.tokenize(texts)
        return add_special_tokens(ids, self.tokenizer.special_ids, self.seq_length)


def add_special_tokens(
    ids: tf.RaggedTensor, special_ids: tokenizer_lib.SpecialIds, seq_length: int
) -> tf.RaggedTensor:
    """Truncates int32 ids [n, (t)] to seq_length - 2 and wraps them in [CLS] ... [SEP]."""
    ids = ids[:, : seq_length - 2]
    n = ids.nrows()
    cls = tf.fill([n, 1], tf.constant(special_ids.cls, ids.dtype))
    sep = tf.fill([n, 1], tf.constant(special_ids.sep, ids.dtype))
    return tf.concat([cls, ids, sep], axis=1)


def pack_dense(
    ids: tf.RaggedTensor, special_ids: tokenizer_lib.SpecialIds, seq_length: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Tokenizer ids [n, (t)] -> ([CLS] ids [SEP] padded, mask): int32 [n, min(t_max, L-2) + 2].

    The same packing as `add_special_tokens` + padding to the batch's longest row, built
    from one ragged-to-dense conversion and dense ops only: no ragged slicing or concat,
    whose kernels (RaggedRange, ...) TFLite lacks, so the in-graph encoder converts to a
    TFLite model with the tokenizer inside.
    """
    dense = tf.cast(ids.to_tensor(default_value=special_ids.pad), tf.int32)[:, : seq_length - 2]
    splits = tf.cast(ids.row_splits, tf.int32)
    lengths = tf.minimum(splits[1:] - splits[:-1], seq_length - 2)[:, None]
    column = tf.ones(tf.stack([tf.shape(dense)[0], 1]), tf.int32)  # also when t_max = 0
    word_ids = tf.concat([column * special_ids.cls, dense, column * special_ids.pad], axis=1)
    positions = tf.range(tf.shape(word_ids)[1])[None, :]
    word_ids = tf.where(positions <= lengths, word_ids, special_ids.pad)
    word_ids = tf.where(positions == lengths + 1, special_ids.sep, word_ids)
    return word_ids, tf.cast(positions <= lengths + 1, tf.int32)


def model_inputs(packer: Packer, texts: tf.Tensor) -> dict[str, tf.Tensor]:
    """[N] tf.string -> the backbone's {token_ids, padding_mask}, int32 [N, L].

    L is the batch's longest packed row (short batches stay cheap); dense ops only after
    tokenization (`pack_dense`), so the same graph converts to TFLite.
    """
    ids = packer.tokenizer.tokenize(texts)
    word_ids, mask = pack_dense(ids, packer.tokenizer.special_ids, packer.seq_length)
    return {TOKEN_IDS: word_ids, PADDING_MASK: mask}


def batch_inputs(ids: tf.Tensor, lengths: tf.Tensor) -> dict[str, tf.Tensor]:
    """Padded packed ids [b, L] and their lengths [b] (a training batch) -> model inputs."""
    return {TOKEN_IDS: ids, PADDING_MASK: tf.sequence_mask(lengths, tf.shape(ids)[1], tf.int32)}


def content_mask(lengths: tf.Tensor, width: tf.Tensor | int) -> tf.Tensor:
    """bool [b, width]: the positions of a packed row's tokens, not [CLS], [SEP] or padding."""
    positions = tf.range(width)[None, :]
    return (positions >= 1) & (positions < tf.cast(lengths, positions.dtype)[:, None] - 1)


def pack_segments(
    segments: list[tf.RaggedTensor], special_ids: tokenizer_lib.SpecialIds, seq_length
) -> dict[str, tf.Tensor]:
    """TF Hub's `bert_pack_inputs`: 1 or 2 segments of ids [n, (t)] -> the hub's dict.

    [CLS] a [SEP] (b [SEP]), trimmed round-robin to `seq_length` and padded to it;
    `input_type_ids` is 0 on the first segment, 1 on the second. With one segment the
    ids and mask equal `pad_to_length(Packer(...)(texts), seq_length, pad)`.
    """
    trimmed = tf_text.RoundRobinTrimmer(seq_length - 1 - len(segments)).trim(segments)
    ids, type_ids = tf_text.combine_segments(trimmed, special_ids.cls, special_ids.sep)
    word_ids, mask = tf_text.pad_model_inputs(ids, seq_length, pad_value=special_ids.pad)
    type_ids, _ = tf_text.pad_model_inputs(type_ids, seq_length, pad_value=0)
    return {
        HUB_WORD_IDS: tf.cast(word_ids, tf.int32),
        HUB_MASK: tf.cast(mask, tf.int32),
        HUB_TYPE_IDS: tf.cast(type_ids, tf.int32),
    }


def from_hub_inputs(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """TF Hub's input dict -> the backbone's (segment ids dropped: no segment embeddings)."""
    return {TOKEN_IDS: inputs[HUB_WORD_IDS], PADDING_MASK: inputs[HUB_MASK]}


def pad_to_length(ids: tf.RaggedTensor, seq_length: int, pad_id: int) -> dict[str, tf.Tensor]:
    """Pads packed ids to a dense batch in the LaBSE encoder's input format.

    Args:
      ids: int ids [n, (<= seq_length)], e.g. from a `Packer`.
      seq_length: the padded length.
      pad_id: the id written into padding positions.

    Returns:
      {"input_word_ids", "input_mask", "input_type_ids"}: int32 [n, seq_length].
    """
    word_ids = tf.cast(ids.to_tensor(default_value=pad_id, shape=[None, seq_length]), tf.int32)
    mask = tf.cast(tf.sequence_mask(ids.row_lengths(), maxlen=seq_length), tf.int32)
    return {HUB_WORD_IDS: word_ids, HUB_MASK: mask, HUB_TYPE_IDS: tf.zeros_like(word_ids)}
