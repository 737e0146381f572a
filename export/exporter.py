"""A training model_dir -> a TF Hub-ready export folder, verified, written atomically.

Export folder:
  saved_model.pb, variables/, assets/   strings in, [N, d] unit-length out (the root is
                                        the handle: hub.KerasLayer(OUT))
  labse_format/preprocessor/            with labse_format: strings -> input_word_ids/
                                        input_mask/input_type_ids
  labse_format/encoder/                 with labse_format: dict in -> default/pooled_output/
                                        sequence_output (a second copy of the weights)
  model*.tflite                         with --tflite: TFLite variants, tokenizer inside
                                        (export/tflite_export.py)
  lealla_export.json                    metadata (shape, tokenizer, teacher, training, checks)
  dims.png                              Matryoshka runs: dev accuracy by embedding width
  README.md                             the model card

Only the student backbone is exported: the distillation projection and any
training-only heads stay in the checkpoint.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import os
import re
import shutil

import numpy as np
import tensorflow as tf
from absl import logging
from lealla.models.export import model_card, modules, restore, tflite_export
from lealla.models.students.sentence_encoder import SentenceEncoder
from lealla.models.students.truncated import TruncatedBackbone

from lealla.config import json_config
from lealla.data import corpus, demo_corpus
from lealla.embeddings import truncation as truncation_lib
from lealla.evaluation.retrieval import pair_accuracies, pair_accuracies_by_width
from lealla.files import atomic, fileio, output_dirs
from lealla.records import module_metadata, run_layout
from lealla.records.run_layout import run_setting
from lealla.tokenization import coverage
from lealla.ui import plots

METADATA_FILE = module_metadata.EXPORT_FILE
CARD_FILE = "README.md"
DIMS_CHART = "dims.png"
LABSE_DIR = "labse_format"
PREPROCESSOR_DIR = os.path.join(LABSE_DIR, "preprocessor")
ENCODER_DIR = os.path.join(LABSE_DIR, "encoder")
# The export's "training" record: {key: the run's setting}.
_TRAINING_KEYS = {
    "train_data": "data.train_data", "dev_data": "data.dev_data", "steps": "trainer.steps",
    "batch_size": "data.batch_size", "learning_rate": "optimizer.learning_rate",
    "teacher_cache": "teacher.cache", "vocab": "student.vocab",
}  # fmt: skip
# int8 calibration: this many sentences of the training data; refused when more than
# MAX_UNK_RATE of their tokens are unknown to the student's vocabulary.
REPRESENTATIVE_SENTENCES = 512
ROTATION_SENTENCES = 4096  # PCA of a d <= 1024 embedding: a few thousand sentences
MAX_UNK_RATE = 0.2
# float16 weights: the bar of the float16 TFLite variant (mean cosine on the probes).
MIN_FLOAT16_COSINE = tflite_export.MIN_COSINE["float16"]


class DimsError(ValueError):
    """--dims is wider than the model, or a width the run did not train (without force)."""


class ExportVerificationError(RuntimeError):
    """The reloaded export does not reproduce the in-memory student's embeddings."""


@dataclasses.dataclass(frozen=True)
class ExportConfig(json_config.ConfigMixin):
    """How to export.

    Example:
      >>> import lealla
      >>> config = lealla.ExportConfig(tflite_variants=("float32", "dynamic_int8"), dims=64)
      >>> config.checkpoint, config.labse_format
      ('best', False)

    Attributes:
      checkpoint: `best` (best dev retrieval, else latest) or `latest`.
      seq_length: longest input in tokens; default: the run's training seq_length.
      labse_format: also write the LaBSE-compatible preprocessor/encoder pair. Off by
        default: a SavedModel folder holds its own variables, so the pair's encoder is a
        second copy of every weight (benchmarks/RESULTS.md, "Export size and load time").
      tolerance: largest allowed |reloaded - in-memory| embedding difference.
      tflite_variants: TFLite variants to write beside the SavedModel (see
        tflite_export.VARIANTS); none by default. A variant that misses its bar is left
        out with a warning, its numbers recorded under tflite.refused: the SavedModel
        never depends on an optional variant.
      representative_data: corpus files whose sentences calibrate the int8 variant;
        default: the run's training data.
      weights_dtype: how the SavedModel stores its weights: float32, or float16 (half
        the bytes; the graph casts them to float32 and computes in float32). float16 is
        refused when its mean cosine to the float32 model on the probe sentences is
        under MIN_FLOAT16_COSINE.
      dims: output width: the first `dims` dimensions of the embedding, renormalized;
        None for the full width.
      pca_rotation: with `dims`, rotate the pooled output first by the PCA of the
        model's embeddings of its training text (`truncation.pca_rotation`: cosines
        unchanged, the leading dimensions carry the most; see
        benchmarks/RESULTS.md#ablations-and-decisions). Any width may then be exported.
      force_dims: without the rotation, allow a `dims` the run did not train as a
        Matryoshka prefix.
      test_data: parallel files (xx<TAB>en) the exported model is scored on besides the
        run's dev data, per language pair, into the metadata and the model card.
    """

    checkpoint: str = "best"
    seq_length: int | None = None
    labse_format: bool = False
    tolerance: float = 1e-5
    tflite_variants: tuple[str, ...] = ()
    representative_data: tuple[str, ...] = ()
    weights_dtype: str = "float32"
    dims: int | None = None
    pca_rotation: bool = True
    force_dims: bool = False
    test_data: tuple[str, ...] = ()

    def __post_init__(self):
        if self.dims is not None and self.dims < 1:
            raise ValueError(f"dims must be >= 1, got {self.dims}")
        if self.tflite_variants:
            tflite_export.check_variants(self.tflite_variants)
        if self.weights_dtype not in modules.WEIGHT_DTYPES:
            raise ValueError(
                f"weights_dtype must be one of {', '.join(modules.WEIGHT_DTYPES)}, got "
                f"{self.weights_dtype!r}"
            )
        if self.checkpoint not in run_layout.CHECKPOINTS:
            raise ValueError(
                f"checkpoint must be one of {run_layout.CHECKPOINTS}, got {self.checkpoint!r}"
            )
        if self.seq_length is not None and self.seq_length < 3:
            raise ValueError(f"seq_length must be >= 3, got {self.seq_length}")


def export_model(
    model_dir: str, out: str, config: ExportConfig = ExportConfig(), overwrite: bool = False
) -> dict:
    """Exports the student of `model_dir` to `out`; returns the metadata written.

    The export is built in a temporary sibling folder, reloaded and compared with
    the in-memory student, and only then renamed to `out`: an interrupted or failed
    export leaves `out` as it was.

    Raises:
      FileExistsError: `out` exists and `overwrite` is False.
      ValueError: `model_dir` is not a training run or has no checkpoint.
      ExportVerificationError: the reloaded export disagrees with the student.
    """
    out = os.path.abspath(out.rstrip("/"))
    check_output(model_dir, out, config, overwrite)
    with output_dirs.locked(out):
        check_output(model_dir, out, config, overwrite)  # again, now that no one else writes
        return _export_locked(model_dir, out, config)


def check_output(
    model_dir: str, out: str, config: ExportConfig = ExportConfig(), overwrite: bool = False
) -> None:
    """Refuses an `out` that is (in) an input, exists without `overwrite`, or is not
    wholly an export (what --overwrite would replace): before any work starts.

    Raises:
      UnsafeOutputError: `out` is, contains or is inside the run or a data file.
      FileExistsError: `out` exists and `overwrite` is False.
      NotOursError: `out` is not an export folder and nothing else.
    """
    inputs = [("--model_dir", model_dir)]
    inputs += [("--representative_data", p) for p in config.representative_data]
    output_dirs.check_target(out, "--out", inputs)
    if os.path.lexists(out) and not overwrite:
        raise FileExistsError(f"export path {out} exists; pass --overwrite to replace it")
    output_dirs.check_replaceable(out, output_dirs.EXPORT)


def _export_locked(model_dir: str, out: str, config: ExportConfig) -> dict:
    encoder, truncation = _float32_encoder(model_dir, config)
    precision = _round_weights(encoder, config.weights_dtype, _dev_sets(model_dir))
    checkpoint = restore.checkpoint_path(model_dir, config.checkpoint)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    remove_stale_temp_folders(out)
    tmp = output_dirs.temp_beside(out)
    try:
        vocab_asset = _tokenizer_file(model_dir)
        _save_string_module(encoder, vocab_asset, tmp, config.weights_dtype)
        if config.labse_format:
            _save_labse_pair(encoder, vocab_asset, tmp, config.weights_dtype)
        checks = verify_export(tmp, encoder, config.tolerance, config.labse_format)
        metadata = _metadata(model_dir, encoder, checkpoint, config, checks)
        if precision:
            metadata["weights"] = precision
        if truncation:
            metadata["truncation"] = truncation
            _dims_chart(os.path.join(tmp, DIMS_CHART), truncation)
        if config.tflite_variants:
            metadata["tflite"] = _write_tflite(tmp, model_dir, encoder, config)
        metadata["sizes"] = export_sizes(tmp, metadata["parameters"])
        metadata = module_metadata.without_local_paths(metadata)  # it travels with the model
        module_metadata.write(os.path.join(tmp, METADATA_FILE), metadata)
        atomic.atomic_write_text(os.path.join(tmp, CARD_FILE), model_card.render(metadata))
        atomic.normalize_permissions(tmp)  # readable by a serving account
        output_dirs.replace_folder(tmp, out, output_dirs.EXPORT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return metadata


def trained_dims(model_dir: str, width: int) -> list[int]:
    """The widths a run trained as embeddings: its Matryoshka prefixes and the full width."""
    prefixes = run_layout.trained_dims(restore.read_run_config(model_dir))
    return sorted({*prefixes, int(width)})


def exported_encoder(
    model_dir: str, config: ExportConfig, measure: bool = True
) -> tuple[SentenceEncoder, dict | None]:
    """The encoder an export of `model_dir` computes, and what its truncation measured.

    With config.weights_dtype float16 its weights are rounded to float16 (and back), as
    the export stores them. See `_float32_encoder` for the rest.
    """
    encoder, truncation = _float32_encoder(model_dir, config, measure)
    _round_weights(encoder, config.weights_dtype)
    return encoder, truncation


def _float32_encoder(
    model_dir: str, config: ExportConfig, measure: bool = True
) -> tuple[SentenceEncoder, dict | None]:
    """The float32 encoder an export of `model_dir` computes, and what its truncation measured.

    The full-width student, or with config.dims its (rotated) prefix. The second value
    (None for a full-width export of a run without Matryoshka prefixes) has the widths,
    the rotation and (with `measure`) the dev accuracy at each width, as the same
    rotation gives them.

    Raises:
      DimsError: dims wider than the model, or (without the rotation) not a trained
        prefix and not force_dims.
      ValueError: the rotation needs training text and the run records none.
    """
    encoder = restore.restore_sentence_encoder(
        model_dir, checkpoint=config.checkpoint, seq_length=config.seq_length
    )
    width = int(encoder.backbone.embedding_dim)
    trained = trained_dims(model_dir, width)
    if config.dims is None and len(trained) == 1:
        return encoder, None
    rotate = config.dims is not None and config.pca_rotation
    if config.dims is not None:
        if config.dims > width:
            raise DimsError(f"--dims={config.dims} exceeds the model's {width} dimensions")
        if config.dims not in trained and not (rotate or config.force_dims):
            raise DimsError(
                f"--dims={config.dims} is not a width this run trained (trained: "
                f"{', '.join(map(str, trained))}; --lealla.matryoshka_dims at training) and the "
                f"PCA rotation is off; pass --force to export an untrained prefix anyway"
            )
    run = restore.read_run_config(model_dir)
    on_bad_line = run_setting(run, "data.on_bad_line", "error")
    rotation, sample = None, 0
    if rotate:
        specs = config.representative_data or tuple(run_setting(run, "data.train_data") or ())
        if not specs:
            raise ValueError(
                "the PCA rotation of --dims needs the model's training text: the run records "
                "none; pass --representative_data=FILE (or --nopca_rotation)"
            )
        texts = representative_sentences(specs, encoder.tokenizer, on_bad_line, ROTATION_SENTENCES)
        rotation, sample = truncation_lib.pca_rotation(encoder.encode(texts)), len(texts)
    widths = sorted({*trained, *((config.dims,) if config.dims else ()),
                     *range(32, width, 32)})  # fmt: skip
    dev_data = run_setting(run, "data.dev_data") or ()
    dev = corpus.parallel_groups(dev_data, on_bad_line) if measure else {}
    accuracy = {
        str(m): float(np.mean(list(per_pair.values())))
        for m, per_pair in pair_accuracies_by_width(encoder.encode, dev, widths, rotation).items()
    } if dev else {}  # fmt: skip
    if config.dims is not None:
        backbone = TruncatedBackbone(encoder.backbone, config.dims, rotation)
        encoder = SentenceEncoder(encoder.tokenizer, backbone, encoder.seq_length)
    return encoder, {
        "dims": config.dims or width, "full_width": width, "trained_dims": trained,
        "rotation": f"pca of {sample} training sentences" if rotate else None,
        "dev_accuracy": accuracy, "dev_data": run_setting(run, "data.dev_data"),
    }  # fmt: skip


def _dev_sets(model_dir: str) -> tflite_export.DevSets:
    """The run's dev pairs by language pair ({} when it records none)."""
    run = restore.read_run_config(model_dir)
    return corpus.parallel_groups(
        run_setting(run, "data.dev_data") or (), run_setting(run, "data.on_bad_line", "error")
    )


def _round_weights(encoder, dtype: str, dev: tflite_export.DevSets | None = None) -> dict | None:
    """Rounds the encoder's floating weights to `dtype` in place, as the export stores them.

    With `dev` (an export), the rounding is measured first: the mean and least cosine to
    the float32 encoder on the probe sentences, and the dev retrieval accuracy of both.

    Returns:
      Those measurements; None for float32 (nothing to round).

    Raises:
      ExportVerificationError: a mean cosine under MIN_FLOAT16_COSINE (with `dev` given).
    """
    if dtype == "float32":
        return None
    texts = probe_sentences()
    measure = dev is not None
    if measure:
        reference = encoder.encode(texts)
        reference_accuracy = tflite_export.dev_accuracy(encoder.encode, dev) if dev else None
    for variable in encoder.backbone.variables:
        if variable.value.dtype.is_floating:
            variable.assign(tf.cast(tf.cast(variable.value, dtype), variable.value.dtype))
    if not measure:
        return None
    cosine = np.sum(encoder.encode(texts) * reference, axis=1)
    accuracy = tflite_export.dev_accuracy(encoder.encode, dev) if dev else None
    report = {
        "dtype": dtype, "compute_dtype": "float32", "sentences": len(texts),
        "cosine_to_float32_mean": float(cosine.mean()),
        "cosine_to_float32_min": float(cosine.min()),
        "dev_accuracy": accuracy, "float32_dev_accuracy": reference_accuracy,
    }  # fmt: skip
    if report["cosine_to_float32_mean"] < MIN_FLOAT16_COSINE:
        dev_note = "" if accuracy is None else (
            f"; dev retrieval accuracy {accuracy:.4f} vs {reference_accuracy:.4f} in float32"
        )  # fmt: skip
        raise ExportVerificationError(
            f"--weights_dtype={dtype} refused: mean cosine to the float32 model "
            f"{cosine.mean():.5f} < {MIN_FLOAT16_COSINE} (least {cosine.min():.5f}, "
            f"{len(texts)} probe sentences{dev_note}); export with --weights_dtype=float32"
        )
    return report


def export_sizes(folder: str, parameters: int) -> dict:
    """Bytes of each part of an export folder, beside the float32 bytes of its parameters.

    Returns:
      {"parameter_bytes_float32", "saved_model" (graph, variables, assets),
      "saved_model_variables", "labse_format" (None without the pair), "tflite":
      {variant: bytes}, "total" (every part)}.
    """
    labse = os.path.join(folder, LABSE_DIR)
    sizes = {
        "parameter_bytes_float32": 4 * int(parameters),
        "saved_model": tflite_export.saved_model_bytes(folder),
        "saved_model_variables": fileio.folder_bytes(os.path.join(folder, "variables")),
        "labse_format": fileio.folder_bytes(labse) if os.path.isdir(labse) else None,
        "tflite": {
            variant: os.path.getsize(os.path.join(folder, name))
            for variant, name in tflite_export.FILES.items()
            if os.path.isfile(os.path.join(folder, name))
        },
    }
    sizes["total"] = (sizes["saved_model"] + (sizes["labse_format"] or 0)
                      + sum(sizes["tflite"].values()))  # fmt: skip
    return sizes


def _dims_chart(path: str, truncation: dict) -> None:
    accuracy = truncation["dev_accuracy"]
    if accuracy:
        plots.line_chart(
            path, {"dev retrieval": ([int(m) for m in accuracy], list(accuracy.values()))},
            title="Accuracy by embedding width (first m dimensions)",
            xlabel="dimensions", ylabel="dev retrieval accuracy",
        )  # fmt: skip


def verify_export(path: str, encoder, tolerance: float, labse_format: bool) -> dict:
    """Reloads the export at `path` and compares it with `encoder` on multilingual probes.

    Returns:
      {"sentences", "max_abs_diff", "labse_format_max_abs_diff"}.

    Raises:
      ExportVerificationError: a difference above `tolerance`.
    """
    texts = probe_sentences()
    expected = encoder.encode(texts)
    loaded = tf.saved_model.load(path)
    got = loaded(tf.constant(texts)).numpy()
    checks = {"sentences": len(texts), "max_abs_diff": float(np.abs(got - expected).max())}
    if labse_format:
        pre = tf.saved_model.load(os.path.join(path, PREPROCESSOR_DIR))
        enc = tf.saved_model.load(os.path.join(path, ENCODER_DIR))
        pair = enc(pre(tf.constant(texts)))["default"].numpy()
        checks["labse_format_max_abs_diff"] = float(np.abs(pair - expected).max())
    for name in ("max_abs_diff", "labse_format_max_abs_diff"):
        if checks.get(name, 0.0) > tolerance:
            raise ExportVerificationError(
                f"reloaded export differs from the trained student: {name}={checks[name]:.3g} "
                f"> tolerance {tolerance:g} on {len(texts)} sentences"
            )
    return checks


def probe_sentences() -> list[str]:
    """Sentences in the 14 demo languages, plus an empty and an over-long one (truncation)."""
    languages = demo_corpus.DEMO_LANGUAGES
    texts = [s for lang in languages for s in demo_corpus.read_split("dev", lang)[:3]]
    return [*texts, "", " ".join(demo_corpus.read_split("dev", "en"))]


def _write_tflite(path: str, model_dir: str, encoder, config: ExportConfig) -> dict:
    """Writes and verifies the TFLite variants into the (temporary) export folder."""
    run = restore.read_run_config(model_dir)
    on_bad_line = run_setting(run, "data.on_bad_line", "error")
    dev = _dev_sets(model_dir)
    representative = []
    if "int8" in config.tflite_variants:
        specs = config.representative_data or tuple(run_setting(run, "data.train_data") or ())
        representative = representative_sentences(specs, encoder.tokenizer, on_bad_line)
    reports = tflite_export.write_variants(
        path,
        config.tflite_variants,
        encoder,
        probe_sentences(),
        dev,
        representative,
    )
    train_data = run_setting(run, "data.train_data") or []
    return {**reports, "dev_data": run_setting(run, "data.dev_data"),
            "representative_data": list(config.representative_data or train_data)
            if representative else None}  # fmt: skip


def representative_sentences(
    specs, tokenizer, on_bad_line: str = "error", count: int = REPRESENTATIVE_SENTENCES
) -> list[str]:
    """A calibration sample: the first sentences of every source, `count` in all.

    Raises:
      ValueError: no data, a source with no sentences, or one the vocabulary does not
        cover (more than MAX_UNK_RATE unknown tokens), named.
    """
    if not specs:
        raise ValueError(
            "the int8 TFLite variant needs sentences to calibrate on: the run records no "
            "training data; pass --representative_data=FILE"
        )
    sources = corpus.resolve_sources(specs)
    per_source = max(1, -(-count // len(sources)))
    texts: list[str] = []
    seen: set[str] = set()
    for source in sources:
        # Both sides of a parallel file: twice as many, less the pivot seen before.
        sample = [t for _, t in itertools.islice(
            corpus.iter_sentences([source], on_bad_line=on_bad_line), 2 * per_source)]  # fmt: skip
        sample = [t for t in dict.fromkeys(sample) if t.strip()]
        if not sample:
            raise ValueError(
                f"{source.describe()}: no sentences to calibrate the int8 TFLite variant on"
            )
        rate = coverage.measure_coverage(tokenizer, sample).unk_rate
        if rate > MAX_UNK_RATE:
            raise ValueError(
                f"{source.describe()}: {rate:.0%} of its tokens are unknown to the student's "
                f"vocabulary; give text in the languages the model was trained for "
                f"(--representative_data)"
            )
        sample = [t for t in sample if t not in seen][:per_source]
        texts += sample
        seen.update(sample)
    return texts[:count]


def _save_string_module(encoder, vocab_asset: str, path: str, weights_dtype: str) -> None:
    module = modules.StringEncoder(
        encoder.tokenizer, encoder.backbone, encoder.seq_length, vocab_asset, weights_dtype
    )
    module.concrete_functions()  # traces both training modes so both are saved
    serving = tf.function(lambda texts: {"default": module(texts)})
    tf.saved_model.save(
        module, path, signatures={"serving_default": serving.get_concrete_function(modules.STRINGS)}
    )


def _save_labse_pair(encoder, vocab_asset: str, root: str, weights_dtype: str) -> None:
    pre = modules.Preprocessor(encoder.tokenizer, encoder.seq_length, vocab_asset)
    pre.concrete_functions()
    tf.saved_model.save(
        pre, os.path.join(root, PREPROCESSOR_DIR),
        signatures={"serving_default": pre.__call__.get_concrete_function()},
    )  # fmt: skip
    enc = modules.DictEncoder(encoder.backbone, vocab_asset, encoder.tokenizer, weights_dtype)
    enc.concrete_functions()
    serving = tf.function(lambda inputs: enc(inputs, training=False))
    tf.saved_model.save(
        enc, os.path.join(root, ENCODER_DIR),
        signatures={"serving_default": serving.get_concrete_function(modules.ENCODER_INPUTS)},
    )  # fmt: skip


def _tokenizer_file(model_dir: str) -> str:
    """The vocabulary file of the run's tokenizer (vocab.txt or the SentencePiece model)."""
    directory = os.path.join(model_dir, run_layout.TOKENIZER_DIR)
    with open(os.path.join(directory, "tokenizer.json"), encoding="utf-8") as f:
        values = json.load(f)
    name = values.get("vocab_file") or values.get("model_file")
    if not name:
        raise ValueError(f"{directory}/tokenizer.json names no vocab_file or model_file")
    return os.path.join(directory, name)


def _metadata(model_dir: str, encoder, checkpoint: str, config: ExportConfig, checks) -> dict:
    run = restore.read_run_config(model_dir)
    student = _read_json(os.path.join(model_dir, run_layout.STUDENT_CONFIG))
    tok = encoder.tokenizer
    asset = os.path.basename(_tokenizer_file(model_dir))
    tokenizer = {"kind": tok.kind, "vocab_size": tok.vocab_size, "asset": f"assets/{asset}"}
    if tok.kind == "wordpiece":
        tokenizer["lower_case"] = bool(getattr(tok, "lower_case", False))
    pruning = _read_json(os.path.join(model_dir, run_layout.TOKENIZER_DIR, "pruning.json"))
    if pruning:
        tokenizer["pruned_from"] = pruning.get("original_size")
    step = re.search(r"ckpt-(\d+)$", checkpoint)
    metadata = {
        "format": "string",
        "normalized": True,
        "embedding_dim": int(encoder.backbone.embedding_dim),
        "seq_length": int(encoder.seq_length),
        "parameters": int(encoder.backbone.count_params()),
        "tokenizer": tokenizer,
        "student": student,
        "teacher": run_setting(run, "teacher.name"),
        "objective": run_setting(run, "objective.name", "lealla"),
        "training": {
            **{key: run_setting(run, path) for key, path in _TRAINING_KEYS.items()},
            "matryoshka_dims": run_layout.trained_dims(run),
        },
        "languages": _languages(run, config),
        "checkpoint": {
            "which": config.checkpoint,
            "step": int(step.group(1)) if step else None,
        },
        "evaluation": {
            "best": _read_json(os.path.join(model_dir, "best", "best.json")),
            "final": _read_json(os.path.join(model_dir, "metrics.json")),
            # The exported model itself, per language pair (what the model card reports).
            "dev": _run_dev_scores(encoder, run),
            "test": _scores(
                encoder, config.test_data, run_setting(run, "data.on_bad_line", "error")
            ),
        },
        "verification": {**checks, "tolerance": config.tolerance},
        "labse_format": {"preprocessor": PREPROCESSOR_DIR, "encoder": ENCODER_DIR}
        if config.labse_format
        else None,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "tensorflow": tf.__version__,
    }
    command = os.path.join(model_dir, run_layout.RUN_COMMAND)
    if os.path.isfile(command):  # runs trained before the command was recorded lack it
        with open(command, encoding="utf-8") as f:
            metadata["training"]["command"] = f.read().strip()
    if tok.kind == "sentencepiece":
        metadata["sentencepiece_model"] = tokenizer["asset"]
    else:
        metadata["vocab_file"] = tokenizer["asset"]
    return metadata


def _scores(encoder, specs, on_bad_line: str) -> dict | None:
    """Bidirectional retrieval accuracy of `encoder` on parallel `specs`, per pair; None
    without data."""
    if not specs:
        return None
    per_pair = pair_accuracies(encoder.encode, corpus.parallel_groups(specs, on_bad_line))
    return {"data": list(specs), "accuracy": float(np.mean(list(per_pair.values()))),
            "per_pair": {pair: float(value) for pair, value in per_pair.items()}}  # fmt: skip


def _run_dev_scores(encoder, run: dict) -> dict | None:
    """`_scores` on the run's dev data; None (and a warning) when it is no longer there: a
    run exported on another machine still exports."""
    try:
        dev_data = run_setting(run, "data.dev_data")
        return _scores(encoder, dev_data, run_setting(run, "data.on_bad_line", "error"))
    except (OSError, ValueError) as e:
        logging.warning("dev accuracy of the exported model not recorded: %s", e)
        return None


def _languages(run: dict, config: ExportConfig) -> list[str]:
    """The languages the run trained on, as far as the file names say, and those scored
    (files that are gone, or carry their languages in columns, name none)."""
    found: set[str] = set()
    specs = (run_setting(run, "data.train_data") or []) + (run_setting(run, "data.dev_data") or [])
    for spec in (*specs, *config.test_data):
        try:
            sources = corpus.resolve_sources([spec])
        except (OSError, ValueError):
            continue
        for source in sources:
            found.update(lang for lang in (source.src_lang, source.tgt_lang) if lang)
    return sorted(found)


def _read_json(path: str) -> dict | None:
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def remove_stale_temp_folders(out: str) -> list[str]:
    """Removes the temp and aside folders of `out` (OUT.lealla-tmp-*, OUT.lealla-old-*,
    and older versions' OUT.tmp-PID-*, OUT.old-PID-*) a killed export left behind.

    Call it holding `out`'s lock: then no running export is building one of them.

    Returns:
      The folders removed (each also logged).
    """
    removed = output_dirs.remove_debris_beside(out)
    for path in removed:
        logging.warning("removed %s, left behind by an interrupted export", path)
    return removed
