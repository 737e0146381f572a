"""The tokenizer interface every student and teacher shares, and loading a saved one."""

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


def load_tokenizer(directory: str) -> Tokenizer:
    """Loads a tokenizer saved with `Tokenizer.save` (the kind is read, never guessed).

    Raises:
      FileNotFoundError: no tokenizer.json in `directory`.
      ValueError: an unknown tokenizer kind or unknown keys.
    """
    from lealla.tokenization import sentencepiece, wordpiece

    path = os.path.join(directory, TOKENIZER_JSON)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {TOKENIZER_JSON} in {directory}")
    with open(path, encoding="utf-8") as f:
        values = json.load(f)
    kinds = {
        wordpiece.WordpieceTokenizer.kind: wordpiece.WordpieceTokenizer,
        sentencepiece.SentencepieceTokenizer.kind: sentencepiece.SentencepieceTokenizer,
    }
    kind = values.pop("kind", None)
    if kind not in kinds:
        raise ValueError(
            f"{path}: unknown tokenizer kind {kind!r}; expected one of {sorted(kinds)}"
        )
    return kinds[kind].from_saved(directory, values)


def tokenizer_from_files(
    *, vocab: str | None = None, sp_model: str | None = None, lower_case: bool = False
) -> Tokenizer:
    """A wordpiece tokenizer from `vocab` or a SentencePiece one from `sp_model` (exactly one).

    Raises:
      ValueError: both or neither given, or `lower_case` with a SentencePiece model.
    """
    from lealla.tokenization import sentencepiece, wordpiece

    if (vocab is None) == (sp_model is None):
        raise ValueError("give exactly one of vocab (wordpiece vocab.txt) or sp_model (.model)")
    if vocab is not None:
        return wordpiece.WordpieceTokenizer.from_vocab_file(vocab, lower_case=lower_case)
    if lower_case:
        raise ValueError(
            "lower_case applies to wordpiece vocabs; a SentencePiece model "
            "carries its own normalization"
        )
    return sentencepiece.SentencepieceTokenizer.from_model_file(sp_model)
