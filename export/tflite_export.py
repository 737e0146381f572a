"""An exported string-in SavedModel -> verified TFLite (LiteRT) models, tokenizer inside.

Variants (file beside the SavedModel):
  float32       model.tflite
  float16       model_float16.tflite        weights stored as float16
  dynamic_int8  model_dynamic_int8.tflite   int8 weights, activations quantized on the fly
  int8          model_int8.tflite           int8 weights and activations, the activation
                                            ranges calibrated on a sample of the training
                                            text (the tokenizer ops stay as they are)
In both int8 variants of a thin-deep student the token table is int8 with one scale per
row (modules.RowQuantizedStringEncoder), not the converter's one scale per tensor.

`DEFAULT_VARIANTS` are the ones that pass on the students we train; full int8 is
opt-in (its calibrated activations lose too much on them: benchmarks/RESULTS.md).

Each variant is converted, run on a fixed multilingual probe set and on the dev split,
and refused when its embeddings drift from the SavedModel's (mean cosine under
`MIN_COSINE`), its dev retrieval accuracy drops by more than `MAX_ACCURACY_DROP`, or it
does not convert. A refused variant is left out with a warning that gives its numbers,
recorded under "refused"; the SavedModel and the other variants are written anyway.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Sequence

import numpy as np
from absl import logging

from lealla.embeddings.text_encoder import EmbedFn
from lealla.evaluation.retrieval import pair_accuracies
from lealla.files import atomic
from lealla.models.export.tflite_model import APP_REGISTRARS, TFLiteEncoder, UnsupportedOpError
from lealla.ui import quiet

VARIANTS = ("float32", "float16", "dynamic_int8", "int8")
DEFAULT_VARIANTS = ("float32", "float16", "dynamic_int8")
FILES = {
    "float32": "model.tflite",
    "float16": "model_float16.tflite",
    "dynamic_int8": "model_dynamic_int8.tflite",
    "int8": "model_int8.tflite",
}
# Bars against the SavedModel: mean cosine of the embeddings on the probe set, and the
# largest drop of dev retrieval accuracy (mean over language pairs, both directions).
MIN_COSINE = {"float32": 0.9999, "float16": 0.999, "dynamic_int8": 0.99, "int8": 0.99}
MAX_ACCURACY_DROP = {"float32": 0.002, "float16": 0.005, "dynamic_int8": 0.02, "int8": 0.02}
SPEED_BATCHES = (1, 64)
QUANTIZED = ("dynamic_int8", "int8")

DevSets = dict[str, tuple[list[str], list[str]]]


class TFLiteVerificationError(RuntimeError):
    """A TFLite variant misses its bar against the SavedModel (it is not written)."""


@dataclasses.dataclass(frozen=True)
class TFLiteReport:
    """What was measured of one variant (goes into lealla_export.json and the card)."""

    file: str
    bytes: int
    cosine_mean: float
    cosine_min: float
    dev_accuracy: float | None
    saved_model_dev_accuracy: float | None
    sentences_per_second: dict[str, float]
    custom_ops: list[str]
    float_ops: list[str]
    token_table: str


def check_variants(variants: Sequence[str]) -> tuple[str, ...]:
    """The variants, each once, in order; refuses an unknown or empty list."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise ValueError(
            f"unknown TFLite variant(s) {unknown or '(none given)'}; choose from "
            f"{', '.join(VARIANTS)}"
        )
    return tuple(dict.fromkeys(variants))


def convert(saved_model: str, variant: str, representative: Sequence[str] = ()) -> bytes:
    """Converts the string-in SavedModel at `saved_model` into one TFLite variant.

    Raises:
      UnsupportedOpError: the converter cannot express an op of the graph (named).
      ValueError: `int8` without representative sentences.
    """
    # TensorFlow and the exported modules load only when a variant is converted
    import tensorflow as tf
    from tensorflow_text.core.pybinds import tflite_registrar

    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model, signature_keys=["serving_default"]
    )
    # The tokenizer stays as tensorflow_text's TFLite custom ops; everything else must be
    # a builtin (no Flex/select-TF ops: apps would have to link all of TensorFlow).
    converter.allow_custom_ops = True
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        if not representative:
            raise ValueError("the int8 variant needs representative sentences to calibrate on")
        converter.representative_dataset = lambda: (
            {"texts": np.array(representative[i : i + 8], dtype=object)}
            for i in range(0, len(representative), 8)
        )
        # The calibrator runs the model, tokenizer included: it needs tensorflow_text's
        # kernels (no public switch for this in the converter).
        converter.target_spec._experimental_custom_op_registerers = (
            tflite_registrar.SELECT_TFTEXT_OPS
        )
    try:
        with quiet.native_stderr_silenced():  # the converter's MLIR chatter
            return converter.convert()
    except Exception as e:  # ConverterError and friends; keep their op list
        raise UnsupportedOpError(
            f"TFLite conversion of the {variant} variant failed: {_first_lines(e)}"
        ) from None


def verify(
    model: bytes,
    variant: str,
    reference: EmbedFn,
    probes: Sequence[str],
    dev: DevSets,
    reference_dev_accuracy: float | None,
    token_table: str = "as converted",
) -> TFLiteReport:
    """Runs one converted variant against the SavedModel's embeddings; raises if it misses."""
    encoder = TFLiteEncoder(model)
    unknown = [op for op in encoder.custom_ops() if op not in APP_REGISTRARS]
    if unknown:
        raise UnsupportedOpError(
            f"the {variant} TFLite model needs op(s) {', '.join(unknown)}, which neither "
            f"TFLite's builtins nor tensorflow_text's TFLite kernels provide"
        )
    # Each probe embedded in one batch (padded to the longest) and alone (no padding): a
    # quantized model's padding must not move a sentence; the worse of the two counts.
    expected = reference(list(probes))
    batch = encoder.encode(list(probes), batch_size=len(probes))
    alone = np.concatenate([encoder([t]) for t in probes])
    cosine = np.minimum(np.sum(batch * expected, axis=1), np.sum(alone * expected, axis=1))
    accuracy = dev_accuracy(encoder.encode, dev) if dev else None
    report = TFLiteReport(
        file=FILES[variant],
        bytes=len(model),
        cosine_mean=float(cosine.mean()),
        cosine_min=float(cosine.min()),
        dev_accuracy=accuracy,
        saved_model_dev_accuracy=reference_dev_accuracy,
        sentences_per_second=measure_speed(encoder, probes),
        custom_ops=encoder.custom_ops(),
        # Only full int8 promises integer compute; what stayed float is worth knowing.
        float_ops=encoder.float_ops() if variant == "int8" else [],
        token_table=token_table,
    )
    problems = []
    if report.cosine_mean < MIN_COSINE[variant]:
        problems.append(
            f"mean cosine to the SavedModel {report.cosine_mean:.4f} < {MIN_COSINE[variant]}"
        )
    measured = accuracy is not None and reference_dev_accuracy is not None
    if measured and reference_dev_accuracy - accuracy > MAX_ACCURACY_DROP[variant]:
        problems.append(
            f"dev retrieval accuracy {accuracy:.4f} vs the SavedModel's "
            f"{reference_dev_accuracy:.4f} (allowed drop {MAX_ACCURACY_DROP[variant]})"
        )
    if problems:
        raise TFLiteVerificationError(
            f"TFLite {variant} variant refused, left out of the export: {'; '.join(problems)} "
            f"(probe set: {len(probes)} sentences; dev: "
            f"{sum(len(s) for s, _ in dev.values())} pairs)"
        )
    return report


def dev_accuracy(encode: EmbedFn, dev: DevSets) -> float:
    """Bidirectional retrieval accuracy, mean over the dev language pairs."""
    return float(np.mean(list(pair_accuracies(encode, dev).values())))


def measure_speed(encode: EmbedFn, texts: Sequence[str]) -> dict:
    """Sentences per second at batch 1 and batch 64 (after one warm-up call)."""
    out = {}
    for batch in SPEED_BATCHES:
        sample = [texts[i % len(texts)] for i in range(max(64, batch * 4))]
        encode(sample[:batch])
        start = time.perf_counter()
        for i in range(0, len(sample), batch):
            encode(sample[i : i + batch])
        out[f"batch_{batch}"] = len(sample) / (time.perf_counter() - start)
    return out


def write_variants(
    saved_model: str,
    variants: Sequence[str],
    encoder,
    probes: Sequence[str],
    dev: DevSets,
    representative: Sequence[str],
) -> dict[str, dict]:
    """Converts and verifies every variant into `saved_model`'s folder.

    Returns:
      {"saved_model": {bytes, dev_accuracy, sentences_per_second}, "variants": {variant:
      TFLiteReport as a dict}, "refused": {variant: the one-line reason, with its numbers}}.

    A variant that does not convert or misses its bar is left out with a warning; the
    others are written. The SavedModel is the product and never waits on a derived file.
    """
    reference = encoder.encode
    reference_accuracy = dev_accuracy(reference, dev) if dev else None
    saved = {
        "bytes": saved_model_bytes(saved_model),
        "dev_accuracy": reference_accuracy,
        "sentences_per_second": measure_speed(reference, probes),
    }
    reports, refused = {}, {}
    with tempfile.TemporaryDirectory(prefix="lealla-tflite-") as scratch:
        for variant in check_variants(variants):
            start = time.perf_counter()
            source, table = saved_model, "float16" if variant == "float16" else "float32"
            if variant in QUANTIZED:
                source, table = quantized_source(encoder, saved_model, scratch)
            try:
                model = convert(source, variant, representative)
                report = verify(model, variant, reference, probes, dev, reference_accuracy, table)
            except (TFLiteVerificationError, UnsupportedOpError) as e:
                reason = str(e)
                if isinstance(e, UnsupportedOpError):
                    reason = f"TFLite {variant} variant refused, left out of the export: {e}"
                logging.warning("%s", reason)
                refused[variant] = reason
                continue
            atomic.atomic_write_bytes(os.path.join(saved_model, FILES[variant]), model)
            reports[variant] = dataclasses.asdict(report)
            logging.info(
                "TFLite %s: %s, %.1f MB, cosine %.4f, dev %s (%.0f s)", variant, report.file,
                report.bytes / 1e6, report.cosine_mean,
                "n/a" if report.dev_accuracy is None else f"{report.dev_accuracy:.4f}",
                time.perf_counter() - start,
            )  # fmt: skip
    return {"saved_model": saved, "variants": reports, "refused": refused}


def quantized_source(encoder, saved_model: str, scratch: str) -> tuple[str, str]:
    """The SavedModel the int8 variants convert from, and how it stores the token table.

    `scratch` is a folder of this encoder's own: the row-quantized model is written
    there once and reused by the second int8 variant.
    """
    # TensorFlow and the exported modules load only when a variant is converted
    import tensorflow as tf

    from lealla.models.export import modules

    if not modules.RowQuantizedStringEncoder.supports(encoder.backbone):
        return saved_model, "int8, one scale (converter)"
    path = os.path.join(scratch, "row_quantized")
    if not os.path.isdir(path):
        module = modules.RowQuantizedStringEncoder(
            encoder.tokenizer, encoder.backbone, encoder.seq_length
        )
        serving = tf.function(lambda texts: {"default": module(texts)})
        tf.saved_model.save(
            module, path,
            signatures={"serving_default": serving.get_concrete_function(modules.STRINGS)},
        )  # fmt: skip
    return path, "int8, a scale per row"


def saved_model_bytes(folder: str) -> int:
    """Size of the string-in SavedModel proper (graph, variables, assets)."""
    total = os.path.getsize(os.path.join(folder, "saved_model.pb"))
    for sub in ("variables", "assets"):
        for root, _, files in os.walk(os.path.join(folder, sub)):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def _first_lines(error: Exception, lines: int = 6) -> str:
    text = str(error).strip().splitlines()
    return " / ".join(line.strip() for line in text[:lines] if line.strip())
