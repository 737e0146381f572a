"""`lealla cache`: run a teacher once over a corpus and store its embeddings (resumable).

The corpus is cut into shards of --shard_size lines, embedded by an Apache Beam
pipeline (--runner=local: this machine's cores; DataflowRunner, FlinkRunner,
SparkRunner with their own pipeline options) or by this process (--runner=inprocess).
Every runner writes the same cache; a rerun finishes what a killed one left.
"""

from __future__ import annotations

import functools

from absl import app, flags

from lealla.cli import flags as shared_flags
from lealla.data import corpus

shared_flags.define_corpus_flags()
shared_flags.define_teacher_flags()
shared_flags.define_runner_flags()
flags.DEFINE_string("out", None, "The cache folder (created; an unfinished one is resumed).")
flags.DEFINE_integer(
    "shard_size", 10_000, "Corpus lines per shard (unit of work and resumption).", lower_bound=1
)
flags.DEFINE_integer("batch_size", 256, "Sentences per teacher call.", lower_bound=1)
flags.DEFINE_enum("dtype", "float16", ["float16", "float32"], "Stored embedding precision.")
flags.DEFINE_boolean(
    "overwrite", False,
    "Replace a cache built with other settings (a folder holding anything else is refused).",
)  # fmt: skip
flags.DEFINE_list(
    "augment", [],
    "Also embed one variant of each example as monolingual text: span (3-8 words), prefix "
    "(2-6 words), case (lower/sentence case), punct (punctuation dropped). Off by default "
    "(benchmarks/RESULTS.md#ablations-and-decisions).",
)  # fmt: skip
FLAGS = flags.FLAGS
# Flags this command does not know are a Beam runner's pipeline options (see lealla.cli.main).
PASSES_UNKNOWN_FLAGS = True


def main(argv: list[str]) -> None:
    runner = shared_flags.runner_config(argv[1:])
    for name in ("teacher", "corpus", "out"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.files import output_dirs
    from lealla.models.teachers import embedding_cache, loading

    output_dirs.check_writable(FLAGS.out)

    sources = corpus.resolve_sources(FLAGS.corpus)
    shared_flags.claim_output(
        FLAGS.out, output_dirs.CACHE, inputs=[("--corpus", p) for s in sources for p in s.paths],
        replace=FLAGS.overwrite,
    )  # fmt: skip
    config = embedding_cache.CacheConfig(
        shard_size=FLAGS.shard_size,
        batch_size=FLAGS.batch_size,
        dtype=FLAGS.dtype,
        on_bad_line=FLAGS.on_bad_line,
        augment=tuple(FLAGS.augment),
    )
    load_teacher = functools.partial(
        loading.load_teacher,
        FLAGS.teacher,
        preprocessor=FLAGS.preprocessor,
        format=FLAGS.teacher_format,
        seq_length=FLAGS.teacher_seq_length,
    )
    teacher = load_teacher()
    manifest = embedding_cache.build_cache(
        teacher, sources, FLAGS.out, config, overwrite=FLAGS.overwrite, runner=runner,
        load_teacher=load_teacher,
    )  # fmt: skip
    skipped = manifest.get("skipped_lines") or {}
    print(
        f"cache {FLAGS.out}: {manifest['num_examples']} examples in "
        f"{len(manifest['shards'])} shard(s), teacher {teacher.describe()}"
        + (
            f"; skipped {sum(skipped.values())} bad line(s): "
            + ", ".join(f"{k} {v}" for k, v in skipped.items())
            if skipped
            else ""
        )
    )


if __name__ == "__main__":
    app.run(main, flags_parser=lambda argv: FLAGS(argv, known_only=True))
