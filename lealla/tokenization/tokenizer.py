"""The tokenizer interface every student and teacher shares (`tokenization.loading` loads one)."""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

from lealla.files import atomic

TOKENIZER_JSON = "tokenizer.json"


@dataclasses.dataclass(frozen=True)
class SpecialIds:
    """Ids of the tokens a packer needs, looked up by name in the vocabulary.

    Attributes:
      cls: starts every sequence ([CLS], or <s> for SentencePiece).
      sep: ends every sequence ([SEP], or </s>).
      pad: fills padding positions (always masked out).
      unk: stands for text the vocabulary cannot express.
    """

    cls: int
    sep: int
    pad: int
    unk: int


class Tokenizer(tf.Module):
    """Strings in, int32 token ids out, entirely in the TF graph.

    Subclasses set `kind`, `special_ids` and `vocab_size` and implement `tokenize`,
    `detokenize`, `vocabulary` and `save`. Ids never include special tokens; a
    `Packer` adds them.
    """

    kind: str
    special_ids: SpecialIds
    vocab_size: int

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Maps a [n] tf.string tensor to int32 ids of shape [n, (tokens)]."""
        raise NotImplementedError

    def detokenize(self, ids: tf.RaggedTensor) -> tf.Tensor:
        """Maps int ids [n, (tokens)] back to a [n] tf.string tensor."""
        raise NotImplementedError

    def vocabulary(self) -> list[str]:
        """The tokens, index = id."""
        raise NotImplementedError

    def save(self, directory: str) -> None:
        """Writes the vocabulary asset and tokenizer.json into `directory`."""
        raise NotImplementedError


def write_tokenizer_json(directory: str, values: dict) -> None:
    atomic.atomic_write_text(
        os.path.join(directory, TOKENIZER_JSON), json.dumps(values, indent=2, sort_keys=True) + "\n"
    )
