"""Wordpiece vocabulary files (vocab.txt): strict reading and atomic writing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lealla.files import atomic, textio

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
# The BERT/LaBSE special tokens a student's packer needs, looked up by name.
REQUIRED_TOKENS = (PAD, UNK, CLS, SEP)
RESERVED_TOKENS = (PAD, UNK, CLS, SEP, MASK)


def read_vocab(path: str, required: Sequence[str] = REQUIRED_TOKENS) -> list[str]:
    """Reads a one-token-per-line vocab file and checks that it is one.

    Args:
      path: the vocab file (UTF-8, token i on line i + 1).
      required: tokens that must be present, e.g. ("[UNK]", "[CLS]", "[SEP]").

    Returns:
      The tokens, index = token id.

    Raises:
      FileNotFoundError: no such file.
      CorpusError: invalid UTF-8, an empty line, whitespace inside a token, a
        duplicate token (naming both lines), or a missing required token.
    """
    tokens: list[str] = []
    first_line: dict[str, int] = {}
    for index, raw in enumerate(textio.iter_raw_lines(path)):
        line_no = index + 1
        token = textio.decode_line(path, line_no, raw).rstrip("\r")
        if not token:
            raise textio.CorpusError(
                path, line_no, "empty line: not a vocab file (one token per line)"
            )
        if any(ch.isspace() for ch in token):
            raise textio.CorpusError(
                path,
                line_no,
                f"token {token[:40]!r} contains whitespace: not a vocab file (one token per line)",
            )
        if token in first_line:
            raise textio.CorpusError(
                path, line_no, f"duplicate token {token!r} (first on line {first_line[token]})"
            )
        first_line[token] = line_no
        tokens.append(token)
    if not tokens:
        raise textio.CorpusError(path, None, "vocab file is empty")
    missing = [t for t in required if t not in first_line]
    if missing:
        raise textio.CorpusError(
            path,
            None,
            f"vocab lacks required special token(s) {missing}; a BERT-style "
            f"wordpiece vocab has {list(REQUIRED_TOKENS)}",
        )
    return tokens


def write_vocab(path: str, tokens: Iterable[str]) -> None:
    """Writes tokens one per line, atomically."""
    atomic.atomic_write_text(path, "".join(f"{t}\n" for t in tokens))
