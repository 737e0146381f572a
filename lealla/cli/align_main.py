"""`lealla align`: mine translation pairs from two monolingual files.

lealla align --encoder=use-multilingual --src=news.de --tgt=news.en --out=pairs.tsv
# rows: score<TAB>src sentence<TAB>tgt sentence, best first; --exact for brute force,
# --mode=mutual|union|forward|backward, --threshold=1.05 to keep confident pairs only;
# junk pairs (too long, implausible length ratio, identical sides, no letters, URLs)
# are dropped (--max_chars, --max_length_ratio, --drop).
"""

from __future__ import annotations

from absl import app, flags

from lealla.cli import flags as shared_flags
from lealla.config import flag_bounds
from lealla.files import output_dirs, textio
from lealla.mining import mine, quantized_search
from lealla.mining.scann_search import ScannConfig
from lealla.records import run_layout
from lealla.ui import console

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
flag_bounds.define_float("threshold", None, "Keep pairs whose margin score is >= this.")
flags.DEFINE_boolean("exact", False, "Brute-force search (chunked) instead of ScaNN.")
flags.DEFINE_integer("num_leaves", 0, "ScaNN tree leaves (0: about 2*sqrt(n)).", lower_bound=0)
flags.DEFINE_integer(
    "leaves_to_search", 0, "ScaNN leaves searched per query (0: leaves/50).", lower_bound=0
)
flags.DEFINE_integer("reorder", 100, "ScaNN candidates re-scored exactly.", lower_bound=1)
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
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.", lower_bound=1)
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
flags.DEFINE_boolean(
    "json", False, "Print one JSON summary object alone on stdout (the rest goes to stderr)."
)
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    for name in ("encoder", "src", "tgt", "out"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.mining import align

    config = align.AlignConfig(
        k=FLAGS.k, mode=FLAGS.mode, threshold=FLAGS.threshold, exact=FLAGS.exact,
        scann=ScannConfig(num_leaves=FLAGS.num_leaves, leaves_to_search=FLAGS.leaves_to_search,
                          reorder=FLAGS.reorder),
        embedding_dtype=FLAGS.embedding_dtype, rescore=FLAGS.rescore,
        batch_size=FLAGS.batch_size, dtype=FLAGS.dtype, work_dir=FLAGS.work_dir,
        on_bad_line=FLAGS.on_bad_line, dedupe=FLAGS.dedupe, filters=shared_flags.pair_filter(),
    )  # fmt: skip
    # loads TensorFlow: only once both files are valid
    from lealla.api.encoders import load_encoder

    # The files are validated before the encoder is loaded (a bad line fails fast).
    try:
        summary = align.align(
            lambda: load_encoder(FLAGS.encoder, checkpoint=FLAGS.checkpoint),
            FLAGS.src, FLAGS.tgt, FLAGS.out, config,
        )  # fmt: skip
    except output_dirs.UnsafeOutputError as e:
        raise app.UsageError(str(e)) from None
    dropped, quantized = summary["dropped_by_filters"], summary.get("quantized_search")
    console.say(
        f"wrote {summary['pairs']} pairs to {FLAGS.out} ({summary['src_sentences']} x "
        f"{summary['tgt_sentences']} sentences"
        + (f"; filtered out {sum(dropped.values())}: "
           + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())) if dropped else "")
        + ")", json_output=FLAGS.json,
    )  # fmt: skip
    if quantized:
        console.say(
            f"{FLAGS.embedding_dtype} search: {quantized['index_bytes'] / 1e6:.2f} MB held vs "
            f"{quantized['float32_bytes'] / 1e6:.2f} MB as float32 "
            f"({quantized['float32_bytes'] / quantized['index_bytes']:.1f}x less); recall@"
            f"{FLAGS.k} against float32 on {quantized['recall_queries']} queries "
            f"{quantized['recall_against_float32']:.4f}",
            json_output=FLAGS.json,
        )
    if FLAGS.json:
        console.print_json(summary)


if __name__ == "__main__":
    app.run(main)
