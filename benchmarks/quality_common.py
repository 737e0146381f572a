"""Shared parts of the quality benchmarks: data, caches, training rows, evaluation.

Teacher: the offline USE-multilingual module (512 dims). Training data: all of
../shared/data/news-parallel (223k xx-en pairs, MT test sets: news, Wikipedia,
health) and, for recipes that use it, ../shared/data/ud-mono (conversational, speech,
social media, news; the last MONO_DEV_LINES lines of each language are held out as
a monolingual dev set). Every trained row gets the same wall-time budget on this
machine (`--train_minutes`), from a teacher cache built once.

Evaluation (xx <-> en retrieval accuracy, mean of both directions, per language):
  dev   PUD lines 0-199 (chooses recipes and checkpoints), and kNN@10 agreement
        between student and teacher on the held-out ud-mono lines (pooled across
        languages: an out-of-domain dev signal that needs no translations; the runs
        get it as --dev_mono_data, so their best checkpoint maximizes both)
  test  (a) PUD lines 200-998 (in domain)
        (b) the shipped demo corpus, all 400 sentences of each language (everyday
            sentences, out of domain, never trained on here)

Work files (data subsets, caches, runs) live in $LEALLA_BENCH_DIR (default
~/.cache/lealla/bench/quality) and are reused across runs; the measured rows' scores
live in benchmarks/results/ ($LEALLA_BENCH_RESULTS), committed with the code.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks import common
from lealla.data import demo_corpus
from lealla.embeddings import length_batches
from lealla.evaluation import agreement
from lealla.evaluation.retrieval import retrieval_accuracy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
WORK = os.environ.get("LEALLA_BENCH_DIR") or os.path.join(
    os.path.expanduser("~"), ".cache", "lealla", "bench", "quality"
)
# Measured rows (small JSON: scores per language, steps, encode speed) are kept in the
# repository, so a table regenerates on any machine and a finished row is not trained
# again; the runs and caches they came from stay in WORK.
RESULTS = os.environ.get("LEALLA_BENCH_RESULTS") or os.path.join(ROOT, "benchmarks", "results")
DEV_LINES = 200
MONO_DEV_LINES = 200
PIVOT = "en"
TEACHER = "use-multilingual"
# Budget of every trained row of the main table (the "30 minutes on 2 cores").
MINUTES = float(os.environ.get("LEALLA_BENCH_MINUTES", "30"))
# Report the rows already measured, train nothing new (a table while work is pending).
DONE_ONLY = os.environ.get("LEALLA_BENCH_DONE_ONLY", "") not in ("", "0")
# Encode speed: sentences per measurement, and the batch of every encoder (all of them
# cut batches from the texts sorted by length, as sentence-transformers does).
SPEED_SENTENCES = 512
SPEED_BATCH = 64

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Data:
    """Paths of the prepared data."""

    news: tuple[str, ...]  # news-parallel xx-en.tsv files
    mono: tuple[str, ...]  # ud-mono training parts, ud.xx.txt
    dev: tuple[str, ...]  # PUD dev pairs, xx-en.tsv
    mono_dev: dict[str, list[str]]  # held-out ud-mono lines per language
    mono_dev_files: tuple[str, ...]  # the same as files, ud.xx.txt (--dev_mono_data)
    pud_test: dict[str, list[str]]  # PUD test lines per language (incl. en)
    demo400: dict[str, list[str]]  # all 400 demo sentences per language (incl. en)


def skipped(title: str) -> str:
    """The section of a benchmark that needs the development data, when it is absent."""
    return f"{title}\n\nSkipped: {DATA} is absent (development data, not shipped).\n"


def available() -> bool:
    return os.path.isdir(os.path.join(DATA, "news-parallel"))


def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def write_lines(path: str, lines: Sequence[str]) -> str:
    """`lines` to `path` once (an existing file is kept), atomically; returns `path`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.isfile(path):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(f"{line}\n" for line in lines)
        os.replace(tmp, path)
    return path


def prepare(work: str = WORK) -> Data:
    """Writes the training/dev subsets into `work` (once) and reads the test sets."""
    news_dir = os.path.join(DATA, "news-parallel")
    pud_dir, mono_dir = os.path.join(DATA, "pud-parallel"), os.path.join(DATA, "ud-mono")
    news = tuple(
        os.path.join(news_dir, n) for n in sorted(os.listdir(news_dir)) if n.endswith("-en.tsv")
    )
    mono, mono_dev, mono_dev_files = [], {}, []
    for name in sorted(os.listdir(mono_dir)):
        lang = name.split(".")[0]
        lines = read_lines(os.path.join(mono_dir, name))
        mono.append(write_lines(os.path.join(work, "data", "mono", f"ud.{lang}.txt"),
                           lines[:-MONO_DEV_LINES]))  # fmt: skip
        mono_dev[lang] = lines[-MONO_DEV_LINES:]
        mono_dev_files.append(
            write_lines(os.path.join(work, "data", "mono_dev", f"ud.{lang}.txt"), mono_dev[lang])
        )
    pud_en = read_lines(os.path.join(pud_dir, f"{PIVOT}.txt"))
    dev, pud_test = [], {PIVOT: pud_en[DEV_LINES:]}
    for name in sorted(os.listdir(pud_dir)):
        lang = name.split(".")[0]
        if lang in (PIVOT, "ids"):
            continue
        xx = read_lines(os.path.join(pud_dir, name))
        pairs = [f"{a}\t{b}" for a, b in zip(xx[:DEV_LINES], pud_en[:DEV_LINES], strict=True)]
        dev.append(write_lines(os.path.join(work, "data", "pud_dev", f"{lang}-{PIVOT}.tsv"), pairs))
        pud_test[lang] = xx[DEV_LINES:]
    demo400 = {
        lang: [s for split in demo_corpus.SPLITS for s in demo_corpus.read_split(split, lang)]
        for lang in demo_corpus.DEMO_LANGUAGES
    }
    return Data(news, tuple(mono), tuple(dev), mono_dev, tuple(mono_dev_files), pud_test, demo400)


def build_cache(
    name: str,
    files: Sequence[str],
    work: str = WORK,
    augment: Sequence[str] = (),
) -> tuple[str, float]:
    """A teacher cache of `files` in work/caches/name (resumed/reused); (path, seconds)."""
    from lealla.data import corpus
    from lealla.models.teachers import embedding_cache, loading

    path = os.path.join(work, "caches", name)
    manifest = os.path.join(path, embedding_cache.MANIFEST)
    if os.path.isfile(manifest) and embedding_cache.read_manifest(path).get("complete"):
        return path, 0.0  # built by an earlier run of the benchmark
    start = time.perf_counter()
    # news-parallel has a few lines with control characters (zh-en.tsv): skip them.
    embedding_cache.build_cache(
        loading.load_teacher(TEACHER), corpus.resolve_sources(list(files)), path,
        embedding_cache.CacheConfig(
            augment=tuple(augment), on_bad_line="skip"
        ),
    )  # fmt: skip
    return path, time.perf_counter() - start


def retrieval(embed: Embed, sets: dict[str, list[str]]) -> dict[str, float]:
    """xx <-> en accuracy (mean of both directions) for every xx of `sets`."""
    return retrieval_from_embeddings({lang: embed(texts) for lang, texts in sets.items()})


def retrieval_from_embeddings(emb: dict[str, np.ndarray]) -> dict[str, float]:
    """The same from embeddings per language (incl. the pivot)."""
    return {
        lang: float(np.mean(retrieval_accuracy(x, emb[PIVOT])))
        for lang, x in sorted(emb.items())
        if lang != PIVOT
    }


def evaluate(embed: Embed, data: Data, teacher_mono: np.ndarray | None = None) -> dict:
    """Every metric of one encoder: dev, tests, speed."""
    out = {
        "pud_dev": retrieval(embed, dev_sets(data)),
        "pud_test": retrieval(embed, data.pud_test),
        "demo400": retrieval(embed, data.demo400),
    }
    if teacher_mono is not None:
        out["mono_agreement"] = agreement.knn_agreement(embed(mono_dev_texts(data)), teacher_mono)
    out["sentences_per_second"] = encode_speed(embed, speed_texts(data))
    return out


def speed_texts(data: Data) -> list[str]:
    """The sentences every encode speed is measured on: the first 512 English PUD test lines."""
    return data.pud_test[PIVOT][:SPEED_SENTENCES]


def encode_speed(embed: Embed, texts: Sequence[str]) -> float:
    """Sentences/s of `embed` over `texts`: the fastest of 5 runs after a warm-up."""
    return len(texts) / common.best_seconds(lambda: embed(texts))


def dev_sets(data: Data) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in data.dev:
        lang = os.path.basename(path).split("-")[0]
        rows = [line.split("\t") for line in read_lines(path)]
        sets[lang] = [r[0] for r in rows]
        sets.setdefault(PIVOT, [r[1] for r in rows])
    return sets


def mono_dev_texts(data: Data) -> list[str]:
    return [s for lang in sorted(data.mono_dev) for s in data.mono_dev[lang]]


def teacher_embed() -> Embed:
    import tensorflow as tf

    from lealla.models.teachers import loading

    teacher = loading.load_teacher(TEACHER)

    def embed(texts):
        return length_batches.embed_in_length_order(
            lambda batch: teacher.embed(tf.constant(batch)).numpy(), list(texts), SPEED_BATCH
        )

    return embed


def train(
    name: str,
    *,
    train_data: Sequence[str],
    cache: str,
    data: Data,
    minutes: float = MINUTES,
    steps: int = 10**9,
    work: str = WORK,
    **overrides,
) -> tuple[str, dict]:
    """Trains (or reuses) one student row; returns (model_dir, metrics.json)."""
    import tensorflow as tf

    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller

    model_dir = os.path.join(work, "runs", name)
    metrics_file = os.path.join(model_dir, "metrics.json")
    if os.path.isfile(metrics_file):
        with open(metrics_file, encoding="utf-8") as f:
            return model_dir, json.load(f)
    values = settings(train_data, cache, data, minutes if steps == 10**9 else 0.0)
    config = DistillConfig().override({**values, "trainer.steps": steps, **overrides})
    metrics = Distiller(config, model_dir, tf.distribute.get_strategy()).train()
    return model_dir, metrics


def settings(train_data: Sequence[str], cache: str, data: Data, minutes: float) -> dict:
    """The DistillConfig settings every benchmark row shares (the demo preset's shape), by
    path (`DistillConfig.override`); the rest are today's defaults."""
    return {
        "teacher.name": TEACHER, "student.name": "demo_small",
        "data.train_data": tuple(train_data), "data.dev_data": data.dev,
        "data.dev_mono_data": data.mono_dev_files, "teacher.cache": (cache,),
        "data.batch_size": 64, "data.seq_length": 64, "optimizer.learning_rate": 1e-3,
        "optimizer.warmup_steps": 100, "trainer.steps": 10**9, "trainer.train_minutes": minutes,
        "trainer.eval_every": 500, "trainer.checkpoint_every": 500, "trainer.log_every": 100,
        "data.on_bad_line": "skip",
    }  # fmt: skip


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")[:60]


def result_path(name: str) -> str:
    """Where a measured row (or table-wide record) named `name` is kept: RESULTS."""
    return os.path.join(RESULTS, f"{name}.json")


def read_json(path: str) -> dict | None:
    """A measured row or record saved by `save_json`; None when it is not measured yet."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_json(path: str, value: dict) -> None:
    from lealla.files import atomic

    atomic.atomic_write_text(path, json.dumps(value, indent=1))


def student_embed(model_dir: str, checkpoint: str = "best") -> Embed:
    from lealla.models.export import restore

    encoder = restore.restore_sentence_encoder(model_dir, checkpoint)
    return lambda texts: encoder.encode(list(texts), batch_size=SPEED_BATCH)


def mean(values: dict[str, float]) -> float:
    return float(np.mean(list(values.values())))
