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
    """The `shard_runner.RunnerConfig` of --runner/--num_workers and the flags the command
    did not know (pipeline options of a Beam runner).

    Raises:
      app.UsageError: unknown flags for the local or in-process runner, or a positional
        argument.
    """
    from absl import app

    from lealla import shard_runner

    FLAGS = flags.FLAGS
    positional = [a for a in extra_args if not a.startswith("-")]
    if positional:
        raise app.UsageError(f"unexpected arguments {positional}")
    if extra_args and FLAGS.runner in (shard_runner.INPROCESS, shard_runner.LOCAL):
        raise app.UsageError(
            f"unknown flag(s) {extra_args}: pipeline options are for Beam runners such as "
            f"--runner=DataflowRunner; the {FLAGS.runner} runner takes none"
        )
    return shard_runner.RunnerConfig(FLAGS.runner, FLAGS.num_workers, tuple(extra_args))
