"""Pruning a big vocabulary (LaBSE's 501k wordpieces, USE-m's 128k pieces) to a corpus."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import string
import unicodedata
from collections.abc import Iterable, Iterator

import numpy as np

from lealla.files import output_dirs
from lealla.tokenization import coverage, sentencepiece, wordpiece
from lealla.tokenization import loading as tokenizer_loading
from lealla.tokenization import tokenizer as tokenizer_lib

_WORDPIECE_SUFFIX = "##"
OLD_IDS_FILE = "old_ids.npy"
PRUNING_JSON = "pruning.json"
_SP_SPACE = "\u2581"  # SentencePiece's word-boundary marker
# Characters kept whatever the corpus: digits, ASCII letters and punctuation appear
# in text of every language (numbers, names, URLs).
_SHARED_CATEGORIES = ("P", "S", "N")  # Unicode general categories: punctuation, symbol, number
_ALWAYS_KEPT_CHARS = frozenset(string.ascii_letters + string.digits + string.punctuation)


@dataclasses.dataclass(frozen=True)
class PrunedVocab:
    """A pruned vocabulary and where each kept token came from.

    Attributes:
      tokens: the kept tokens, index = new id (original order preserved).
      old_ids: old_ids[new_id] is the token's id in the original vocabulary, so
        an embedding table is pruned with table[old_ids].
      original_size: the original vocabulary size.
    """

    tokens: tuple[str, ...]
    old_ids: tuple[int, ...]
    original_size: int

    @property
    def size(self) -> int:
        return len(self.tokens)

    def rows_saved(self) -> int:
        return self.original_size - self.size

    def parameters_saved(self, hidden_size: int) -> int:
        """Embedding parameters saved at a given width."""
        return self.rows_saved() * hidden_size

    def describe(self) -> str:
        return (
            f"kept {self.size} of {self.original_size} tokens "
            f"({self.size / self.original_size:.2%}), {self.rows_saved()} embedding rows saved"
        )


@dataclasses.dataclass(frozen=True)
class CorpusTokens:
    """What a corpus uses of a tokenizer's vocabulary.

    Attributes:
      counts: uses of every token id over the corpus ([vocab_size] int64).
      chars: every character of the corpus (which scripts it writes).
      sentences: sentences counted.
    """

    counts: np.ndarray
    chars: frozenset[str]
    sentences: int


def count_tokens(tokenizer: tokenizer_lib.Tokenizer, texts: Iterable[str]) -> CorpusTokens:
    """Tokenizes `texts` (streamed, read once) and counts ids and characters."""
    chars: set[str] = set()
    counts, sentences = coverage.id_counts(tokenizer, _collect_chars(texts, chars))
    return CorpusTokens(counts, frozenset(chars), sentences)


def prune_tokenizer(
    tokenizer: tokenizer_lib.Tokenizer,
    texts: Iterable[str],
    *,
    min_count: int = 1,
    keep_corpus_chars: bool = True,
) -> tuple[tokenizer_lib.Tokenizer, PrunedVocab]:
    """Keeps the tokens a corpus uses, plus what keeps unseen text out of [UNK].

    `prune_to_corpus(tokenizer, count_tokens(tokenizer, texts), ...)`: see there.

    Args:
      tokenizer: a `WordpieceTokenizer` or `SentencepieceTokenizer`.
      texts: the corpus (streamed, read once).
      min_count: uses needed to keep a non-character token.
      keep_corpus_chars: keep the single-character tokens of the corpus's scripts.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    return prune_to_corpus(
        tokenizer, count_tokens(tokenizer, texts), min_count=min_count,
        keep_corpus_chars=keep_corpus_chars,
    )  # fmt: skip


def prune_to_corpus(
    tokenizer: tokenizer_lib.Tokenizer,
    used: CorpusTokens,
    *,
    min_count: int = 1,
    keep_corpus_chars: bool = True,
) -> tuple[tokenizer_lib.Tokenizer, PrunedVocab]:
    """Keeps the tokens a corpus uses, plus what keeps unseen text out of [UNK].

    Kept: special/control tokens; every token used at least `min_count` times (as
    counted by `count_tokens` with this tokenizer); and, with `keep_corpus_chars`,
    every single-character token (word-initial and continuation form) of every script
    the corpus uses (see `_chars_to_keep`) and of ASCII letters, digits and
    punctuation. Wordpiece falls back to those characters for unseen words;
    SentencePiece's Viterbi search likewise. On the corpus itself the pruned tokenizer
    gives exactly the original segmentation, because every piece of the original
    (optimal/greedy) segmentation is kept: so `used.counts[pruned.old_ids]` are the
    pruned tokenizer's counts on the corpus.

    Returns:
      (the pruned tokenizer, the `PrunedVocab` mapping new ids to old ones).
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    counts = used.counts
    vocab = tokenizer.vocabulary()
    keep_chars = _chars_to_keep(vocab, set(used.chars)) if keep_corpus_chars else frozenset()
    if isinstance(tokenizer, wordpiece.WordpieceTokenizer):
        specials = set(_special_tokens(tokenizer))
        keep = [
            i
            for i, tok in enumerate(vocab)
            if counts[i] >= min_count or tok in specials or _wordpiece_char(tok) in keep_chars
        ]
        pruned = PrunedVocab(tuple(vocab[i] for i in keep), tuple(keep), len(vocab))
        return wordpiece.WordpieceTokenizer(pruned.tokens, lower_case=tokenizer.lower_case), pruned
    if isinstance(tokenizer, sentencepiece.SentencepieceTokenizer):
        return _prune_sentencepiece(tokenizer, counts, min_count, keep_chars)
    raise TypeError(f"cannot prune a {type(tokenizer).__name__}")


def _prune_sentencepiece(tokenizer, counts, min_count, keep_chars):
    proto = sentencepiece.parse_model(tokenizer.model)
    normal = proto.SentencePiece.Type.NORMAL
    keep = [
        i
        for i, piece in enumerate(proto.pieces)
        if piece.type != normal
        or counts[i] >= min_count
        or _sentencepiece_char(piece.piece) in keep_chars
        or (keep_chars and piece.piece == _SP_SPACE)  # the bare word boundary
    ]
    new_id = {old: new for new, old in enumerate(keep)}
    kept_pieces = [proto.pieces[i] for i in keep]
    del proto.pieces[:]
    proto.pieces.extend(kept_pieces)
    spec = proto.trainer_spec
    for field in ("unk_id", "bos_id", "eos_id", "pad_id"):
        old = getattr(spec, field)
        if old >= 0:
            setattr(spec, field, new_id[old])
    spec.vocab_size = len(keep)
    pruned = PrunedVocab(tuple(p.piece for p in kept_pieces), tuple(keep), len(counts))
    return sentencepiece.SentencepieceTokenizer(proto.SerializeToString()), pruned


def _chars_to_keep(vocab: list[str], corpus_chars: set[str]) -> frozenset[str]:
    """Characters of every script the corpus uses, punctuation, symbols, digits, ASCII.

    Keeping whole scripts, not only the characters seen, matters for Han, kana and
    Hangul: a few hundred training sentences see a fraction of the characters that
    held-out text uses, and each unseen one would become [UNK].
    """
    scripts = {_script(ch) for ch in corpus_chars} - {""}
    vocab_chars = {_wordpiece_char(t) or _sentencepiece_char(t) for t in vocab} - {None}
    same_script = {ch for ch in vocab_chars if _script(ch) in scripts}
    # Punctuation, symbols and digits cross languages (Spanish ¿ is rare in German text).
    shared = {ch for ch in vocab_chars if unicodedata.category(ch)[0] in _SHARED_CATEGORIES}
    return frozenset(corpus_chars | same_script | shared | _ALWAYS_KEPT_CHARS)


def _script(ch: str) -> str:
    """A character's script, approximated by the first word of its Unicode name.

    "CJK UNIFIED IDEOGRAPH-4E00" -> "CJK", "HANGUL SYLLABLE GA" -> "HANGUL",
    "CYRILLIC SMALL LETTER A" -> "CYRILLIC"; "" for unnamed characters.
    """
    return unicodedata.name(ch, "").split(" ", 1)[0]


def _collect_chars(texts: Iterable[str], chars: set[str]) -> Iterator[str]:
    for text in texts:
        chars.update(text)
        yield text


def _special_tokens(tokenizer: wordpiece.WordpieceTokenizer) -> Iterator[str]:
    vocab = tokenizer.vocabulary()
    for token_id in dataclasses.astuple(tokenizer.special_ids):
        yield vocab[token_id]
    # BERT vocabularies mark all reserved tokens with brackets: [MASK], [unused0], ...
    yield from (t for t in vocab if t.startswith("[") and t.endswith("]"))


def _wordpiece_char(token: str) -> str | None:
    """The character of a single-character wordpiece ("a" or "##a"), else None."""
    body = token[len(_WORDPIECE_SUFFIX) :] if token.startswith(_WORDPIECE_SUFFIX) else token
    return body if len(body) == 1 else None


def _sentencepiece_char(piece: str) -> str | None:
    """The character of a single-character piece ("a" or "\u2581a"), else None."""
    body = piece[1:] if piece.startswith(_SP_SPACE) and len(piece) > 1 else piece
    return body if len(body) == 1 else None


def pruned_embedding_rows(table: np.ndarray, pruned: PrunedVocab) -> np.ndarray:
    """Slices an embedding table [original_size, d] to the kept rows [pruned.size, d]."""
    if table.shape[0] != pruned.original_size:
        raise ValueError(
            f"embedding table has {table.shape[0]} rows; the pruned vocab came from "
            f"{pruned.original_size} tokens"
        )
    return table[np.asarray(pruned.old_ids)]


def save_pruned(
    directory: str,
    tokenizer: tokenizer_lib.Tokenizer,
    pruned: PrunedVocab,
    *,
    overwrite: bool = False,
) -> None:
    """Writes the pruned tokenizer, `old_ids.npy` and `pruning.json` into a new folder.

    Everything is written into a temp folder beside `directory` and renamed into
    place, so an interrupted run leaves nothing half-written.

    Raises:
      FileExistsError: `directory` exists and `overwrite` is False.
      NotOursError: `directory` holds anything but a pruned vocabulary (`output_dirs`).
    """
    if os.path.exists(directory) and not overwrite:
        raise FileExistsError(f"{directory} exists; pass overwrite=True to replace it")
    output_dirs.check_replaceable(directory, output_dirs.PRUNED_VOCAB)
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    with output_dirs.locked(directory):
        output_dirs.remove_debris_beside(directory)
        tmp = output_dirs.temp_beside(directory)
        try:
            os.makedirs(tmp)
            tokenizer.save(tmp)
            np.save(os.path.join(tmp, OLD_IDS_FILE), np.asarray(pruned.old_ids, np.int64))
            with open(os.path.join(tmp, PRUNING_JSON), "w", encoding="utf-8") as f:
                json.dump({"original_size": pruned.original_size, "size": pruned.size}, f,
                          indent=2)  # fmt: skip
            output_dirs.replace_folder(tmp, directory, output_dirs.PRUNED_VOCAB)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def load_pruned(directory: str) -> tuple[tokenizer_lib.Tokenizer, PrunedVocab]:
    """Reads what `save_pruned` wrote."""
    tok = tokenizer_loading.load_tokenizer(directory)
    old_ids = np.load(os.path.join(directory, OLD_IDS_FILE), allow_pickle=False)
    with open(os.path.join(directory, PRUNING_JSON), encoding="utf-8") as f:
        meta = json.load(f)
    if len(old_ids) != tok.vocab_size:
        raise ValueError(
            f"{directory}: {OLD_IDS_FILE} has {len(old_ids)} ids for {tok.vocab_size} tokens"
        )
    return tok, PrunedVocab(
        tuple(tok.vocabulary()), tuple(int(i) for i in old_ids), int(meta["original_size"])
    )
