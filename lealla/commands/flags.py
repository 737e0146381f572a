"""Flag definitions shared by several `lealla` subcommands."""

from __future__ import annotations

from absl import flags

from lealla import textio


def define_corpus_flags() -> None:
    """--corpus and --on_bad_line."""
    flags.DEFINE_list(
        "corpus",
        None,
        "Corpus files, comma-separated, globs allowed: de-en.tsv (src<TAB>tgt, or "
        "src_lang<TAB>tgt_lang<TAB>src<TAB>tgt), corpus.de-en.de + corpus.de-en.en "
        "(aligned; give either file or the prefix corpus.de-en), de.txt (monolingual).",
    )
    flags.DEFINE_enum(
        "on_bad_line",
        "error",
        list(textio.ON_BAD_LINE_CHOICES),
        "error: stop at the first bad line (invalid UTF-8, empty, wrong field count) "
        "naming file and line; skip: drop bad lines and print how many and why.",
    )


def define_tokenizer_flags() -> None:
    """--vocab / --sp_model / --lower_case: which tokenizer to load."""
    flags.DEFINE_string("vocab", None, "A wordpiece vocab.txt (one token per line).")
    flags.DEFINE_string("sp_model", None, "A SentencePiece .model file.")
    flags.DEFINE_boolean(
        "lower_case", False, "Wordpiece only: lowercase and strip accents (uncased vocab)."
    )
