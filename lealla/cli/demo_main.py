"""`lealla demo` (= `make demo`): the whole product, offline, on the shipped corpus.

  [1/8] teacher      build/load the offline USE-multilingual teacher (512 dims)
  [2/8] cache        its embeddings of the training split (lealla cache; resumable)
  [3/8] distill      a small thin-deep student with the teacher's vocab pruned to the
                     data, default LEALLA recipe (lealla distill --config=demo)
  [4/8] static tier  a static student (static_128: SIF-weighted token vectors from the
                     teacher, then trained the same way): ~100x the speed
  [5/8] export       a TF Hub SavedModel + TFLite models (lealla export --tflite)
  [6/8] reload       the export in a fresh process: hub.KerasLayer, hub.load, ...
  [7/8] evaluate     teacher, student and static tier: retrieval on the held-out test
                     split + speed; the accuracy-vs-speed chart (frontier.png)
  [8/8] mine         the test split against an English pool with ScaNN + ratio margin

Everything lands in --out; re-running reuses the cache, the checkpoints and the
export (--fresh starts over). The report is --out/report/report.md with PNGs.
"""

from __future__ import annotations

import json
import os
import time

from absl import app, flags

from lealla.cli import demo_report, demo_stages
from lealla.cli import flags as shared_flags
from lealla.files import atomic, fileio, output_dirs

flags.DEFINE_string("out", "demo_out", "Folder for everything the demo makes.")
flags.DEFINE_boolean(
    "fresh", False,
    "Delete --out first (an earlier demo's folder only) instead of reusing earlier work.",
)  # fmt: skip
flags.DEFINE_list(
    "distill_flags", [],
    "Extra `lealla distill` flags for a shorter or longer run, e.g. --distill_flags="
    "--steps=300,--trainer.eval_every=100 (a finished run with other flags resumes from its "
    "checkpoint when --steps grows).",
)  # fmt: skip
flags.DEFINE_integer(
    "static_steps", 600, "Training steps of the static tier (after its Model2Vec start).",
    lower_bound=1,
)  # fmt: skip
FLAGS = flags.FLAGS

STAGES = 8


def _stage(number: int, text: str) -> float:
    print(f"[{number}/{STAGES}] {text}", flush=True)
    return time.perf_counter()


def _mean(values: dict) -> float:
    return sum(values.values()) / len(values)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    out = os.path.abspath(FLAGS.out)
    # A new or empty folder, or an earlier demo's (--fresh removes only that).
    shared_flags.claim_output(out, output_dirs.DEMO, replace=FLAGS.fresh)
    if FLAGS.fresh:
        output_dirs.remove_folder(out, output_dirs.DEMO)
    marker = os.path.join(out, output_dirs.DEMO.markers[0])
    if not os.path.isfile(marker):
        atomic.atomic_write_text(marker, json.dumps({"format": "lealla-demo"}) + "\n")
    paths = {
        name: os.path.join(out, name)
        for name in ("teacher_cache", "model", "static", "export", "mined", "report")
    }
    os.makedirs(paths["report"], exist_ok=True)
    start = time.perf_counter()
    timings: dict[str, float] = {}

    t = _stage(1, "teacher: the offline USE-multilingual module")
    teacher = demo_stages.load_teacher()
    print(f"teacher: {teacher.describe()}")
    timings["teacher"] = time.perf_counter() - t

    t = _stage(2, "teacher-embedding cache of the training split")
    manifest = demo_stages.build_cache(teacher, paths["teacher_cache"])
    print(f"cache: {manifest['num_examples']} pairs in {paths['teacher_cache']}")
    timings["cache"] = time.perf_counter() - t

    t = _stage(3, "distilling the student (lealla distill --config=demo)")
    metrics = demo_stages.distill(paths["model"], paths["teacher_cache"], FLAGS.distill_flags)
    timings["distill"] = time.perf_counter() - t

    t = _stage(4, "the static tier (lealla distill --config=demo --student=static_128)")
    static_metrics = demo_stages.distill(
        paths["static"], paths["teacher_cache"], [],
        demo_stages.static_settings(FLAGS.static_steps),
    )  # fmt: skip
    timings["static tier"] = time.perf_counter() - t

    t = _stage(5, "exporting the best checkpoint: a TF Hub SavedModel and its TFLite models")
    metadata = demo_stages.export(paths["model"], paths["export"])
    print(f"export: {paths['export']} ({metadata['embedding_dim']} dims, step "
          f"{metadata['checkpoint']['step']})")  # fmt: skip
    timings["export"] = time.perf_counter() - t

    t = _stage(6, "reloading the export in a fresh process, four ways + the TFLite models")
    reload = demo_stages.check_reload(paths["model"], paths["export"])
    print("reload: " + ", ".join(
        f"{k} {v:.4f}" if k.startswith("tflite") else f"{k} max |diff| {v:.1g}"
        for k, v in reload.items()
    ))  # fmt: skip
    timings["reload"] = time.perf_counter() - t

    t = _stage(7, "evaluating teacher, student and static tier on the held-out test split")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.api import encoders

    student = encoders.load_encoder(paths["export"])
    static = encoders.load_encoder(paths["static"])
    teacher_encoder = encoders.teacher_encoder(teacher, "use-multilingual")
    texts = demo_stages.test_split()
    embeddings, speed, accuracy = {}, {}, {}
    models = [("teacher", teacher_encoder), ("student", student), ("static", static)]
    int8 = metadata["tflite"]["variants"].get(demo_stages.INT8)
    if int8:
        int8_file = os.path.join(paths["export"], int8["file"])
        models.append(("student_int8", encoders.load_encoder(int8_file)))
    for name, encoder in models:
        embeddings[name], speed[name] = demo_stages.embed_all(encoder, texts)
        accuracy[name] = demo_stages.retrieval(embeddings[name])
    sample = [t for lang in texts for t in texts[lang][:10]]  # 140 sentences, 14 languages
    labse_speed = demo_stages.labse_shape_speed(paths["model"], sample)
    print("evaluate: test retrieval accuracy " + ", ".join(
        f"{name} {_mean(accuracy[name]):.3f}" for name, _ in models
    ))  # fmt: skip
    timings["evaluate"] = time.perf_counter() - t

    t = _stage(8, "mining the test split against an English pool (ScaNN, ratio margin)")
    mining = {
        "teacher": demo_stages.mine(teacher_encoder, embeddings["teacher"]),
        "student": demo_stages.mine(student, embeddings["student"], paths["mined"]),
    }
    print("mine: F1 " + ", ".join(
        f"{name} {sum(m['f1'] for m in found.values()) / len(found):.3f}"
        for name, found in mining.items()
    ) + f"; the student's pairs in {paths['mined']}")  # fmt: skip
    timings["mine"] = time.perf_counter() - t

    summary = {
        "teacher": {
            "name": teacher.handle,
            "dims": teacher.embedding_dim,
            "parameters": teacher.num_parameters(),
            "sentences_per_second": speed["teacher"],
            "accuracy": accuracy["teacher"],
            "mining": mining["teacher"],
        },
        "student": {
            "name": metadata["student"].get("preset"),
            "dims": metadata["embedding_dim"],
            "parameters": metadata["parameters"],
            "sentences_per_second": speed["student"],
            "accuracy": accuracy["student"],
            "mining": mining["student"],
            "export_bytes": fileio.folder_bytes(paths["export"]),
            "vocab_size": metadata["tokenizer"]["vocab_size"],
        },
        "student_int8": {
            "name": f"{metadata['student'].get('preset')}, TFLite int8 (dynamic range)",
            "file": int8_file,
            "bytes": int8["bytes"],
            "saved_model_bytes": metadata["tflite"]["saved_model"]["bytes"],
            "sentences_per_second": speed["student_int8"],
            "accuracy": accuracy["student_int8"],
        }
        if int8
        else {"refused": metadata["tflite"]["refused"].get(demo_stages.INT8)},
        "static": {
            "name": "static_128",
            "dims": static.dim,
            "sentences_per_second": speed["static"],
            "accuracy": accuracy["static"],
            "steps": static_metrics.get("step"),
        },
        "training": {
            "steps": metrics.get("step"),
            "final_dev_accuracy": metrics.get("dev_accuracy"),
            "best": metadata["evaluation"].get("best"),
        },
        "vs_labse_shape": labse_speed,
        "reload_max_abs_diff": reload,
        "mining_pool": len(demo_stages.mining_pool()),
        "seconds": {**timings, "total": time.perf_counter() - start},
        "paths": paths,
    }
    atomic.atomic_write_text(
        os.path.join(paths["report"], "summary.json"), json.dumps(summary, indent=2) + "\n"
    )
    curves = demo_stages.training_curves(paths["model"])
    table = demo_report.write(paths["report"], summary, curves)
    print("\n" + table)
    print(f"\nreport: {os.path.join(paths['report'], 'report.md')}")


if __name__ == "__main__":
    app.run(main)
