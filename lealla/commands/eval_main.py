"""`lealla eval tatoeba|bucc|un`: evaluate one encoder (or two side by side) on bitext retrieval.

lealla eval tatoeba --encoder=use-multilingual --data=DIR [--languages=deu,fra] [--json]
lealla eval bucc --encoder=... --data=DIR [--split=sample] [--threshold=1.1]
lealla eval un --encoder=... --data=DIR [--exact]
# add --reference_encoder=labse for a second column / bar; --chart=out.png for a PNG;
# --download fetches the public set into the cache when --data is not given.
"""

from __future__ import annotations

import json
import sys

from absl import app, flags, logging

from lealla.evaluation import bucc, datasets, report, tatoeba, un
from lealla.mining import mine
from lealla.mining.neighbors import knn_search
from lealla.mining.scann_search import ScannConfig

TASKS = ("tatoeba", "bucc", "un")

flags.DEFINE_string("encoder", None, "Registry name, hub handle, exported SavedModel or model_dir.")
flags.DEFINE_string("reference_encoder", None, "A second encoder (e.g. the teacher) to compare.")
flags.DEFINE_enum("checkpoint", "best", ["best", "latest"], "Checkpoint of a training model_dir.")
flags.DEFINE_string("data", None, "Folder with the task's files (default: the download cache).")
flags.DEFINE_boolean("download", False, "Download the public set into the cache if missing.")
flags.DEFINE_list("languages", None, "Languages to evaluate (deu or de); default: all found.")
flags.DEFINE_boolean("json", False, "Print one JSON object (average, per_language) last.")
flags.DEFINE_string("chart", None, "Write a PNG bar chart per language here.")
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.")
flags.DEFINE_enum("split", "sample", ["sample", "training"], "BUCC: which gold split.")
flags.DEFINE_float("threshold", None, "BUCC: fixed margin threshold (default: F1-optimal).")
flags.DEFINE_integer("k", mine.DEFAULT_K, "BUCC: margin neighbourhood size.")
flags.DEFINE_boolean("exact", False, "BUCC/UN: brute-force search instead of ScaNN.")
flags.DEFINE_string("work_dir", None, "UN: keep embeddings as .npy memory maps here.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    usage = f"usage: lealla eval {{{'|'.join(TASKS)}}} --encoder=... [--data=DIR]"
    if len(argv) == 2 and argv[1] not in TASKS:
        raise app.UsageError(f"unknown task {argv[1]!r}; {usage}")
    if len(argv) != 2:
        raise app.UsageError(usage)
    task = argv[1]
    if not FLAGS.encoder:
        raise app.UsageError("--encoder is required (a registry name, hub handle or path)")
    try:
        data = FLAGS.data or _downloaded(task)
    except datasets.DatasetUnavailableError as e:
        sys.exit(f"lealla eval {task}: {e}")
    reports = []
    for spec in [FLAGS.encoder, FLAGS.reference_encoder]:
        if spec:
            reports.append(_evaluate(task, _LazyEncoder(spec, FLAGS.checkpoint), data))
    print(report.format_table(reports))
    if FLAGS.chart:
        report.write_chart(FLAGS.chart, reports)
        print(f"wrote {FLAGS.chart}")
    if FLAGS.json:
        print(json.dumps(report.combined_dict(reports)))


class _LazyEncoder:
    """Loads the encoder at the first embedding, so bad data files fail fast."""

    def __init__(self, spec: str, checkpoint: str):
        self.name = spec
        self._checkpoint = checkpoint
        self._encoder = None

    def embed(self, texts, progress: str | None = None):
        if self._encoder is None:
            from lealla.commands import encoders

            self._encoder = encoders.load_encoder(self.name, checkpoint=self._checkpoint)
        return self._encoder.embed(texts, batch_size=FLAGS.batch_size, progress=progress)


def _evaluate(task: str, encoder: _LazyEncoder, data: str) -> report.EvalReport:
    def embed(texts):
        return encoder.embed(texts, progress=f"embedding ({encoder.name})")

    logging.info("evaluating %s on %s (%s)", encoder.name, task, data)
    method = "exact" if FLAGS.exact else "scann"
    if task == "tatoeba":
        return tatoeba.evaluate_tatoeba(embed, data, FLAGS.languages, encoder=encoder.name)
    if task == "bucc":
        return bucc.evaluate_bucc(
            embed,
            data,
            split=FLAGS.split,
            languages=FLAGS.languages,
            threshold=FLAGS.threshold,
            k=FLAGS.k,
            search=lambda q, b, k: knn_search(q, b, k, method=method),
            encoder=encoder.name,
        )
    return un.evaluate_un(
        encoder.embed,
        data,
        FLAGS.languages,
        encoder=encoder.name,
        method=method,
        scann_config=ScannConfig(),
        batch_size=FLAGS.batch_size,
        work_dir=FLAGS.work_dir,
    )


def _downloaded(task: str) -> str:
    if not FLAGS.download:
        raise app.UsageError(f"give --data=DIR with the {task} files, or --download to fetch them")
    if task == "tatoeba":
        return datasets.download_tatoeba(FLAGS.languages)
    if task == "bucc":
        return datasets.download_bucc(FLAGS.languages, FLAGS.split)
    raise app.UsageError(
        "the UN corpus needs a (free) registration: download UNv1.0.testset.* from "
        "https://conferences.unite.un.org/uncorpus and pass --data=DIR"
    )


if __name__ == "__main__":
    app.run(main)
