"""A tokenizer from a saved folder or from vocabulary files: the one place that knows every kind."""

from __future__ import annotations

import json
import os

from lealla.tokenization import sentencepiece, tokenizer, wordpiece


def load_tokenizer(directory: str) -> tokenizer.Tokenizer:
    """Loads a tokenizer saved with `Tokenizer.save` (the kind is read, never guessed).

    Raises:
      FileNotFoundError: no tokenizer.json in `directory`.
      ValueError: an unknown tokenizer kind or unknown keys.
    """
    path = os.path.join(directory, tokenizer.TOKENIZER_JSON)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {tokenizer.TOKENIZER_JSON} in {directory}")
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
) -> tokenizer.Tokenizer:
    """A wordpiece tokenizer from `vocab` or a SentencePiece one from `sp_model` (exactly one).

    Raises:
      ValueError: both or neither given, or `lower_case` with a SentencePiece model.
    """
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
