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
training-only heads stay in the checkpoint. The settings are `export_config`'s, the
width (--dims) `export_dims`'s, the checks `verification`'s, the metadata
`export_metadata`'s; the names in `__all__` are this module's API.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf
from absl import logging

from lealla.data import corpus
from lealla.files import atomic, output_dirs
from lealla.models.export import (
    export_dims,
    export_metadata,
    model_card,
    modules,
    restore,
    tflite_export,
    verification,
)
from lealla.models.export.export_config import ExportConfig
from lealla.models.export.export_dims import DimsError, trained_dims
from lealla.models.export.export_metadata import export_sizes
from lealla.models.export.sample_text import probe_sentences, representative_sentences
from lealla.models.export.verification import (
    ENCODER_DIR,
    LABSE_DIR,
    PREPROCESSOR_DIR,
    ExportVerificationError,
    verify_export,
)
from lealla.models.students.sentence_encoder import SentenceEncoder
from lealla.records import module_metadata

__all__ = [
    "CARD_FILE", "DIMS_CHART", "ENCODER_DIR", "LABSE_DIR", "METADATA_FILE", "PREPROCESSOR_DIR",
    "DimsError", "ExportConfig", "ExportVerificationError", "check_output", "export_model",
    "export_sizes", "exported_encoder", "probe_sentences", "remove_stale_temp_folders",
    "representative_sentences", "trained_dims", "verify_export",
]  # fmt: skip

METADATA_FILE = module_metadata.EXPORT_FILE
CARD_FILE = "README.md"
DIMS_CHART = "dims.png"
DEFAULT_CONFIG = ExportConfig()  # frozen: one shared default is safe


def export_model(
    model_dir: str, out: str, config: ExportConfig = DEFAULT_CONFIG, overwrite: bool = False
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
    model_dir: str, out: str, config: ExportConfig = DEFAULT_CONFIG, overwrite: bool = False
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
    encoder, truncation = export_dims.float32_encoder(model_dir, config)
    precision = verification.round_weights(encoder, config.weights_dtype, _dev_sets(model_dir))
    checkpoint = restore.checkpoint_path(model_dir, config.checkpoint)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    remove_stale_temp_folders(out)
    tmp = output_dirs.temp_beside(out)
    try:
        vocab_asset = export_metadata.tokenizer_file(model_dir)
        _save_string_module(encoder, vocab_asset, tmp, config.weights_dtype)
        if config.labse_format:
            _save_labse_pair(encoder, vocab_asset, tmp, config.weights_dtype)
        checks = verify_export(tmp, encoder, config.tolerance, config.labse_format)
        metadata = export_metadata.export_metadata(model_dir, encoder, checkpoint, config, checks)
        if precision:
            metadata["weights"] = precision
        if truncation:
            metadata["truncation"] = truncation
            export_dims.dims_chart(os.path.join(tmp, DIMS_CHART), truncation)
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


def exported_encoder(
    model_dir: str, config: ExportConfig, measure: bool = True
) -> tuple[SentenceEncoder, dict | None]:
    """The encoder an export of `model_dir` computes, and what its truncation measured.

    With config.weights_dtype float16 its weights are rounded to float16 (and back), as
    the export stores them. See `_float32_encoder` for the rest.
    """
    encoder, truncation = export_dims.float32_encoder(model_dir, config, measure)
    verification.round_weights(encoder, config.weights_dtype)
    return encoder, truncation


def _dev_sets(model_dir: str) -> tflite_export.DevSets:
    """The run's dev pairs by language pair ({} when it records none)."""
    run = restore.read_run(model_dir)
    return corpus.parallel_groups(run.dev_data, run.on_bad_line)


def _write_tflite(path: str, model_dir: str, encoder, config: ExportConfig) -> dict:
    """Writes and verifies the TFLite variants into the (temporary) export folder."""
    run = restore.read_run(model_dir)
    on_bad_line = run.on_bad_line
    dev = _dev_sets(model_dir)
    representative = []
    if "int8" in config.tflite_variants:
        specs = config.representative_data or run.train_data
        representative = representative_sentences(specs, encoder.tokenizer, on_bad_line)
    reports = tflite_export.write_variants(
        path,
        config.tflite_variants,
        encoder,
        probe_sentences(),
        dev,
        representative,
    )
    return {**reports, "dev_data": run.reported["dev_data"],
            "representative_data": list(config.representative_data or run.train_data)
            if representative else None}  # fmt: skip


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
