"""`lealla corpus`: validate corpus files and count examples per language group."""

from __future__ import annotations

from absl import app, flags

from lealla.cli import flags as shared_flags
from lealla.data import corpus, pipeline
from lealla.ui import console

shared_flags.define_corpus_flags()
flags.DEFINE_boolean(
    "json", False, "Print one JSON object alone on stdout (the human lines go to stderr)."
)
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    if not FLAGS.corpus:
        raise app.UsageError("--corpus is required (comma-separated files or globs)")
    sources = corpus.resolve_sources(FLAGS.corpus)
    console.stage(f"scanning {len(sources)} source(s)")
    index = pipeline.scan_corpus(sources, on_bad_line=FLAGS.on_bad_line)
    for scan in index.scans:
        console.say(
            f"{scan.source.describe()}: {scan.num_lines} lines, "
            f"{sum(scan.group_counts.values())} examples",
            json_output=FLAGS.json,
        )
    for group, n in index.group_counts.items():
        console.say(f"  {group}\t{n}", json_output=FLAGS.json)
    console.say(
        f"total {index.num_examples} examples; {index.report.summary()}", json_output=FLAGS.json
    )
    if FLAGS.json:
        console.print_json(
            {
                "examples": index.num_examples,
                "groups": index.group_counts,
                "skipped": dict(index.report.counts),
            }
        )


if __name__ == "__main__":
    app.run(main)
