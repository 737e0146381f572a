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


def define_teacher_flags() -> None:
    """--teacher, --preprocessor, --teacher_format, --teacher_seq_length."""
    flags.DEFINE_string(
        "teacher", None,
        "A registry name (labse, labse-v1, lealla-small|base|large, use-multilingual), a TF "
        "Hub/Kaggle handle, or a local SavedModel folder.",
    )  # fmt: skip
    flags.DEFINE_string(
        "preprocessor", None, "Preprocessor handle/path (LaBSE-v2-format teachers)."
    )
    flags.DEFINE_enum(
        "teacher_format", None, ["string", "labse_v2", "labse_v1"],
        "Teacher module format; detected when omitted.",
    )  # fmt: skip
    flags.DEFINE_integer("teacher_seq_length", 128, "Packed length for LaBSE-format teachers.")
