"""Checks before anything is uploaded: the export, the staged folder, its card and metadata."""

from __future__ import annotations

import json
import os
import re

from lealla.models.export.publishing import hub_metadata, staging, targets
from lealla.records import module_metadata


class PublishError(RuntimeError):
    """An export or staged folder that must not be published, or an upload that failed;
    the message names the file or the cause."""


def check_export(export_dir: str) -> dict:
    """The export's metadata, when it is an export whose verification passed.

    Raises:
      PublishError: no such folder, no lealla_export.json, no SavedModel, or a
        verification that failed or was not recorded, named.
    """
    if not os.path.isdir(export_dir):
        raise PublishError(f"--export={export_dir}: no such folder")
    path = os.path.join(export_dir, module_metadata.EXPORT_FILE)
    if not os.path.isfile(path):
        raise PublishError(
            f"{export_dir}: not a lealla export (no {module_metadata.EXPORT_FILE}); publish "
            "a folder `lealla export --out` wrote"
        )
    try:
        metadata = module_metadata.read_raw(export_dir) or {}
    except ValueError as e:  # not JSON, or a newer schema
        raise PublishError(str(e)) from None
    if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        raise PublishError(f"{export_dir}: no saved_model.pb; export it again")
    checks = metadata.get("verification") or {}
    diffs = {k: v for k, v in checks.items() if k.endswith("max_abs_diff")}
    tolerance = checks.get("tolerance", 1e-5)
    failed = {k: v for k, v in diffs.items() if not (isinstance(v, int | float) and v <= tolerance)}
    if not diffs or failed:
        found = ", ".join(f"{k}={v}" for k, v in failed.items()) or "no verification recorded"
        raise PublishError(
            f"{path}: the export's verification failed ({found}, tolerance {tolerance:g}); "
            "export it again with lealla export"
        )
    return metadata


# Files a card names: paths in its snippets (`PATH/...`), relative links and images, and
# backticked file names of the folder.
_PATH_IN_SNIPPET = re.compile(r"PATH/([\w./-]+)")
_LINK = re.compile(r"\]\(([^)#:\s]+)\)")
_BACKTICKED = re.compile(r"`([\w./-]+\.(?:tflite|json|png|pb|model|txt))`|`(labse_format/[\w/]+)`")
# Backticked names that are not files of the folder (the run's own files, hub metadata).
_NOT_FOLDER_FILES = {"distill_command.txt", "distill_config.json"}


def named_files(card: str) -> set[str]:
    """The folder's files and folders a model card names."""
    names = set(_PATH_IN_SNIPPET.findall(card)) | set(_LINK.findall(card))
    for file_name, folder in _BACKTICKED.findall(card):
        names.add(file_name or folder)
    return {n.rstrip("/.") for n in names} - _NOT_FOLDER_FILES


def validate(stage: str, target: targets.Target, export_dir: str, metadata: dict,
             check_loading: bool = True) -> dict:  # fmt: skip
    """Validates the staged folder; returns what was checked.

    Checks: every file the card names exists; the hub's metadata against its documented
    fields and the target; with `check_loading`, the staged SavedModel (and its
    LaBSE-format pair and TFLite variants) loads in a fresh process through
    hub.KerasLayer, hub.load, tf.saved_model.load and keras.layers.TFSMLayer and gives the
    export's embeddings.

    Raises:
      PublishError: the first failed check, named.
    """
    with open(os.path.join(stage, staging.CARD), encoding="utf-8") as f:
        card = f.read()
    missing = sorted(n for n in named_files(card) if not os.path.exists(os.path.join(stage, n)))
    if missing:
        raise PublishError(f"{stage}/{staging.CARD} names files the folder lacks: "
                           f"{', '.join(missing)}")  # fmt: skip
    try:
        if target.hub == targets.HF:
            hub_metadata.check_front_matter(hub_metadata.parse_front_matter(card))
        else:
            files = [_read_json(os.path.join(stage, n)) for n in hub_metadata.KAGGLE_FILES]
            hub_metadata.check_kaggle(*files, target)
    except hub_metadata.MetadataError as e:
        raise PublishError(f"{stage}: {e}") from None
    report = {"card_files": sorted(named_files(card))}
    if check_loading:
        report["loaders"] = _check_loading(stage, export_dir, metadata)
    return report


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _check_loading(stage: str, export_dir: str, metadata: dict) -> dict[str, float]:
    """The staged folder in a fresh process against the export's embeddings here."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  the export's tokenizer ops

    from lealla.models.export import exporter, load_check

    texts = exporter.probe_sentences()
    expected = tf.saved_model.load(export_dir)(tf.constant(texts)).numpy()
    tolerance = (metadata.get("verification") or {}).get("tolerance", 1e-5)
    try:
        return load_check.check_in_subprocess(
            stage, texts, expected, tolerance, labse_format=bool(metadata.get("labse_format"))
        )
    except load_check.LoadCheckError as e:
        raise PublishError(f"the staged folder does not load as exported: {e}") from None
