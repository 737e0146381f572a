"""`lealla corpus`: validate corpus files and count examples per language group."""

from __future__ import annotations

import json

from absl import app, flags, logging

from lealla import corpus, pipeline
from lealla.commands import flags as shared_flags

shared_flags.define_corpus_flags()
flags.DEFINE_boolean("json", False, "Print one JSON object as the last line.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    if not FLAGS.corpus:
        raise app.UsageError("--corpus is required (comma-separated files or globs)")
    sources = corpus.resolve_sources(FLAGS.corpus)
    logging.info("scanning %d source(s)", len(sources))
    index = pipeline.scan_corpus(sources, on_bad_line=FLAGS.on_bad_line)
    for scan in index.scans:
        print(
            f"{scan.source.describe()}: {scan.num_lines} lines, "
            f"{sum(scan.group_counts.values())} examples"
        )
    for group, n in index.group_counts.items():
        print(f"  {group}\t{n}")
    print(f"total {index.num_examples} examples; {index.report.summary()}")
    if FLAGS.json:
        print(
            json.dumps(
                {
                    "examples": index.num_examples,
                    "groups": index.group_counts,
                    "skipped": dict(index.report.counts),
                }
            )
        )


if __name__ == "__main__":
    app.run(main)
