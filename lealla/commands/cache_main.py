"""`lealla cache`: run a teacher once over a corpus and store its embeddings (resumable)."""

from __future__ import annotations

from absl import app, flags

from lealla import corpus
from lealla.commands import flags as shared_flags

shared_flags.define_corpus_flags()
shared_flags.define_teacher_flags()
flags.DEFINE_string("out", None, "The cache folder (created; an unfinished one is resumed).")
flags.DEFINE_integer("shard_size", 10_000, "Examples per shard (the unit of resumption).")
flags.DEFINE_integer("batch_size", 256, "Sentences per teacher call.")
flags.DEFINE_enum("dtype", "float16", ["float16", "float32"], "Stored embedding precision.")
flags.DEFINE_boolean("overwrite", False, "Replace a cache built with other settings.")
flags.DEFINE_list(
    "augment", [],
    "Also embed one variant of each example as monolingual text: span (3-8 words), prefix "
    "(2-6 words), case (lower/sentence case), punct (punctuation dropped). Short, noisy "
    "variants teach the student the teacher beyond the corpus's own domain.",
)  # fmt: skip
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    for name in ("teacher", "corpus", "out"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required")
    from lealla import configs
    from teachers import embedding_cache, loading

    configs.check_writable(FLAGS.out)

    sources = corpus.resolve_sources(FLAGS.corpus)
    config = embedding_cache.CacheConfig(
        shard_size=FLAGS.shard_size,
        batch_size=FLAGS.batch_size,
        dtype=FLAGS.dtype,
        on_bad_line=FLAGS.on_bad_line,
        augment=tuple(FLAGS.augment),
    )
    teacher = loading.load_teacher(
        FLAGS.teacher,
        preprocessor=FLAGS.preprocessor,
        format=FLAGS.teacher_format,
        seq_length=FLAGS.teacher_seq_length,
    )
    manifest = embedding_cache.build_cache(
        teacher, sources, FLAGS.out, config, overwrite=FLAGS.overwrite
    )
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
    app.run(main)
