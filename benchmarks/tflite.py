"""TFLite variants against the SavedModel: size, encode speed, PUD test accuracy.

Command: `python -m benchmarks.run_all --only=tflite`. Two students:
  demo student     `lealla distill --config=demo` on the demo corpus (the demo's run),
                   every variant verified as `lealla export --tflite` does
  LEALLA-small     24 x 128 (random weights: size and speed do not depend on them)
Accuracy: xx <-> en retrieval on PUD test (lines 200-998, 799-way), mean of both
directions and of PUD_LANGUAGES (`../shared/data`). Speed: sentences/s on this machine's 2
cores, batch 1 and batch 64, PUD English sentences. A variant that misses its bar is
measured anyway and marked refused (an export would leave it out).
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from benchmarks import quality_common as qc
from lealla.cli import demo_stages
from lealla.data import corpus
from lealla.models.export import exporter, restore, tflite_export
from lealla.models.export.tflite_model import TFLiteEncoder
from lealla.models.students.student_config import StudentConfig
from lealla.records import run_layout

WORK = os.path.join(qc.WORK, "tflite")
# PUD test languages scored (four scripts; the int8 variants run at tens of sentences/s).
PUD_LANGUAGES = ("de", "ar", "zh", "ko")


def _demo_student() -> str:
    cache, model_dir = os.path.join(WORK, "teacher_cache"), os.path.join(WORK, "model")
    demo_stages.build_cache(demo_stages.load_teacher(), cache)
    demo_stages.distill(model_dir, cache, [])
    return model_dir


def _small_student(root: str, tokenizer_dir: str) -> str:
    """A LEALLA-small-shaped run with the demo student's vocabulary, random weights."""
    import shutil

    model_dir = os.path.join(root, "small")
    shutil.copytree(tokenizer_dir, os.path.join(model_dir, run_layout.TOKENIZER_DIR))
    tokenizer, _ = restore.load_tokenizer(model_dir)
    student = StudentConfig.from_preset("lealla_small", vocabulary_size=tokenizer.vocab_size)
    student.to_json_file(os.path.join(model_dir, run_layout.STUDENT_CONFIG))
    with open(os.path.join(model_dir, run_layout.RUN_CONFIG), "w", encoding="utf-8") as f:
        json.dump({"data": {"seq_length": 64}}, f)
    tf.train.Checkpoint(student=student.build()).save(os.path.join(model_dir, "checkpoints", "c"))
    return model_dir


def _rows(model_dir: str, root: str, name: str, pud: dict | None) -> list[dict]:
    """One row per format: the SavedModel, then every TFLite variant."""
    out = os.path.join(root, f"{name}_export")
    exporter.export_model(model_dir, out, exporter.ExportConfig(labse_format=False))
    encoder = restore.restore_sentence_encoder(model_dir)
    probes = exporter.probe_sentences()
    dev = corpus.parallel_groups(["demo:dev"])
    reference_dev = tflite_export.dev_accuracy(encoder.encode, dev)
    speed_texts = pud[qc.PIVOT][:64] if pud else probes
    saved = tf.saved_model.load(out)
    rows = [{
        "student": name, "format": "SavedModel", "bytes": tflite_export.saved_model_bytes(out),
        "speed": tflite_export.measure_speed(
            lambda t: saved(tf.constant(list(t))).numpy(), speed_texts),
        "pud": qc.mean(qc.retrieval(encoder.encode, pud)) if pud else None,
        "cosine": 1.0, "refused": "",
    }]  # fmt: skip
    representative = exporter.representative_sentences(["demo:train"], encoder.tokenizer)
    for variant in tflite_export.VARIANTS:
        source, table = out, "float"
        if variant in tflite_export.QUANTIZED:
            scratch = os.path.join(root, f"{name}_quantized")
            os.makedirs(scratch, exist_ok=True)
            source, table = tflite_export.quantized_source(encoder, out, scratch)
        model = tflite_export.convert(source, variant, representative)
        refused = ""
        try:
            tflite_export.verify(model, variant, encoder.encode, probes, dev, reference_dev, table)
        except tflite_export.TFLiteVerificationError as e:
            refused = str(e).split(": ", 1)[1].split(" (probe set")[0]
        lite = TFLiteEncoder(model)
        got, expected = lite.encode(probes), encoder.encode(probes)
        rows.append({
            "student": name, "format": f"TFLite {variant}", "bytes": len(model),
            "speed": tflite_export.measure_speed(lite, speed_texts),
            "pud": qc.mean(qc.retrieval(lite.encode, pud)) if pud else None,
            "cosine": float(np.sum(got * expected, axis=1).mean()), "refused": refused,
        })  # fmt: skip
    return rows


def run() -> str:
    title = "## TFLite: size, speed and accuracy of each variant"
    pud = None
    if qc.available():
        pud = {k: v for k, v in qc.prepare().pud_test.items() if k in (*PUD_LANGUAGES, qc.PIVOT)}
    model_dir = _demo_student()
    with tempfile.TemporaryDirectory() as root:
        rows = _rows(model_dir, root, "demo student (4 x 128)", pud)
        small = _small_student(root, os.path.join(model_dir, run_layout.TOKENIZER_DIR))
        rows += _rows(small, root, "LEALLA-small shape (24 x 128, random)", None)
    lines = [
        title,
        "",
        "Command: `python -m benchmarks.run_all --only=tflite`. Strings in, embeddings out, "
        "tokenizer inside every model; speed on this machine (2 cores, all threads), PUD "
        "English sentences; PUD test = lines 200-998, 799-way xx <-> en retrieval, mean of "
        f"{', '.join(PUD_LANGUAGES)} (demo student only: the LEALLA-small shape has random "
        "weights). "
        "Cosine: mean to the SavedModel's embeddings on the 44 probe sentences.",
        "",
        "| student | format | size | / SavedModel | cosine | PUD test | sentences/s, batch 1 "
        "| batch 64 | verification |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    base = {}
    for r in rows:
        base.setdefault(r["student"], r["bytes"])
        pud_cell = "-" if r["pud"] is None else f"{r['pud']:.3f}"
        lines.append(
            f"| {r['student']} | {r['format']} | {r['bytes'] / 1e6:.1f} MB | "
            f"{r['bytes'] / base[r['student']]:.2f} | {r['cosine']:.4f} | {pud_cell} | "
            f"{r['speed']['batch_1']:,.0f} | {r['speed']['batch_64']:,.0f} | "
            f"{'refused: ' + r['refused'] if r['refused'] else 'passes'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
