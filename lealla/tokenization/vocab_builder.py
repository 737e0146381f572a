"""Learning a new wordpiece vocabulary from a corpus (tensorflow_text's BERT vocab learner)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import tensorflow as tf

from lealla.tokenization import vocab_file

# The learner drops characters beyond this many distinct ones; CJK corpora need many.
DEFAULT_MAX_UNIQUE_CHARS = 20_000
_LEARNER_BATCH = 1024


def build_wordpiece_vocab(
    texts: Iterable[str],
    vocab_size: int,
    *,
    lower_case: bool = False,
    reserved_tokens: Sequence[str] = vocab_file.RESERVED_TOKENS,
    max_unique_chars: int = DEFAULT_MAX_UNIQUE_CHARS,
) -> list[str]:
    """Learns a BERT wordpiece vocabulary from streamed text.

    The learner splits text as BertTokenizer does (whitespace, punctuation, CJK
    characters), then picks wordpieces greedily up to about `vocab_size` tokens. Every
    character it keeps appears both as a word-initial token and as "##" + char, so
    text made of known characters never becomes [UNK].

    Args:
      texts: sentences (any iterable, read once, streamed).
      vocab_size: the target size; the learner may land a few percent off (it adds
        every kept character in both forms on top of its wordpiece search).
      lower_case: learn an uncased vocab (lowercased, accents stripped).
      reserved_tokens: placed first, in order ([PAD] gets id 0).
      max_unique_chars: how many distinct characters may enter the vocab.

    Returns:
      The tokens, index = id.

    Raises:
      ValueError: vocab_size smaller than the reserved tokens, or no text.
    """
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

    if vocab_size <= len(reserved_tokens):
        raise ValueError(
            f"vocab_size must exceed the {len(reserved_tokens)} reserved tokens, got {vocab_size}"
        )
    stream = iter(texts)
    first = next(stream, None)
    if first is None:
        raise ValueError("cannot build a vocabulary from an empty corpus")

    def generate():
        yield first
        yield from stream

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec([], tf.string)
    ).batch(_LEARNER_BATCH)
    tokens = bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset,
        vocab_size=vocab_size,
        reserved_tokens=list(reserved_tokens),
        bert_tokenizer_params={"lower_case": lower_case},
        learn_params={"max_unique_chars": max_unique_chars},
    )
    return list(tokens)
