"""`lealla demo`: the offline demo on the shipped 14-language corpus.

Today it runs the data and vocabulary stages of the toolkit end to end: validate
the corpus, stream temperature-mixed, length-bucketed batches, prune the teacher's
(USE-multilingual) SentencePiece vocabulary to the training split, learn a new
wordpiece vocabulary, and measure [UNK] rate and tokens per sentence on the held-out
split, with a report (markdown + PNG) in --out.
"""

from __future__ import annotations

import collections
import os
import time

from absl import app, flags, logging

from lealla import configs, corpus, demo_corpus, pipeline, plots, sampling
from lealla.tokenization import (
    coverage,
    packing,
    sentencepiece,
    vocab_builder,
    vocab_file,
    vocab_pruning,
    wordpiece,
)

flags.DEFINE_string("out", "demo_out", "Folder for the demo's artifacts and report.")
flags.DEFINE_integer("wordpiece_vocab_size", 8000, "Size of the wordpiece vocab learned.")
flags.DEFINE_integer("batches", 200, "Batches drawn to measure the input pipeline.")
flags.DEFINE_integer("batch_size", 32, "Examples per batch.")
FLAGS = flags.FLAGS

_SEQ_LENGTH = 64
_BUCKETS = (16, 32, 64)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    out = FLAGS.out
    os.makedirs(out, exist_ok=True)
    train = demo_corpus.parallel_sources("train")
    test = demo_corpus.parallel_sources("test")

    logging.info("[1/4] validating the demo corpus")
    index = pipeline.scan_corpus(train)
    print(f"demo corpus: {index.num_examples} training pairs in {len(index.group_counts)} groups")

    from teachers import usem3_assets  # the CLI may reach into teachers/, the library may not

    teacher_tok = sentencepiece.SentencepieceTokenizer.from_model_file(
        usem3_assets.sentencepiece_model_path()
    )
    logging.info("[2/4] streaming temperature-mixed, length-bucketed batches")
    mix, rate = _measure_pipeline(index, teacher_tok)

    logging.info("[3/4] pruning the teacher vocabulary and learning a wordpiece vocabulary")
    train_texts = [t for _, t in corpus.iter_sentences(train)]
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(teacher_tok, train_texts)
    vocab_pruning.save_pruned(
        os.path.join(out, "use_m_pruned_vocab"), pruned_tok, pruned, overwrite=True
    )
    wordpiece_path = os.path.join(out, "wordpiece_vocab.txt")
    tokens = vocab_builder.build_wordpiece_vocab(train_texts, FLAGS.wordpiece_vocab_size)
    vocab_file.write_vocab(wordpiece_path, tokens)
    wordpiece_tok = wordpiece.WordpieceTokenizer.from_vocab_file(wordpiece_path)

    logging.info("[4/4] measuring coverage on the held-out test split")
    tokenizers = {
        f"USE-m ({teacher_tok.vocab_size})": teacher_tok,
        f"USE-m pruned ({pruned.size})": pruned_tok,
        f"wordpiece ({wordpiece_tok.vocab_size})": wordpiece_tok,
    }
    results = {
        name: coverage.coverage_by_language(tok, corpus.iter_sentences(test))
        for name, tok in tokenizers.items()
    }
    report = _write_report(out, index, mix, rate, pruned, results)
    print(report)
    print(f"report: {os.path.join(out, 'report.md')}")


def _measure_pipeline(index, tok) -> tuple[dict[str, float], float]:
    config = pipeline.InputConfig(seed=0)
    packer = packing.Packer(tok, _SEQ_LENGTH)
    ds = pipeline.bucket_by_length(
        pipeline.tokenize_examples(pipeline.make_example_dataset(index, config), packer),
        lengths=_BUCKETS,
        batch_size=FLAGS.batch_size,
    ).prefetch(2)
    counts: collections.Counter = collections.Counter()
    start = time.perf_counter()
    for batch in ds.take(FLAGS.batches):
        for src, tgt in zip(batch["src_lang"].numpy(), batch["tgt_lang"].numpy(), strict=True):
            counts[corpus.group_key(src.decode(), tgt.decode())] += 1
    seconds = time.perf_counter() - start
    total = sum(counts.values())
    rate = total / seconds
    print(f"input pipeline: {total} examples in {seconds:.2f}s ({rate:.0f} examples/s)")
    return {g: n / total for g, n in sorted(counts.items())}, rate


def _write_report(out, index, mix, rate, pruned, results) -> str:
    expected = sampling.temperature_weights(index.group_counts, pipeline.DEFAULT_TEMPERATURE)
    langs = sorted({lang for r in results.values() for lang in r})
    lines = [
        "# LEALLA demo report",
        "",
        f"Training pairs: {index.num_examples} in {len(index.group_counts)} language pairs; "
        f"input pipeline {rate:.0f} examples/s (tokenize + bucket, batch {FLAGS.batch_size}).",
        "",
        f"Teacher vocabulary pruned to the training split: {pruned.describe()}.",
        "",
        "## Held-out coverage per language",
        "",
        "| lang | " + " | ".join(f"{n}: unk / tok per sent" for n in results) + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
    ]
    for lang in langs:
        cells = [
            f"{r[lang].unk_rate:.2%} / {r[lang].tokens_per_sentence:.1f}" for r in results.values()
        ]
        lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    lines += ["", "## Language mix drawn vs temperature formula", "", "| group | drawn | formula |"]
    lines += ["| --- | --- | --- |"]
    lines += [f"| {g} | {mix.get(g, 0.0):.3f} | {expected[g]:.3f} |" for g in expected]
    lines += ["", "![unk rate](unk_rate.png)", "", "![tokens per sentence](tokens.png)", ""]
    text = "\n".join(lines)
    configs.atomic_write_text(os.path.join(out, "report.md"), text)
    plots.grouped_bar_chart(
        os.path.join(out, "unk_rate.png"),
        langs,
        {n: [r[lang].unk_rate for lang in langs] for n, r in results.items()},
        title="[UNK] rate on the held-out split",
        ylabel="[UNK] rate",
        percent=True,
    )
    plots.grouped_bar_chart(
        os.path.join(out, "tokens.png"),
        langs,
        {n: [r[lang].tokens_per_sentence for lang in langs] for n, r in results.items()},
        title="Tokens per sentence on the held-out split",
        ylabel="tokens / sentence",
    )
    return text


if __name__ == "__main__":
    app.run(main)
