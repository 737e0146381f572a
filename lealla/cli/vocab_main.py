"""`lealla vocab build|prune|coverage`: learn, prune or measure a vocabulary on a corpus."""

from __future__ import annotations

import os

from absl import app, flags, logging

from lealla.cli import flags as shared_flags
from lealla.data import corpus
from lealla.files import output_dirs, textio
from lealla.tokenization import coverage, vocab_builder, vocab_file, vocab_pruning
from lealla.tokenization import loading as tokenizer_loading
from lealla.ui.progress import Progress

ACTIONS = ("build", "prune", "coverage")

shared_flags.define_corpus_flags()
shared_flags.define_tokenizer_flags()
flags.DEFINE_string("out", None, "build: the vocab.txt to write; prune: the folder to write.")
flags.DEFINE_integer(
    "vocab_size", 32_000, "build: target vocabulary size (> 5 reserved tokens).", lower_bound=6
)
flags.DEFINE_integer(
    "min_count", 1, "prune: uses needed to keep a (non-character) token.", lower_bound=1
)
flags.DEFINE_boolean(
    "overwrite", False,
    "Replace an existing --out (prune: only a folder `lealla vocab prune` wrote).",
)  # fmt: skip
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] not in ACTIONS:
        raise app.UsageError(f"usage: lealla vocab {{{'|'.join(ACTIONS)}}} --corpus=... [flags]")
    if not FLAGS.corpus:
        raise app.UsageError("--corpus is required (comma-separated files or globs)")
    sources = corpus.resolve_sources(FLAGS.corpus)
    action = argv[1]
    if action == "build":
        _build(sources)
    elif action == "prune":
        _prune(sources)
    else:
        report_coverage(_tokenizer_from_flags(), sources, FLAGS.on_bad_line)


def _build(sources) -> None:
    out = _require_new_out(sources)
    if os.path.isdir(out):
        raise app.UsageError(f"--out={out} is a folder; give the path of the vocab.txt to write")
    report = textio.BadLineReport()
    texts = _texts_with_progress(sources, report, "reading for the vocab learner")
    tokens = vocab_builder.build_wordpiece_vocab(
        texts, FLAGS.vocab_size, lower_case=FLAGS.lower_case
    )
    vocab_file.write_vocab(out, tokens)
    logging.info("wrote %d tokens to %s (%s)", len(tokens), out, report.summary())
    print(f"wrote {out}: {len(tokens)} tokens")
    tok = tokenizer_loading.tokenizer_from_files(vocab=out, lower_case=FLAGS.lower_case)
    report_coverage(tok, sources, FLAGS.on_bad_line)


def _prune(sources) -> None:
    out = _require_new_out(sources)
    shared_flags.claim_output(out, output_dirs.PRUNED_VOCAB, replace=True)
    tok = _tokenizer_from_flags()
    report = textio.BadLineReport()
    texts = _texts_with_progress(sources, report, "counting tokens")
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(tok, texts, min_count=FLAGS.min_count)
    vocab_pruning.save_pruned(out, pruned_tok, pruned, overwrite=FLAGS.overwrite)
    print(f"wrote {out}: {pruned.describe()}")
    print("coverage before pruning:")
    report_coverage(tok, sources, FLAGS.on_bad_line)
    print("coverage after pruning:")
    report_coverage(pruned_tok, sources, FLAGS.on_bad_line)


def report_coverage(tok, sources, on_bad_line: str) -> dict[str, coverage.Coverage]:
    """Prints a per-language coverage table and returns it."""
    sentences = corpus.iter_sentences(
        sources, on_bad_line=on_bad_line, report=textio.BadLineReport()
    )
    results = coverage.coverage_by_language(tok, sentences)
    print("lang\tsentences\ttokens\ttok/sent\tunk_rate\tids_used")
    for lang, c in results.items():
        print(
            f"{lang}\t{c.sentences}\t{c.tokens}\t{c.tokens_per_sentence:.1f}\t"
            f"{c.unk_rate:.4%}\t{c.distinct_ids}"
        )
    return results


def _texts_with_progress(sources, report, description):
    with Progress(description, unit="sentences") as bar:
        for _, text in corpus.iter_sentences(sources, on_bad_line=FLAGS.on_bad_line, report=report):
            bar.update()
            yield text


def _tokenizer_from_flags():
    try:
        return tokenizer_loading.tokenizer_from_files(
            vocab=FLAGS.vocab, sp_model=FLAGS.sp_model, lower_case=FLAGS.lower_case
        )
    except ValueError as e:
        raise app.UsageError(f"--vocab/--sp_model: {e}") from None


def _require_new_out(sources) -> str:
    if not FLAGS.out:
        raise app.UsageError("--out is required")
    if os.path.exists(FLAGS.out) and not FLAGS.overwrite:
        raise app.UsageError(f"--out={FLAGS.out} exists; pass --overwrite to replace it")
    inputs = [("--corpus", p) for s in sources for p in s.paths]
    inputs += [("--vocab", FLAGS.vocab), ("--sp_model", FLAGS.sp_model)]
    try:
        output_dirs.check_target(FLAGS.out, "--out", inputs)
    except output_dirs.UnsafeOutputError as e:
        raise app.UsageError(str(e)) from None
    output_dirs.check_writable(FLAGS.out)
    return FLAGS.out


if __name__ == "__main__":
    app.run(main)
