"""`lealla embed`: sentence embeddings of text files as sharded .npy files (resumable).

One sentence per line. The files are cut into shards of --shard_size lines, embedded by
an Apache Beam pipeline (--runner=local, DataflowRunner, ...) or this process
(--runner=inprocess); the output holds per shard NNN-SSSSS.npy ([n, d]; int8 codes or
packed sign bits with --dtype=int8|binary, decoded by every reader) and
NNN-SSSSS.index.npy (line number and byte offset of each row) plus manifest.json.
"""

from __future__ import annotations

from absl import app, flags

from lealla.cli import flags as shared_flags

flags.DEFINE_string(
    "encoder", None,
    "What embeds: a registry name (use-multilingual, labse, lealla-small, ...), a TF Hub "
    "handle, an exported SavedModel folder or a training --model_dir.",
)  # fmt: skip
flags.DEFINE_list("input", None, "Text files, comma-separated, globs allowed.")
flags.DEFINE_string("out", None, "The output folder (created; an unfinished one is resumed).")
flags.DEFINE_integer(
    "shard_size", 100_000, "Lines per shard (unit of work and resumption).", lower_bound=1
)
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.", lower_bound=1)
flags.DEFINE_enum(
    "dtype", "float16", ["float16", "float32", "int8", "binary"],
    "Stored precision: float16 halves float32; int8 (per-dimension scales per shard) and "
    "binary (sign bits; searched by Hamming distance) are 4x and 32x smaller, with the "
    "recall they keep against float32 measured on every shard. Binary has no float "
    "re-scoring: use it for coarse search (benchmarks/RESULTS.md#quantized-embeddings-"
    "in-mining-int8-and-binary-vs-float32).",
)  # fmt: skip
flags.DEFINE_enum(
    "embedding_dtype", None, ["float16", "float32", "int8", "binary"],
    "Same as --dtype (the name `lealla align` uses).",
)  # fmt: skip
flags.DEFINE_enum(
    "on_bad_line", "error", ["error", "skip"],
    "error: stop at the first bad line (invalid UTF-8, control character, empty) naming "
    "file and line; skip: leave it out (the index keeps every row's line number).",
)  # fmt: skip
flags.DEFINE_boolean(
    "overwrite", False,
    "Replace embeddings made with other settings (a folder holding anything else is "
    "refused).",
)  # fmt: skip
shared_flags.define_runner_flags()
FLAGS = flags.FLAGS
# Flags this command does not know are a Beam runner's pipeline options (see lealla.cli.main).
PASSES_UNKNOWN_FLAGS = True


def main(argv: list[str]) -> None:
    runner = shared_flags.runner_config(argv[1:])
    for name in ("encoder", "input", "out"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.api import mining as api_mining
    from lealla.embeddings import embedding_shards
    from lealla.files import fileio, output_dirs

    output_dirs.check_writable(FLAGS.out)
    inputs = [path for spec in FLAGS.input for path in fileio.expand(spec, "--input file")]
    shared_flags.claim_output(
        FLAGS.out, output_dirs.EMBEDDINGS, inputs=[("--input", p) for p in inputs],
        replace=FLAGS.overwrite,
    )  # fmt: skip
    if FLAGS.embedding_dtype and FLAGS["dtype"].present and FLAGS.dtype != FLAGS.embedding_dtype:
        raise app.UsageError("give --dtype or --embedding_dtype, not both")
    dtype = FLAGS.embedding_dtype or FLAGS.dtype
    config = embedding_shards.EmbedConfig(
        shard_size=FLAGS.shard_size, batch_size=FLAGS.batch_size, dtype=dtype,
        on_bad_line=FLAGS.on_bad_line,
    )  # fmt: skip
    manifest = api_mining.embed(
        FLAGS.encoder, FLAGS.input, FLAGS.out, config, runner=runner, overwrite=FLAGS.overwrite
    )
    identity = manifest["identity"]
    inputs = identity["inputs"]
    skipped = manifest.get("skipped_lines") or {}
    print(
        f"embeddings {FLAGS.out}: {manifest['num_sentences']} sentences of {len(inputs)} "
        f"file(s) in {len(manifest['shards'])} shard(s), {identity['embedding_dim']} dims "
        f"{dtype}, encoder {identity['encoder']}"
        + (f"; skipped {sum(skipped.values())} bad line(s): "
           + ", ".join(f"{k} {v}" for k, v in skipped.items()) if skipped else "")
    )  # fmt: skip
    storage = manifest.get("storage") or {}
    if storage.get("float32_bytes"):
        recall = storage.get("recall_at_10")
        print(
            f"  stored {storage['bytes'] / 1e6:.2f} MB vs {storage['float32_bytes'] / 1e6:.2f} MB "
            f"as float32 ({storage['float32_bytes'] / max(storage['bytes'], 1):.1f}x less)"
            + (f"; recall@10 against float32 {recall:.3f} (measured on each shard)"
               if recall is not None else "")
        )  # fmt: skip


if __name__ == "__main__":
    app.run(main, flags_parser=lambda argv: FLAGS(argv, known_only=True))
