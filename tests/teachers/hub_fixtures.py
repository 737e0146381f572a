"""Tiny modules saved in exactly the formats TF Hub publishes LaBSE and LEALLA in.

- LaBSE v2: an encoder (dict {input_word_ids, input_mask, input_type_ids} in, dict
  {default, pooled_output, sequence_output} out, `vocab_file` asset, `do_lower_case`)
  plus a preprocessor (strings -> packed dict at 128; `tokenize` -> [N, (words),
  (pieces)]; `bert_pack_inputs(list, seq_length=N)`).
- LaBSE v1: [input_word_ids, input_mask, segment_ids] in, (pooled, sequence) out.
- String-in (LEALLA, USE-m): strings in, [N, d] out.
The encoder is a real 2-layer BERT (random weights), so outputs depend on every token.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cat", "##s", "sat",
    "dog", "on", "mat", "!", ".", "a", "##a", "b", "##b", "hallo", "welt", "die", "katze",
]  # fmt: skip
HIDDEN = 16
HEADS = 2
LAYERS = 2
DEFAULT_SEQ_LENGTH = 128


class TinyBert(tf.Module):
    """A 2-layer post-LN BERT in plain TF ops; pooled = tanh(W [CLS])."""

    def __init__(self, vocab_size: int, hidden: int = HIDDEN, seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)

        def var(*shape):
            return tf.Variable(rng.normal(0, 0.2, shape).astype(np.float32))

        self.word = var(vocab_size, hidden)
        self.position = var(512, hidden)
        self.type = var(2, hidden)
        self.layers = [
            {"qkv": var(hidden, 3 * hidden), "o": var(hidden, hidden), "f1": var(hidden, 4 * hidden),
             "f2": var(4 * hidden, hidden)}
            for _ in range(LAYERS)
        ]  # fmt: skip
        self.pool = var(hidden, hidden)

    def encode(self, word_ids, mask, type_ids):
        n, t = tf.shape(word_ids)[0], tf.shape(word_ids)[1]
        x = tf.gather(self.word, word_ids) + self.position[:t] + tf.gather(self.type, type_ids)
        bias = (1.0 - tf.cast(mask, tf.float32))[:, None, None, :] * -1e9
        d = HIDDEN // HEADS
        for layer in self.layers:
            q, k, v = tf.split(x @ layer["qkv"], 3, axis=-1)
            q, k, v = (
                tf.transpose(tf.reshape(z, [n, t, HEADS, d]), [0, 2, 1, 3]) for z in (q, k, v)
            )
            att = tf.nn.softmax(q @ tf.transpose(k, [0, 1, 3, 2]) / d**0.5 + bias)
            ctx = tf.reshape(tf.transpose(att @ v, [0, 2, 1, 3]), [n, t, HIDDEN])
            x = _ln(x + ctx @ layer["o"])
            x = _ln(x + tf.nn.gelu(x @ layer["f1"]) @ layer["f2"])
        return tf.tanh(x[:, 0] @ self.pool), x


class LabseV2Encoder(tf.Module):
    def __init__(self, vocab_path: str):
        super().__init__()
        self.bert = TinyBert(len(VOCAB))
        self.vocab_file = tf.saved_model.Asset(vocab_path)
        self.do_lower_case = tf.Variable(False, trainable=False)

    @tf.function(
        input_signature=[{
            k: tf.TensorSpec([None, None], tf.int32)
            for k in ("input_word_ids", "input_mask", "input_type_ids")
        }]
    )  # fmt: skip
    def __call__(self, inputs):
        pooled, sequence = self.bert.encode(
            inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
        )
        return {"default": pooled, "pooled_output": pooled, "sequence_output": sequence}


class LabsePreprocessor(tf.Module):
    def __init__(self, vocab_path: str):
        super().__init__()
        self.vocab_file = tf.saved_model.Asset(vocab_path)
        self._tokenizer = tf_text.BertTokenizer(vocab_path, token_out_type=tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, texts):
        return self._tokenizer.tokenize(texts)

    @tf.function(
        input_signature=[
            [tf.RaggedTensorSpec([None, None, None], tf.int32, ragged_rank=2)],
            tf.TensorSpec([], tf.int32),
        ]
    )
    def bert_pack_inputs(self, inputs, seq_length):
        ids = inputs[0].merge_dims(-2, -1)[:, : seq_length - 2]
        n = ids.nrows()
        ids = tf.concat([tf.fill([n, 1], 2), ids, tf.fill([n, 1], 3)], axis=1)
        dense = ids.to_tensor(default_value=0)
        pad = seq_length - tf.shape(dense)[1]
        word_ids = tf.pad(dense, [[0, 0], [0, pad]])
        mask = tf.sequence_mask(ids.row_lengths(), seq_length, tf.int32)
        return {
            "input_word_ids": word_ids,
            "input_mask": mask,
            "input_type_ids": tf.zeros_like(word_ids),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        return self.bert_pack_inputs([self.tokenize(texts)], DEFAULT_SEQ_LENGTH)


class LabseV1Module(tf.Module):
    def __init__(self, vocab_path: str):
        super().__init__()
        self.bert = TinyBert(len(VOCAB), seed=1)
        self.vocab_file = tf.saved_model.Asset(vocab_path)
        self.do_lower_case = tf.Variable(False, trainable=False)

    @tf.function(input_signature=[[tf.TensorSpec([None, None], tf.int32)] * 3])
    def __call__(self, inputs):
        return self.bert.encode(inputs[0], inputs[1], inputs[2])


class StringModule(tf.Module):
    """LEALLA-style: strings in, L2-normalized [N, d] out, tokenization inside."""

    def __init__(self, vocab_path: str):
        super().__init__()
        self.bert = TinyBert(len(VOCAB), seed=2)
        self.pre = LabsePreprocessor(vocab_path)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        inputs = self.pre.bert_pack_inputs([self.pre.tokenize(texts)], 32)
        pooled, _ = self.bert.encode(
            inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
        )
        return tf.math.l2_normalize(pooled, axis=-1)


def build_all(root: str) -> dict[str, str]:
    """Saves every fixture under `root`; returns name -> SavedModel path."""
    os.makedirs(root, exist_ok=True)
    vocab = os.path.join(root, "vocab.txt")
    with open(vocab, "w", encoding="utf-8") as f:
        f.write("".join(f"{t}\n" for t in VOCAB))
    modules = {
        "labse_v2_encoder": LabseV2Encoder(vocab),
        "labse_v2_preprocessor": LabsePreprocessor(vocab),
        "labse_v1": LabseV1Module(vocab),
        "string": StringModule(vocab),
    }
    paths = {}
    for name, module in modules.items():
        paths[name] = os.path.join(root, name)
        tf.saved_model.save(module, paths[name])
    return paths


def _ln(x):
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + 1e-12)
