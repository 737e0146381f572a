"""Flag definitions shared by several `lealla` subcommands."""

from __future__ import annotations

from absl import app, flags

from lealla.config import flag_bounds
from lealla.files import output_dirs, textio
from lealla.mining import pair_filters
from lealla.shards import contract


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
    from lealla.models.teachers.registry import FORMATS  # data only: no TensorFlow at flag time

    flags.DEFINE_string(
        "teacher", None,
        "A registry name (labse, labse-v1, lealla-small|base|large, use-multilingual), a TF "
        "Hub/Kaggle handle, or a local SavedModel folder.",
    )  # fmt: skip
    flags.DEFINE_string(
        "preprocessor", None, "Preprocessor handle/path (LaBSE-v2-format teachers)."
    )
    flags.DEFINE_enum(
        "teacher_format", None, list(FORMATS),
        "Teacher module format; detected when omitted.",
    )  # fmt: skip
    flags.DEFINE_integer(
        "teacher_seq_length", 128, "Packed length for LaBSE-format teachers.", lower_bound=3
    )


def define_runner_flags() -> None:
    """--runner and --num_workers: where a sharded job (cache, embed) runs."""
    flags.DEFINE_string(
        "runner", "local",
        "local: an Apache Beam pipeline on this machine (DirectRunner, multi-processing, "
        "no network); inprocess: no Beam, this process alone; or any Beam runner "
        "(DataflowRunner, FlinkRunner, SparkRunner, ...), whose pipeline options "
        "(--project=..., --region=..., --temp_location=gs://...) are passed through.",
    )  # fmt: skip
    flags.DEFINE_integer(
        "num_workers", 0, "Worker processes of the local runner; 0: one per core.", lower_bound=0
    )


def runner_config(extra_args: list[str]):
    """The `contract.RunnerConfig` of --runner/--num_workers and the flags the command
    did not know (pipeline options of a Beam runner).

    Raises:
      app.UsageError: unknown flags for the local or in-process runner, or a positional
        argument.
    """
    FLAGS = flags.FLAGS
    positional = [a for a in extra_args if not a.startswith("-")]
    if positional:
        raise app.UsageError(f"unexpected arguments {positional}")
    if extra_args and FLAGS.runner in (contract.INPROCESS, contract.LOCAL):
        raise app.UsageError(
            f"unknown flag(s) {extra_args}: pipeline options are for Beam runners such as "
            f"--runner=DataflowRunner; the {FLAGS.runner} runner takes none"
        )
    return contract.RunnerConfig(FLAGS.runner, FLAGS.num_workers, tuple(extra_args))


_DROPS = ("identical", "no_letters", "url")


def define_pair_filter_flags() -> None:
    """--max_chars, --max_length_ratio, --drop: the junk filters of mined pairs."""
    flags.DEFINE_integer(
        "max_chars", 1000, "Drop pairs with a side longer than this (0: no limit).", lower_bound=0
    )
    flag_bounds.define_float(
        "max_length_ratio", 3.0,
        "Drop pairs whose sides' script-weighted lengths differ by more than this factor "
        "(0: no limit).",
        at_least=0,
    )  # fmt: skip
    flags.DEFINE_list(
        "drop", list(_DROPS),
        "Junk filters: identical (the same text on both sides), no_letters (numbers or "
        "symbols only), url (mostly URLs/e-mails); empty: none.",
    )  # fmt: skip


def pair_filter():
    """The `pair_filters.PairFilter` of the flags.

    Raises:
      app.UsageError: an unknown --drop filter or a bad limit.
    """
    FLAGS = flags.FLAGS
    unknown = sorted(set(FLAGS.drop) - set(_DROPS))
    if unknown:
        raise app.UsageError(f"--drop: unknown filter(s) {unknown}; choose from {list(_DROPS)}")
    try:
        return pair_filters.PairFilter(
            max_chars=FLAGS.max_chars, max_length_ratio=FLAGS.max_length_ratio,
            drop_identical="identical" in FLAGS.drop, drop_no_letters="no_letters" in FLAGS.drop,
            drop_urls="url" in FLAGS.drop,
        )  # fmt: skip
    except ValueError as e:
        raise app.UsageError(str(e)) from None


def claim_output(path: str, kind, *, flag: str = "--out", inputs=(), replace: bool = False) -> None:
    """`output_dirs.claim` for an entry point, before any work: an output that is an
    input, the root, home or current folder is a usage error; the folder's lock is held
    until the process exits.

    Args:
      path: the output folder.
      kind: its `output_dirs.FolderKind`.
      flag: the flag that named it.
      inputs: (flag, path) pairs the command reads.
      replace: the command will replace `path` (--overwrite), not fill or resume it.
    """
    try:
        output_dirs.claim(path, kind, flag=flag, inputs=inputs, replace=replace)
    except output_dirs.UnsafeOutputError as e:
        raise app.UsageError(str(e)) from None
