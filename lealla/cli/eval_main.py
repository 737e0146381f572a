"""`lealla eval tatoeba|bucc|un`: evaluate one encoder (or two side by side) on bitext retrieval.

lealla eval tatoeba --encoder=use-multilingual --data=DIR [--languages=deu,fra] [--json]
lealla eval bucc --encoder=... --data=DIR [--split=sample] [--threshold=1.1]
lealla eval un --encoder=... --data=DIR [--exact]
# add --reference_encoder=labse for a second column / bar; --chart=out.png for a PNG;
# --dims=32,64,128 for one column per embedding width (Matryoshka students);
# --download fetches the public set into the cache when --data is not given.
"""

from __future__ import annotations

import sys

import numpy as np
from absl import app, flags

from lealla.config import flag_bounds
from lealla.embeddings.truncation import parse_dims, truncate_embeddings
from lealla.evaluation import bucc, datasets, report, tatoeba, un
from lealla.mining import mine
from lealla.mining.neighbors import knn_search
from lealla.mining.scann_search import ScannConfig
from lealla.records import run_layout
from lealla.ui import console

TASKS = ("tatoeba", "bucc", "un")

flags.DEFINE_string("encoder", None, "Registry name, hub handle, exported SavedModel or model_dir.")
flags.DEFINE_string("reference_encoder", None, "A second encoder (e.g. the teacher) to compare.")
flags.DEFINE_enum(
    "checkpoint", "best", list(run_layout.CHECKPOINTS), "Checkpoint of a training model_dir."
)
flags.DEFINE_string("data", None, "Folder with the task's files (default: the download cache).")
flags.DEFINE_boolean("download", False, "Download the public set into the cache if missing.")
flags.DEFINE_list("languages", None, "Languages to evaluate (deu or de); default: all found.")
flags.DEFINE_boolean(
    "json", False,
    "Print one JSON object (average, per_language; reference; by_dims with --dims) alone on "
    "stdout; the table goes to stderr.",
)  # fmt: skip
flags.DEFINE_string("chart", None, "Write a PNG bar chart per language here.")
flags.DEFINE_integer("batch_size", 256, "Sentences per encoder call.", lower_bound=1)
flags.DEFINE_enum("split", "sample", ["sample", "training"], "BUCC: which gold split.")
flag_bounds.define_float("threshold", None, "BUCC: fixed margin threshold (default: F1-optimal).")
flags.DEFINE_integer("k", mine.DEFAULT_K, "BUCC: margin neighbourhood size.", lower_bound=1)
flags.DEFINE_boolean("exact", False, "BUCC/UN: brute-force search instead of ScaNN.")
flags.DEFINE_string("work_dir", None, "UN: keep embeddings as .npy memory maps here.")
flags.DEFINE_list(
    "dims", None,
    "Evaluate the first m dimensions of the embedding, renormalized, for each m (e.g. "
    "32,64,128); one column per width. The embedding as the encoder returns it: `lealla "
    "export --dims` also rotates it by PCA first, and its model card lists that accuracy.",
)  # fmt: skip
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
        dims = parse_dims(FLAGS.dims, "dims") if FLAGS.dims else ()
    except ValueError as e:
        raise app.UsageError(str(e)) from None
    try:
        data = FLAGS.data or _downloaded(task)
    except datasets.DatasetUnavailableError as e:
        sys.exit(f"lealla eval {task}: {e}")
    reports, by_dims = [], {}
    for spec in [FLAGS.encoder, FLAGS.reference_encoder]:
        if not spec:
            continue
        # Each text list is embedded once and cut to every width (not for UN: its pools
        # are streamed and may not fit in memory).
        encoder = _LazyEncoder(spec, FLAGS.checkpoint, memo=bool(dims) and task != "un")
        if spec != FLAGS.encoder or not dims:
            reports.append(_evaluate(task, encoder, data))
            continue
        for m in dims:
            by_dims[str(m)] = _evaluate(task, _Prefix(encoder, m), data)
            reports.append(by_dims[str(m)])
    console.say(report.format_table(reports), json_output=FLAGS.json)
    if FLAGS.chart:
        report.write_chart(FLAGS.chart, reports)
        console.say(f"wrote {FLAGS.chart}", json_output=FLAGS.json)
    if FLAGS.json:
        reference = reports[-1:] if FLAGS.reference_encoder else []
        combined = report.combined_dict([reports[0], *reference])
        if by_dims:  # the top level is the first width's
            combined["by_dims"] = {m: r.to_dict() for m, r in by_dims.items()}
        console.print_json(combined)


class _LazyEncoder:
    """A `TextEncoder` loaded at its first use, so bad data files fail fast; with `memo`,
    each list of texts is encoded once (and cut to every --dims width)."""

    def __init__(self, spec: str, checkpoint: str, memo: bool = False):
        self.name = spec
        self._checkpoint = checkpoint
        self._encoder = None
        self._memo: dict[tuple[str, ...], np.ndarray] | None = {} if memo else None

    @property
    def dim(self) -> int:
        return self._loaded().dim

    def _loaded(self):
        if self._encoder is None:
            # loads TensorFlow: only once the data files are valid
            from lealla.api.encoders import load_encoder

            self._encoder = load_encoder(self.name, checkpoint=self._checkpoint)
        return self._encoder

    def encode(self, texts, batch_size: int = 64, progress: bool | str = False) -> np.ndarray:
        texts = list(texts)
        if self._memo is None:
            return self._loaded().encode(texts, batch_size, progress)
        key = tuple(texts)
        if key not in self._memo:
            self._memo[key] = self._loaded().encode(texts, batch_size, progress)
        return self._memo[key]


class _Prefix:
    """The first `dims` dimensions of another encoder's embeddings, renormalized."""

    def __init__(self, encoder: _LazyEncoder, dims: int):
        self.name = f"{encoder.name} ({dims} d)"
        self.dim = dims
        self._encoder = encoder

    def encode(self, texts, batch_size: int = 64, progress: bool | str = False) -> np.ndarray:
        embeddings = self._encoder.encode(texts, batch_size, progress)
        if self.dim > embeddings.shape[1]:
            raise app.UsageError(
                f"--dims={self.dim} exceeds the {embeddings.shape[1]} dimensions of "
                f"{self._encoder.name}"
            )
        return truncate_embeddings(embeddings, self.dim)


def _evaluate(task: str, encoder: _LazyEncoder | _Prefix, data: str) -> report.EvalReport:
    console.stage(f"evaluating {encoder.name} on {task} ({data})")
    method = "exact" if FLAGS.exact else "scann"
    progress = f"embedding ({encoder.name})"
    if task == "tatoeba":
        return tatoeba.evaluate_tatoeba(
            encoder, data, FLAGS.languages, batch_size=FLAGS.batch_size, progress=progress
        )
    if task == "bucc":
        return bucc.evaluate_bucc(
            encoder,
            data,
            split=FLAGS.split,
            languages=FLAGS.languages,
            threshold=FLAGS.threshold,
            k=FLAGS.k,
            search=lambda q, b, k: knn_search(q, b, k, method=method),
            batch_size=FLAGS.batch_size,
            progress=progress,
        )
    return un.evaluate_un(
        encoder,
        data,
        FLAGS.languages,
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
