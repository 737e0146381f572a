"""What an export says about itself (lealla_export.json): shape, tokenizer, student,
teacher, training, languages, checkpoint, evaluation, verification and sizes."""

from __future__ import annotations

import datetime
import json
import os
import re

import numpy as np
import tensorflow as tf
from absl import logging

from lealla.data import corpus
from lealla.evaluation.retrieval import pair_accuracies
from lealla.files import fileio
from lealla.models.export import restore, tflite_export
from lealla.models.export.export_config import ExportConfig
from lealla.models.export.verification import ENCODER_DIR, LABSE_DIR, PREPROCESSOR_DIR
from lealla.records import run_layout


def export_metadata(model_dir: str, encoder, checkpoint: str, config: ExportConfig, checks) -> dict:
    run = restore.read_run(model_dir)
    tok = encoder.tokenizer
    asset = os.path.basename(tokenizer_file(model_dir))
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
        "student": dict(run.student),
        "teacher": run.teacher,
        "objective": run.objective,
        "training": dict(run.reported),
        "languages": _languages(run, config),
        "checkpoint": {
            "which": config.checkpoint,
            "step": int(step.group(1)) if step else None,
        },
        "evaluation": {
            "best": run.best,
            "final": run.metrics,
            # The exported model itself, per language pair (what the model card reports).
            "dev": _run_dev_scores(encoder, run),
            "test": _scores(encoder, config.test_data, run.on_bad_line),
        },
        "verification": {**checks, "tolerance": config.tolerance},
        "labse_format": {"preprocessor": PREPROCESSOR_DIR, "encoder": ENCODER_DIR}
        if config.labse_format
        else None,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "tensorflow": tf.__version__,
    }
    if run.command is not None:  # runs trained before the command was recorded lack it
        metadata["training"]["command"] = run.command
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


def _run_dev_scores(encoder, run: restore.RunRecord) -> dict | None:
    """`_scores` on the run's dev data; None (and a warning) when it is no longer there: a
    run exported on another machine still exports."""
    try:
        return _scores(encoder, run.reported["dev_data"], run.on_bad_line)
    except (OSError, ValueError) as e:
        logging.warning("dev accuracy of the exported model not recorded: %s", e)
        return None


def _languages(run: restore.RunRecord, config: ExportConfig) -> list[str]:
    """The languages the run trained on, as far as the file names say, and those scored
    (files that are gone, or carry their languages in columns, name none)."""
    found: set[str] = set()
    for spec in (*run.train_data, *run.dev_data, *config.test_data):
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


def tokenizer_file(model_dir: str) -> str:
    """The vocabulary file of the run's tokenizer (vocab.txt or the SentencePiece model)."""
    directory = os.path.join(model_dir, run_layout.TOKENIZER_DIR)
    with open(os.path.join(directory, "tokenizer.json"), encoding="utf-8") as f:
        values = json.load(f)
    name = values.get("vocab_file") or values.get("model_file")
    if not name:
        raise ValueError(f"{directory}/tokenizer.json names no vocab_file or model_file")
    return os.path.join(directory, name)
