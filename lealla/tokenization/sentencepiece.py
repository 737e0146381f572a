"""SentencePiece tokenization (e.g. USE-multilingual's 128k model) with tensorflow_text."""

from __future__ import annotations

import os

import tensorflow as tf

from lealla.files import atomic, textio
from lealla.tokenization import tokenizer

MODEL_FILE = "sp.model"


class SentencepieceTokenizer(tokenizer.Tokenizer):
    """SentencePiece in the TF graph; ids are exactly those of the sentencepiece library.

    Special ids come from the model's trainer spec: <s> plays [CLS], </s> plays [SEP],
    and a model without a pad piece pads with its <unk> id (padding is masked out).

    Args:
      model: the serialized SentencePiece ModelProto (the bytes of a .model file).

    Raises:
      ValueError: `model` is not a SentencePiece model, or has no <s>/</s>/<unk>.
    """

    kind = "sentencepiece"

    def __init__(self, model: bytes):
        super().__init__(name="sentencepiece_tokenizer")
        import tensorflow_text as tf_text

        proto = parse_model(model)
        spec = proto.trainer_spec
        if min(spec.bos_id, spec.eos_id, spec.unk_id) < 0:
            raise ValueError(
                "SentencePiece model needs <unk>, <s> and </s> pieces (unk_id/bos_id/eos_id >= 0); "
                f"got unk_id={spec.unk_id} bos_id={spec.bos_id} eos_id={spec.eos_id}"
            )
        self._model = bytes(model)
        self._pieces = [p.piece for p in proto.pieces]
        self.vocab_size = len(self._pieces)
        self.special_ids = tokenizer.SpecialIds(
            cls=spec.bos_id,
            sep=spec.eos_id,
            pad=spec.pad_id if spec.pad_id >= 0 else spec.unk_id,
            unk=spec.unk_id,
        )
        # FastSentencepieceTokenizer keeps its model as a constant buffer, not a TF
        # resource, so it survives tf.distribute's dataset rewriting (the resource
        # of SentencepieceTokenizer does not); ids are identical (tested).
        self._tokenizer = tf_text.FastSentencepieceTokenizer(self._model)

    @classmethod
    def from_model_file(cls, path: str) -> SentencepieceTokenizer:
        textio.require_file(path, "SentencePiece model")
        with open(path, "rb") as f:
            data = f.read()
        try:
            return cls(data)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    @classmethod
    def from_saved(cls, directory: str, values: dict) -> SentencepieceTokenizer:
        model_path = os.path.join(directory, values.pop("model_file"))
        if values:
            raise ValueError(f"unknown sentencepiece settings {sorted(values)} in {directory}")
        return cls.from_model_file(model_path)

    @property
    def model(self) -> bytes:
        """The serialized model, e.g. to attach to an export as an asset."""
        return self._model

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        return tf.cast(self._tokenizer.tokenize(texts), tf.int32)

    def detokenize(self, ids: tf.RaggedTensor) -> tf.Tensor:
        return self._tokenizer.detokenize(ids)

    def vocabulary(self) -> list[str]:
        return list(self._pieces)

    def save(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        atomic.atomic_write_bytes(os.path.join(directory, MODEL_FILE), self._model)
        tokenizer.write_tokenizer_json(directory, {"kind": self.kind, "model_file": MODEL_FILE})


def parse_model(model: bytes):
    """Parses a serialized SentencePiece ModelProto; ValueError if it is not one."""
    try:
        from sentencepiece import sentencepiece_model_pb2
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError("SentencePiece models need the 'sentencepiece' pip package") from e
    from google.protobuf.message import DecodeError

    proto = sentencepiece_model_pb2.ModelProto()
    try:
        proto.ParseFromString(model)
    except DecodeError as e:
        raise ValueError(f"not a SentencePiece model ({e})") from None
    if not proto.pieces:
        raise ValueError("not a SentencePiece model (no pieces)")
    return proto
