"""Teachers: frozen sentence encoders behind one interface, in the formats TF Hub publishes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from lealla.tokenization import packing
from lealla.tokenization import tokenizer as tokenizer_lib

_DEFAULT_SEQ_LENGTH = packing.DEFAULT_SEQ_LENGTH  # LaBSE's preprocessor default: 128


class Teacher(tf.Module):
    """A frozen encoder: `embed(strings) -> [N, d]` float32, L2-normalized.

    Usable eagerly, inside tf.function and inside `strategy.run`. Subclasses
    implement `raw_embed` for their module format.

    Attributes:
      handle: what it was loaded from (registry name, hub handle or path).
      embedding_dim: d.
      normalized: whether the module's own output is already unit length.
      tokenizer: the teacher's tokenizer when its vocabulary is known (a student
        can reuse or prune it), else None.
    """

    format: str

    def __init__(
        self,
        handle: str,
        embedding_dim: int | None,
        normalized: bool,
        tokenizer: tokenizer_lib.Tokenizer | None,
        token_table_fn: Callable[[], np.ndarray] | None = None,
    ):
        super().__init__(name="teacher")
        self.handle = handle
        self.embedding_dim = embedding_dim  # None until `_complete` probes the module
        self.normalized = normalized
        self.tokenizer = tokenizer
        # For modules whose token table is not a plain float variable (USE-m's is uint8).
        self.token_table_fn = token_table_fn

    def _complete(self) -> None:
        """Ends every subclass's __init__: probes the module for d when it was not given.

        Raises:
          ValueError: the module does not return [N, d] embeddings.
        """
        if self.embedding_dim is None:
            out = self.raw_embed(tf.constant(["dimension probe"]))
            if out.shape.rank != 2 or out.shape[0] != 1:
                raise ValueError(f"{self.handle}: expected [N, d] embeddings, got {out.shape}")
            self.embedding_dim = int(out.shape[-1])

    def token_embeddings(self) -> np.ndarray | None:
        """The teacher's token embedding table [vocab_size, d_tok] float32, if found.

        Looks for the one float variable of shape [tokenizer.vocab_size, ...] in the
        module (LaBSE's word embeddings); None when there is no tokenizer or no such
        variable. A student sharing the vocabulary can start from it.
        """
        if self.token_table_fn is not None:
            return self.token_table_fn()
        if self.tokenizer is None:
            return None
        candidates = [
            v for v in _all_variables(self.encoder_module())
            if v.dtype.is_floating and v.shape.rank == 2 and v.shape[0] == self.tokenizer.vocab_size
        ]  # fmt: skip
        if len(candidates) != 1:
            return None
        return candidates[0].numpy().astype(np.float32)

    def encoder_module(self):
        """The loaded module holding the encoder's variables."""
        return self.module

    def num_parameters(self) -> int:
        """Elements of every variable of the encoder module (a quantized table counts once)."""
        return sum(int(np.prod(v.shape)) for v in _all_variables(self.encoder_module()))

    def raw_embed(self, texts: tf.Tensor) -> tf.Tensor:
        """[N] tf.string -> [N, d] float32, exactly as the module returns it."""
        raise NotImplementedError

    def embed(self, texts: tf.Tensor) -> tf.Tensor:
        """[N] tf.string -> [N, d] float32, L2-normalized."""
        out = tf.cast(self.raw_embed(texts), tf.float32)
        return out if self.normalized else tf.math.l2_normalize(out, axis=-1)

    def describe(self) -> str:
        vocab = f", vocab {self.tokenizer.vocab_size}" if self.tokenizer else ""
        return f"{self.handle} ({self.format}, {self.embedding_dim} dims{vocab})"


class StringTeacher(Teacher):
    """A module called on strings (USE-multilingual, LEALLA on TF Hub)."""

    format = "string"

    def __init__(
        self,
        module,
        handle: str,
        embedding_dim: int | None,
        normalized: bool,
        tokenizer=None,
        token_table_fn: Callable[[], np.ndarray] | None = None,
    ):
        super().__init__(handle, embedding_dim, normalized, tokenizer, token_table_fn)
        self.module = module
        self._complete()

    def raw_embed(self, texts: tf.Tensor) -> tf.Tensor:
        out = self.module(texts)
        if isinstance(out, dict):  # some string modules return {"default": ...}
            out = out["default"]
        return out


class LabseV2Teacher(Teacher):
    """An encoder taking {input_word_ids, input_mask, input_type_ids} plus its preprocessor.

    The preprocessor packs to 128 tokens when called on strings; other lengths go
    through its `tokenize` and `bert_pack_inputs(..., seq_length=N)`, as published.
    The encoder's "default" output (the pooled output) is not normalized.
    """

    format = "labse_v2"

    def __init__(
        self,
        encoder,
        preprocessor,
        handle: str,
        embedding_dim: int | None,
        tokenizer=None,
        seq_length: int = _DEFAULT_SEQ_LENGTH,
    ):
        super().__init__(handle, embedding_dim, False, tokenizer)
        self.encoder = encoder
        self.preprocessor = preprocessor
        self.seq_length = seq_length
        self._complete()

    def encoder_module(self):
        return self.encoder

    def encoder_inputs(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        if self.seq_length == _DEFAULT_SEQ_LENGTH:
            return self.preprocessor(texts)
        tokens = self.preprocessor.tokenize(texts)
        return self.preprocessor.bert_pack_inputs([tokens], seq_length=self.seq_length)

    def raw_embed(self, texts: tf.Tensor) -> tf.Tensor:
        return self.encoder(self.encoder_inputs(texts))["default"]


class LabseV1Teacher(Teacher):
    """LaBSE v1: a list [input_word_ids, input_mask, segment_ids] in, (pooled, sequence) out.

    It ships its vocab as an asset (`vocab_file`) and `do_lower_case`; tokenization is
    ours (wordpiece, in-graph) with that vocab.
    """

    format = "labse_v1"

    def __init__(
        self,
        module,
        handle: str,
        embedding_dim: int | None,
        tokenizer: tokenizer_lib.Tokenizer,
        seq_length: int = _DEFAULT_SEQ_LENGTH,
    ):
        super().__init__(handle, embedding_dim, False, tokenizer)
        self.module = module
        self.packer = packing.Packer(tokenizer, seq_length)
        self.seq_length = seq_length
        self._complete()

    def raw_embed(self, texts: tf.Tensor) -> tf.Tensor:
        inputs = packing.pad_to_length(
            self.packer(texts), self.seq_length, self.tokenizer.special_ids.pad
        )
        pooled, _ = self.module(
            [inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]]
        )
        return pooled


def _all_variables(root) -> list[tf.Variable]:
    """Every variable reachable from a loaded SavedModel object.

    Keras-exported modules list them in `.variables`; plain tf.Module exports do
    not, so the object graph is walked (`_trackable_children` is what SavedModel
    itself uses to traverse it).
    """
    if hasattr(root, "variables"):
        return list(root.variables)
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, tf.Variable):
            found.append(obj)
            continue
        children = getattr(obj, "_trackable_children", None)
        if children is not None:
            stack.extend(children().values())
    return found
