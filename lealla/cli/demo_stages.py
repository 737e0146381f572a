"""The demo's stages: teacher -> cache -> distillation -> export -> reload -> eval -> mining.

Each stage reuses what an earlier run left in the demo folder (the cache resumes
from its last shard, distillation from its last checkpoint, an export of the same
checkpoint is kept) and returns plain numbers for the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np
from absl import logging

from lealla.data import corpus, demo_corpus
from lealla.evaluation.retrieval import retrieval_accuracy
from lealla.records import run_layout, run_record

PIVOT = "en"
LANGUAGES = tuple(lang for lang in demo_corpus.DEMO_LANGUAGES if lang != PIVOT)


# The demo's TFLite model: int8 weights, activations quantized at run time (the
# calibrated full-int8 variant fails its checks on these students; see
# benchmarks/RESULTS.md#tflite-size-speed-and-accuracy-of-each-variant).
INT8 = "dynamic_int8"


def load_teacher():
    """The offline USE-multilingual teacher (built into the user cache on first use)."""
    # imports TensorFlow (or Beam): only when this stage runs
    from lealla.models.teachers import loading

    return loading.load_teacher("use-multilingual")


def build_cache(teacher, out_dir: str) -> dict:
    """Teacher embeddings of the training split, resumable (`lealla cache`)."""
    # imports TensorFlow (or Beam): only when this stage runs
    from lealla.models.teachers import embedding_cache

    return embedding_cache.build_cache(teacher, corpus.resolve_sources("demo:train"), out_dir)


def distill(
    model_dir: str, cache_dir: str, overrides: Sequence[str], settings: Sequence[str] = ()
) -> dict:
    """Runs `lealla distill --config=demo` in a child process (the command users type).

    A finished run is not repeated (unless the user passes `overrides`); an interrupted
    one resumes from its checkpoint. `settings` are the demo's own flags for this run
    (the static tier's).

    Returns:
      The run's metrics.json.
    """
    run = run_record.read_run(model_dir) if run_layout.is_model_dir(model_dir) else None
    finished = run is not None and (run.metrics or {}).get("step", 0) >= run.steps
    if finished and not overrides:
        print(f"distillation: reusing the finished run in {model_dir} ({run.steps} steps)")
        return dict(run.metrics)
    # Through the `lealla` dispatcher, so the child follows the same console rules (and
    # inherits --verbose / --progress through the environment).
    args = [
        sys.executable, "-m", "lealla.cli.main", "distill", "--config=demo",
        f"--model_dir={model_dir}", f"--teacher_cache={cache_dir}", *settings, *overrides,
    ]  # fmt: skip
    print("$ lealla distill " + " ".join(args[4:]), flush=True)
    subprocess.run(args, check=True)
    return dict(run_record.read_run(model_dir).metrics or {})


def export(model_dir: str, out: str) -> dict:
    """Exports the best checkpoint with the default TFLite models and the held-out split's
    scores (`lealla export --tflite --test_data=demo:test`); an export of that checkpoint is
    kept."""
    # imports TensorFlow (or Beam): only when this stage runs
    from lealla.models.export import exporter, restore, tflite_export

    metadata_file = os.path.join(out, exporter.METADATA_FILE)
    wanted = os.path.basename(restore.checkpoint_path(model_dir, "best"))
    if os.path.isfile(metadata_file):
        with open(metadata_file, encoding="utf-8") as f:
            metadata = json.load(f)
        if wanted == f"ckpt-{metadata['checkpoint']['step']}" and metadata.get("tflite"):
            print(f"export: reusing {out} (checkpoint {wanted})")
            return metadata
    config = exporter.ExportConfig(
        tflite_variants=tflite_export.DEFAULT_VARIANTS, test_data=("demo:test",)
    )
    return exporter.export_model(model_dir, out, config, overwrite=True)


def static_settings(steps: int) -> list[str]:
    """The static tier on the demo's data: the Model2Vec start (the teacher embeds every
    vocabulary piece, PCA, SIF weights), then the default recipe for `steps` steps."""
    every = max(1, steps // 3)
    return ["--student=static_128", f"--steps={steps}",
            f"--optimizer.warmup_steps={min(50, steps)}", f"--trainer.eval_every={every}",
            f"--trainer.checkpoint_every={every}"]  # fmt: skip


def check_reload(model_dir: str, export_dir: str) -> dict[str, float]:
    """Loads the export in a fresh process (hub.KerasLayer in tf_keras, hub.load,
    tf.saved_model.load, Keras 3 TFSMLayer, each TFLite model) vs the student."""
    # imports TensorFlow (or Beam): only when this stage runs
    from lealla.models.export import exporter, load_check, restore

    encoder = restore.restore_sentence_encoder(model_dir)
    texts = exporter.probe_sentences()
    return load_check.check_in_subprocess(export_dir, texts, encoder.encode(texts))


def test_split() -> dict[str, list[str]]:
    return {lang: demo_corpus.read_split("test", lang) for lang in demo_corpus.DEMO_LANGUAGES}


def embed_all(encoder, texts: dict[str, list[str]]) -> tuple[dict[str, np.ndarray], float]:
    """Embeds every language's sentences; returns them and the best-of-2 sentences/s."""
    flat = [t for lang in texts for t in texts[lang]]
    encoder.encode(flat[:64])  # warm-up: tracing is not throughput
    best = np.inf
    for _ in range(2):
        start = time.perf_counter()
        vectors = encoder.encode(flat, batch_size=64)
        best = min(best, time.perf_counter() - start)
    out, row = {}, 0
    for lang, sentences in texts.items():
        out[lang] = vectors[row : row + len(sentences)]
        row += len(sentences)
    return out, len(flat) / best


def labse_shape_speed(model_dir: str, texts: list[str]) -> dict[str, float]:
    """Sentences/s of the trained student vs a LaBSE-shaped encoder on the same token ids.

    USE-multilingual (the demo's teacher) is a light model; the student is meant to
    replace LaBSE (12 x 768). Both encoders get the student's pre-tokenized batches
    (64 sentences); LaBSE's weights are random, its speed does not depend on them.
    """
    # imports TensorFlow: only when this stage runs
    import tensorflow as tf

    from lealla.models.export import restore
    from lealla.models.students.student_config import StudentConfig
    from lealla.tokenization import packing

    student = restore.restore_sentence_encoder(model_dir)
    labse = StudentConfig.from_preset(
        "labse_shaped", vocabulary_size=student.tokenizer.vocab_size, dropout=0.0
    ).build()
    batches = [
        packing.model_inputs(student.packer, tf.constant(texts[i : i + 64]))
        for i in range(0, len(texts) - 63, 64)
    ]
    spec = {k: tf.TensorSpec([None, None], tf.int32) for k in batches[0]}
    rates = {}
    for name, model in (("student", student.backbone), ("labse_shaped", labse)):
        forward = tf.function(lambda x, m=model: m(x)["sentence_embedding"], input_signature=[spec])
        forward(batches[0])  # trace
        start = time.perf_counter()
        for batch in batches:
            forward(batch).numpy()
        rates[name] = 64 * len(batches) / (time.perf_counter() - start)
    return rates


def retrieval(embeddings: dict[str, np.ndarray]) -> dict[str, float]:
    """Per language: mean of xx->en and en->xx nearest-neighbour accuracy."""
    return {
        lang: float(np.mean(retrieval_accuracy(embeddings[lang], embeddings[PIVOT])))
        for lang in LANGUAGES
    }


def mining_pool() -> list[str]:
    """English side of mining: the test sentences plus the training ones as distractors."""
    return demo_corpus.read_split("test", PIVOT) + demo_corpus.read_split("train", PIVOT)


def mine(
    encoder, embeddings: dict[str, np.ndarray], out_dir: str | None = None
) -> dict[str, dict[str, float]]:
    """Mines each language's test split against the English pool with ScaNN + ratio margin.

    Gold: test line i <-> English test line i. Mutual-best pairs are kept (no
    threshold), so precision counts wrong pairs and recall missing ones.

    Returns:
      lang -> {"precision", "recall", "f1", "mined"}; with out_dir, the mined pairs
      are written there as xx-en.tsv (score, source, target), like `lealla align`.
    """
    # mining imports ScaNN (TensorFlow ops): only when this stage runs
    from lealla.files import atomic
    from lealla.mining import mine as mine_lib
    from lealla.mining import neighbors, pairs_tsv
    from lealla.mining.line_file import LineFile

    pool = mining_pool()
    pool_emb = encoder.encode(pool, batch_size=64)
    if out_dir is not None:  # the pool as a file, so pairs are written as `lealla align` does
        pool_path = os.path.join(out_dir, f"{PIVOT}_pool.txt")
        os.makedirs(out_dir, exist_ok=True)
        atomic.atomic_write_text(pool_path, "".join(f"{line}\n" for line in pool))
        pool_lines = LineFile(pool_path)

    def search(queries, base, k):
        return neighbors.knn_search(queries, base, k, method="scann")

    results = {}
    for lang in LANGUAGES:
        pairs = mine_lib.mine_pairs(embeddings[lang], pool_emb, mode="mutual", search=search)
        correct = int(np.sum(pairs.src == pairs.tgt))  # gold: test line i <-> pool line i
        gold = len(embeddings[lang])
        precision = correct / max(len(pairs), 1)
        recall = correct / gold
        f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
        results[lang] = {"precision": precision, "recall": recall, "f1": f1, "mined": len(pairs)}
        if out_dir is not None:
            src_lines = LineFile(demo_corpus.split_path("test", lang))
            tsv = os.path.join(out_dir, f"{lang}-{PIVOT}.tsv")
            pairs_tsv.write_pairs_tsv(tsv, pairs, src_lines, pool_lines)
    return results


def training_curves(model_dir: str) -> dict[str, tuple[list[int], list[float]]]:
    """Scalars of the run's TensorBoard summaries: {tag: (steps, values)}, all resumes."""
    import tensorflow as tf

    curves: dict[str, dict[int, float]] = {}
    for part in ("train", "dev"):
        folder = os.path.join(model_dir, "summaries", part)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            for record in tf.data.TFRecordDataset(os.path.join(folder, name)):
                event = tf.compat.v1.Event.FromString(record.numpy())
                for value in event.summary.value:
                    number = (
                        float(tf.make_ndarray(value.tensor))
                        if value.HasField("tensor")
                        else value.simple_value
                    )
                    curves.setdefault(value.tag, {})[event.step] = number
    logging.info("training curves: %s", sorted(curves))
    return {tag: (sorted(v), [v[s] for s in sorted(v)]) for tag, v in curves.items()}
