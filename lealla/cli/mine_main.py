"""`lealla mine`: bitext mining of corpora of any size as Apache Beam pipelines.

lealla mine --encoder=use-multilingual --src='web.de.*' --tgt='web.en.*' --out=mined/
# both sides embedded (`lealla embed`'s sharded format, kept in --work_dir), searched in
# blocks of --index_shard_size rows (ScaNN per block, or --exact), scored with the ratio
# margin, selected (--mode, --threshold) and filtered; the output folder holds
# pairs-TTTTT.tsv (score<TAB>src<TAB>tgt<TAB>src_file:line<TAB>tgt_file:line),
# summary.json and scores.png. With one block per side it returns what `lealla align`
# returns. --src_embeddings/--tgt_embeddings take folders `lealla embed` made.
"""

from __future__ import annotations

import math

from absl import app, flags

from lealla.cli import flags as shared_flags
from lealla.ui import console

flags.DEFINE_string(
    "encoder",
    None,
    "What embeds (registry name, hub handle, SavedModel, "
    "model_dir); not needed when both sides' embeddings are given.",
)
flags.DEFINE_list("src", None, "Source sentence files, one per line (globs allowed).")
flags.DEFINE_list("tgt", None, "Target sentence files, one per line (globs allowed).")
flags.DEFINE_string("src_embeddings", None, "A `lealla embed` folder of the source side.")
flags.DEFINE_string("tgt_embeddings", None, "A `lealla embed` folder of the target side.")
flags.DEFINE_string("out", None, "Output folder (refused if it exists, unless --overwrite).")
flags.DEFINE_string(
    "work_dir",
    None,
    "Embeddings and neighbour lists (kept: a rerun resumes, "
    "another --mode/--threshold reuses them); default OUT.work.",
)
flags.DEFINE_boolean(
    "overwrite", False,
    "Replace an existing output folder (one `lealla mine` wrote; anything else is refused).",
)  # fmt: skip
flags.DEFINE_integer("k", 4, "Margin neighbourhood size (and candidates per side).", lower_bound=1)
flags.DEFINE_enum(
    "mode",
    "mutual",
    ["mutual", "union", "forward", "backward"],
    "mutual: best for both sides; union: best for either; forward/backward.",
)
flags.DEFINE_string(
    "threshold", None,
    "Keep pairs whose margin score is >= this; auto: the F1-optimal threshold on the "
    "known pairs of --calibration (as `lealla eval bucc` chooses it on gold pairs).",
)  # fmt: skip
flags.DEFINE_string(
    "calibration", None,
    "With --threshold=auto: known translation pairs (src<TAB>tgt per line) that occur in "
    "--src and --tgt, e.g. a few hundred checked by hand.",
)  # fmt: skip
flags.DEFINE_boolean("exact", False, "Brute-force search (chunked) instead of ScaNN.")
flags.DEFINE_integer(
    "index_shard_size",
    1_000_000,
    "Rows per block: each target block gets its own ScaNN index (every point scored "
    "below 20k rows), each source block is streamed past it; size it to a worker's memory.",
    lower_bound=1,
)
flags.DEFINE_integer(
    "num_leaves", 0, "ScaNN tree leaves per block (0: about 2*sqrt(n)).", lower_bound=0
)
flags.DEFINE_integer(
    "leaves_to_search", 0, "ScaNN leaves searched per query (0: leaves/50).", lower_bound=0
)
flags.DEFINE_integer("reorder", 100, "ScaNN candidates re-scored exactly.", lower_bound=1)
flags.DEFINE_integer("shard_size", 100_000, "Lines per embedding shard.", lower_bound=1)
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.", lower_bound=1)
flags.DEFINE_enum("dtype", "float16", ["float16", "float32"], "Stored embedding precision.")
flags.DEFINE_enum(
    "on_bad_line",
    "error",
    ["error", "skip"],
    "error: stop at the first bad line naming file and line; skip: leave it out.",
)
shared_flags.define_pair_filter_flags()
flags.DEFINE_boolean(
    "dedupe", True, "Leave out repeated sentences (the first of each is kept) before search."
)
flags.DEFINE_boolean(
    "json", False, "Print the summary as one JSON object alone on stdout (the rest to stderr)."
)
shared_flags.define_runner_flags()
FLAGS = flags.FLAGS
# Flags this command does not know are a Beam runner's pipeline options (see lealla.cli.main).
PASSES_UNKNOWN_FLAGS = True


def main(argv: list[str]) -> None:
    runner = shared_flags.runner_config(argv[1:])
    if not FLAGS.out:
        raise app.UsageError("--out is required")
    for side in ("src", "tgt"):
        if not FLAGS[side].value and not FLAGS[f"{side}_embeddings"].value:
            raise app.UsageError(f"--{side} or --{side}_embeddings is required")
    needs_encoder = not (FLAGS.src_embeddings and FLAGS.tgt_embeddings)
    if needs_encoder and not FLAGS.encoder:
        raise app.UsageError("--encoder is required to embed --src/--tgt")
    filters = shared_flags.pair_filter()
    threshold = _threshold()
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.api import mining as api_mining
    from lealla.embeddings import embedding_shards
    from lealla.files import fileio, output_dirs
    from lealla.mining import mine_corpus, mine_run
    from lealla.mining.scann_search import ScannConfig

    # Every output checked and claimed before any work (nothing the user did not write is
    # replaced; one writer per folder).
    try:
        mine_corpus.check_output(FLAGS.out, FLAGS.overwrite)
    except output_dirs.UnsafeOutputError as e:
        raise app.UsageError(str(e)) from None
    output_dirs.check_writable(FLAGS.out)
    work = FLAGS.work_dir or FLAGS.out.rstrip("/") + ".work"
    output_dirs.check_writable(work, "--work_dir")
    files = {side: [p for spec in (FLAGS[side].value or [])
                    for p in fileio.expand(spec, f"--{side} file")]
             for side in ("src", "tgt")}  # fmt: skip
    inputs = [(f"--{side}", p) for side in ("src", "tgt") for p in files[side]]
    inputs += [(f"--{side}_embeddings", FLAGS[f"{side}_embeddings"].value)
               for side in ("src", "tgt")]  # fmt: skip
    inputs.append(("--calibration", FLAGS.calibration))
    shared_flags.claim_output(FLAGS.out, output_dirs.MINED, inputs=[*inputs, ("--work_dir", work)],
                              replace=True)  # fmt: skip
    shared_flags.claim_output(work, output_dirs.MINE_WORK, flag="--work_dir", inputs=inputs)
    calibration = mine_corpus.read_calibration(FLAGS.calibration) if FLAGS.calibration else ()
    config = mine_run.MineConfig(
        k=FLAGS.k, mode=FLAGS.mode, threshold=threshold, calibration=calibration,
        exact=FLAGS.exact,
        scann=ScannConfig(num_leaves=FLAGS.num_leaves, leaves_to_search=FLAGS.leaves_to_search,
                          reorder=FLAGS.reorder),
        index_shard_size=FLAGS.index_shard_size,
        embed=embedding_shards.EmbedConfig(
            shard_size=FLAGS.shard_size, batch_size=FLAGS.batch_size, dtype=FLAGS.dtype,
            on_bad_line=FLAGS.on_bad_line),
        filters=filters, dedupe=FLAGS.dedupe,
    )  # fmt: skip
    summary = api_mining.mine(
        FLAGS.out, encoder=FLAGS.encoder, src=FLAGS.src or (), tgt=FLAGS.tgt or (),
        src_embeddings=FLAGS.src_embeddings, tgt_embeddings=FLAGS.tgt_embeddings,
        config=config, work_dir=FLAGS.work_dir, overwrite=FLAGS.overwrite, runner=runner,
    )  # fmt: skip
    repeats = summary["duplicates_left_out"] or {}
    dropped = summary["dropped_by_filters"]
    console.say(
        f"wrote {summary['pairs']} pairs to {FLAGS.out} ({len(summary['files'])} shard(s); "
        f"{summary['src_sentences']} x {summary['tgt_sentences']} sentences"
        + (f" after leaving out {repeats['src']} + {repeats['tgt']} repeated"
           if any(repeats.values()) else "")
        + (f"; filtered out {sum(dropped.values())}: "
           + ", ".join(f"{k} {v}" for k, v in dropped.items()) if dropped else "")
        + f"); embeddings and neighbour lists kept in {work}",
        json_output=FLAGS.json,
    )  # fmt: skip
    if FLAGS.json:
        console.print_json(summary)


def _threshold() -> float | None:
    """--threshold as a number, None (no threshold) or None with --calibration (auto)."""
    value = FLAGS.threshold
    if value == "auto":
        if not FLAGS.calibration:
            raise app.UsageError("--threshold=auto needs --calibration=FILE.tsv (known pairs)")
        return None
    if FLAGS.calibration:
        raise app.UsageError("--calibration is used by --threshold=auto only")
    if value is None:
        return None
    try:
        threshold = float(value)
    except ValueError:
        raise app.UsageError(f"--threshold must be a number or auto, got {value!r}") from None
    if not math.isfinite(threshold):
        raise app.UsageError(f"--threshold must be a finite number or auto, got {value!r}")
    return threshold


if __name__ == "__main__":
    app.run(main, flags_parser=lambda argv: FLAGS(argv, known_only=True))
