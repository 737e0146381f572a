"""`lealla export`: a trained student -> a TF Hub-ready SavedModel.

  lealla export --model_dir=runs/small --out=exports/lealla-small [--overwrite]

Writes the string-in SavedModel (the folder is the handle for hub.KerasLayer),
lealla_export.json and a README.md model card; with --labse_format also the LaBSE-format
preprocessor/encoder pair under labse_format/, with --tflite the TFLite models. The
export is checked twice: reloaded in this process before it is published, then loaded in
a fresh process the four ways users load it. The last line gives the size of each part.
"""

from __future__ import annotations

import time

from absl import app, flags, logging

from lealla.config import flag_bounds
from lealla.models.export import tflite_export
from lealla.records import run_layout
from lealla.ui import console

flags.DEFINE_string("model_dir", None, "The training run to export (lealla distill --model_dir).")
flags.DEFINE_string("out", None, "The export folder (must not exist unless --overwrite).")
flags.DEFINE_boolean(
    "overwrite", False,
    "Replace an existing export at --out (a folder holding anything but an export is "
    "refused).",
)  # fmt: skip
flags.DEFINE_enum(
    "checkpoint", "best", list(run_layout.CHECKPOINTS),
    "best: the checkpoint with the best dev retrieval accuracy (the latest if none); latest.",
)  # fmt: skip
flags.DEFINE_integer(
    "seq_length",
    None,
    "Longest input in tokens (longer is truncated); default: training's.",
    lower_bound=3,
)
flags.DEFINE_boolean(
    "labse_format", False,
    "Also write the LaBSE-format preprocessor + encoder under labse_format/, for pipelines "
    "written for LaBSE (the encoder is a second copy of the weights).",
)  # fmt: skip
flags.DEFINE_enum(
    "weights_dtype", "float32", ["float32", "float16"],  # modules.WEIGHT_DTYPES (loads TF)
    "How the SavedModel stores its weights. float16: half the bytes, cast to float32 inside "
    "the graph (compute stays float32); refused, with its numbers, when its mean cosine to "
    "float32 on the probe sentences is under the float16 TFLite variant's bar.",
)  # fmt: skip
flags.DEFINE_boolean(
    "check_loaders", True,
    "Load the export in a fresh process via hub.KerasLayer (tf_keras), hub.load, "
    "tf.saved_model.load and keras.layers.TFSMLayer and compare embeddings.",
)  # fmt: skip
flag_bounds.define_float(
    "tolerance", 1e-5, "Largest allowed embedding difference in the checks.", above=0
)
flags.DEFINE_boolean(
    "tflite", False,
    "Also write TFLite (LiteRT) models beside the SavedModel: strings in, embeddings out, "
    "tokenizer inside (model.tflite, model_float16.tflite, model_dynamic_int8.tflite, "
    "model_int8.tflite); each verified against the SavedModel, and one that misses its bar "
    "is left out with a warning giving its numbers (the SavedModel is written anyway).",
)  # fmt: skip
flags.DEFINE_list(
    "tflite_variants", list(tflite_export.DEFAULT_VARIANTS),
    f"With --tflite: which variants, of {', '.join(tflite_export.VARIANTS)}. int8 (full "
    "integer, activation ranges calibrated on --representative_data) is opt-in.",
)  # fmt: skip
flags.DEFINE_list(
    "representative_data", [],
    "With --tflite: corpus files whose sentences calibrate the int8 variant's activation "
    "ranges; default: the run's training data.",
)  # fmt: skip
flags.DEFINE_integer(
    "dims", None,
    "Output width: the first DIMS dimensions of the embedding, renormalized (a prefix "
    "trained with distill --lealla.matryoshka_dims).",
    lower_bound=1,
)  # fmt: skip
flags.DEFINE_boolean(
    "pca_rotation", True,
    "With --dims: rotate the embedding by the PCA of the model's embeddings of its training "
    "text first (cosines unchanged; the leading dimensions carry the most).",
)  # fmt: skip
flags.DEFINE_list(
    "test_data", [],
    "Parallel files (xx<TAB>en, or demo:test) the exported model is scored on per language "
    "pair besides the run's dev data; recorded in lealla_export.json and the model card.",
)  # fmt: skip
flags.DEFINE_boolean(
    "force", False,
    "With --dims and --nopca_rotation: allow a width the run did not train as a prefix.",
)  # fmt: skip
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    for name in ("model_dir", "out"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.files import output_dirs
    from lealla.models.export import exporter, load_check, model_card

    output_dirs.check_writable(FLAGS.out)

    try:
        config = exporter.ExportConfig(
            checkpoint=FLAGS.checkpoint, seq_length=FLAGS.seq_length,
            labse_format=FLAGS.labse_format, tolerance=FLAGS.tolerance,
            tflite_variants=tuple(FLAGS.tflite_variants) if FLAGS.tflite else (),
            representative_data=tuple(FLAGS.representative_data),
            weights_dtype=FLAGS.weights_dtype,
            dims=FLAGS.dims, pca_rotation=FLAGS.pca_rotation, force_dims=FLAGS.force,
            test_data=tuple(FLAGS.test_data),
        )  # fmt: skip
    except ValueError as e:  # a flag value
        raise app.UsageError(str(e)) from None
    try:
        exporter.check_output(FLAGS.model_dir, FLAGS.out, config, FLAGS.overwrite)
    except (output_dirs.UnsafeOutputError, FileExistsError) as e:  # a flag away
        raise app.UsageError(str(e)) from None
    # Held until exit: the loaders' check below reads the export this process wrote.
    output_dirs.acquire(FLAGS.out)
    start = time.perf_counter()
    console.stage(
        f"exporting {FLAGS.model_dir} (checkpoint {FLAGS.checkpoint}) -> {FLAGS.out}"
        + (f" with TFLite {', '.join(config.tflite_variants)}" if config.tflite_variants else "")
    )
    try:
        metadata = exporter.export_model(FLAGS.model_dir, FLAGS.out, config, FLAGS.overwrite)
    except exporter.DimsError as e:  # --dims against this run
        raise app.UsageError(str(e)) from None
    except FileExistsError as e:  # a flag away (--overwrite): a usage error
        raise app.UsageError(str(e)) from None
    logging.info("exported in %.1f s: %s", time.perf_counter() - start, metadata["verification"])
    if FLAGS.check_loaders:
        console.stage("loading the export in a fresh process, every way it can be loaded")
        encoder, _ = exporter.exported_encoder(FLAGS.model_dir, config, measure=False)
        texts = exporter.probe_sentences()
        expected = encoder.encode(texts)
        diffs = load_check.check_in_subprocess(
            FLAGS.out, texts, expected, FLAGS.tolerance, FLAGS.labse_format
        )
        print("loads in a fresh process: " + ", ".join(
            f"{k} {v:.4f}" if k.startswith("tflite") else f"{k} {v:.1g}" for k, v in diffs.items()
        ))  # fmt: skip
    print(
        f"exported {FLAGS.model_dir} (checkpoint {metadata['checkpoint']['which']}, step "
        f"{metadata['checkpoint']['step']}) -> {FLAGS.out}: {metadata['embedding_dim']} dims, "
        f"{metadata['parameters']:,} parameters, vocab {metadata['tokenizer']['vocab_size']:,}"
    )
    tflite = metadata.get("tflite") or {}
    for report in tflite.get("variants", {}).values():
        dev = report["dev_accuracy"]
        print(
            f"  {report['file']:<26} {report['bytes'] / 1e6:6.1f} MB  cosine "
            f"{report['cosine_mean']:.4f}  dev {'n/a' if dev is None else f'{dev:.3f}'}  "
            f"{report['sentences_per_second']['batch_64']:,.0f} sentences/s (batch 64)"
        )
    if tflite.get("refused"):
        print(f"  left out (missed their bar, warned above): {', '.join(tflite['refused'])}")
    print(model_card.size_summary(metadata["sizes"]))


if __name__ == "__main__":
    app.run(main)
