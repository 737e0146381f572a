"""`lealla align`: mine translation pairs from two monolingual files.

lealla align --encoder=use-multilingual --src=news.de --tgt=news.en --out=pairs.tsv
# rows: score<TAB>src sentence<TAB>tgt sentence, best first; --exact for brute force,
# --mode=mutual|union|forward|backward, --threshold=1.05 to keep confident pairs only;
# junk pairs (too long, implausible length ratio, identical sides, no letters, URLs)
# are dropped (--max_chars, --max_length_ratio, --drop).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import Counter

from absl import app, flags, logging

from lealla import configs, output_dirs, run_layout, textio
from lealla.commands import flags as shared_flags
from lealla.mining import embed_stream, mine, neighbors, pairs_tsv, quantized_search
from lealla.mining.line_file import LineFile
from lealla.mining.scann_search import ScannConfig

flags.DEFINE_string("encoder", None, "Registry name, hub handle, exported SavedModel or model_dir.")
flags.DEFINE_enum(
    "checkpoint", "best", list(run_layout.CHECKPOINTS), "Checkpoint of a training model_dir."
)
flags.DEFINE_string("src", None, "Source sentences, one per line (UTF-8).")
flags.DEFINE_string("tgt", None, "Target sentences, one per line (UTF-8).")
flags.DEFINE_string("out", None, "Output TSV: score<TAB>src<TAB>tgt (written atomically).")
flags.DEFINE_integer(
    "k", mine.DEFAULT_K, "Margin neighbourhood size (and candidates per side).", lower_bound=1
)
flags.DEFINE_enum(
    "mode",
    "mutual",
    list(mine.MINING_MODES),
    "mutual: best for both sides; union: best for either; forward/backward.",
)
flags.DEFINE_float("threshold", None, "Keep pairs whose margin score is >= this.")
flags.DEFINE_boolean("exact", False, "Brute-force search (chunked) instead of ScaNN.")
flags.DEFINE_integer("num_leaves", 0, "ScaNN tree leaves (0: about 2*sqrt(n)).")
flags.DEFINE_integer("leaves_to_search", 0, "ScaNN leaves searched per query (0: leaves/50).")
flags.DEFINE_integer("reorder", 100, "ScaNN candidates re-scored exactly.")
flags.DEFINE_enum(
    "embedding_dtype", "float32", list(quantized_search.EMBEDDING_DTYPES),
    "What the search holds in memory: float32; int8 (4x less, per-dimension scales "
    "calibrated on a sample; exact search over the codes); binary (32x less; Hamming "
    "candidates re-scored with the float rows, see --rescore). The recall lost against "
    "float32 is measured on a sample of queries and reported.",
)  # fmt: skip
flags.DEFINE_integer(
    "rescore", 100, "With --embedding_dtype=binary: candidates re-scored exactly.", lower_bound=1
)
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.")
flags.DEFINE_enum("dtype", "float32", ["float32", "float16"], "Storage of the embeddings.")
flags.DEFINE_string(
    "work_dir", None, "Keep the embeddings as .npy memory maps here (large inputs)."
)
flags.DEFINE_enum(
    "on_bad_line",
    "error",
    list(textio.ON_BAD_LINE_CHOICES),
    "error: stop at an empty or non-UTF-8 line naming it; skip: leave it out.",
)
shared_flags.define_pair_filter_flags()
flags.DEFINE_boolean(
    "dedupe", True, "Leave out repeated sentences (the first of each is kept) before search."
)
flags.DEFINE_boolean("json", False, "Print one JSON summary object last.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    for name in ("encoder", "src", "tgt", "out"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    filters = shared_flags.pair_filter()
    if os.path.isdir(FLAGS.out):
        raise app.UsageError(f"--out={FLAGS.out} is a folder; give the path of the .tsv to write")
    try:
        output_dirs.check_target(FLAGS.out, "--out", [("--src", FLAGS.src), ("--tgt", FLAGS.tgt)])
    except output_dirs.UnsafeOutputError as e:
        raise app.UsageError(str(e)) from None
    configs.check_writable(FLAGS.out)
    output_dirs.acquire(FLAGS.out)  # one writer of --out at a time
    # Validate both files before loading the encoder (fast failure, names the file).
    report = textio.BadLineReport()
    src, tgt = (LineFile(path, on_bad_line=FLAGS.on_bad_line, report=report,
                         dedupe=FLAGS.dedupe) for path in (FLAGS.src, FLAGS.tgt))  # fmt: skip
    logging.info(
        "align: %d source and %d target sentences (%d and %d duplicates left out); %s",
        len(src), len(tgt), src.duplicates, tgt.duplicates, report.summary(),
    )  # fmt: skip
    from lealla.commands import encoders

    encoder = encoders.load_encoder(FLAGS.encoder, checkpoint=FLAGS.checkpoint)
    work_dir = output_dirs.created(FLAGS.work_dir) if FLAGS.work_dir else contextlib.nullcontext()
    with work_dir:
        _align(encoder, src, tgt, filters, report)


def _align(encoder, src: LineFile, tgt: LineFile, filters, report) -> None:
    with tempfile.TemporaryDirectory(dir=FLAGS.work_dir) as scratch:
        work = scratch if FLAGS.work_dir else None
        emb = [
            embed_stream.embed_lines(
                lines,
                lambda texts: encoder.embed(texts, batch_size=FLAGS.batch_size),
                batch_size=FLAGS.batch_size,
                dtype=FLAGS.dtype,
                out_path=os.path.join(work, f"{side}.npy") if work else None,
                progress=f"embedding {lines.path}",
            )
            for side, lines in (("src", src), ("tgt", tgt))
        ]
        quantized: dict = {}
        pairs = mine.mine_pairs(
            emb[0],
            emb[1],
            k=FLAGS.k,
            mode=FLAGS.mode,
            threshold=FLAGS.threshold,
            search=_search_fn(quantized),
        )
    dropped = Counter()
    written = pairs_tsv.write_pairs_tsv(FLAGS.out, pairs, src, tgt, filters, dropped)
    print(
        f"wrote {written} pairs to {FLAGS.out} ({len(src)} x {len(tgt)} sentences"
        + (f"; filtered out {sum(dropped.values())}: "
           + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())) if dropped else "")
        + ")"
    )  # fmt: skip
    if quantized:
        print(
            f"{FLAGS.embedding_dtype} search: {quantized['index_bytes'] / 1e6:.2f} MB held vs "
            f"{quantized['float32_bytes'] / 1e6:.2f} MB as float32 "
            f"({quantized['float32_bytes'] / quantized['index_bytes']:.1f}x less); recall@"
            f"{FLAGS.k} against float32 on {quantized['recall_queries']} queries "
            f"{quantized['recall_against_float32']:.4f}"
        )
    if FLAGS.json:
        print(
            json.dumps(
                {
                    "pairs": written,
                    "src_sentences": len(src),
                    "tgt_sentences": len(tgt),
                    "skipped": dict(report.counts),
                    "dropped_by_filters": dict(dropped),
                    "duplicates": {"src": src.duplicates, "tgt": tgt.duplicates},
                    **({"quantized_search": quantized} if quantized else {}),
                }
            )
        )


# Queries sampled to measure the recall of a quantized search against float32.
RECALL_QUERIES = 1000


def _search_fn(quantized: dict) -> mine.SearchFn:
    """The kNN search of align; with a quantized --embedding_dtype, fills `quantized`
    with the memory held and the recall against float32 (measured on the forward
    direction, on up to RECALL_QUERIES queries)."""
    if FLAGS.embedding_dtype != "float32":
        dtype = FLAGS.embedding_dtype

        def search_codes(queries, base, k):
            index = quantized_search.QuantizedIndex.build(base, dtype)
            if not quantized:
                sample = queries[:: max(1, len(queries) // RECALL_QUERIES)][:RECALL_QUERIES]
                quantized.update(
                    embedding_dtype=dtype, index_bytes=index.nbytes,
                    float32_bytes=int(base.shape[0] * base.shape[1] * 4),
                    recall_queries=len(sample),
                    recall_against_float32=quantized_search.recall_against_float(
                        sample, base, index, k, FLAGS.rescore),
                )  # fmt: skip
            return index.search(queries, k, FLAGS.rescore, progress=f"{dtype} search")

        return search_codes
    method = "exact" if FLAGS.exact else "scann"
    config = ScannConfig(
        num_leaves=FLAGS.num_leaves, leaves_to_search=FLAGS.leaves_to_search, reorder=FLAGS.reorder
    )

    def search(queries, base, k):
        return neighbors.knn_search(
            queries, base, k, method=method, scann_config=config, progress=f"{method} search"
        )

    return search


if __name__ == "__main__":
    app.run(main)
