"""Each hub's metadata for a staged export, and its check against the hub's documented fields.

Kaggle Models: `model-metadata.json` (the model page; its `description` is the model
card) and `model-instance-metadata.json` (the variation), the files `kaggle models create
-p DIR` / `kaggle models instances create -p DIR` read (kaggle-api
docs/models_metadata.md lists their fields). Hugging Face: the README's YAML front matter
(huggingface_hub ModelCardData's keys; `model-index` as the Hub's eval-results format).
The front matter is written one key per line with JSON values, which YAML reads as they
are, so it is checked here without a YAML library.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lealla.models.export.publishing import licenses, targets

MODEL_METADATA = "model-metadata.json"
INSTANCE_METADATA = "model-instance-metadata.json"
KAGGLE_FILES = (MODEL_METADATA, INSTANCE_METADATA)
MODEL_FIELDS = frozenset({
    "ownerSlug", "title", "slug", "subtitle", "isPrivate", "description", "publishTime",
    "provenanceSources", "licenseName",
})  # fmt: skip
INSTANCE_FIELDS = frozenset({
    "ownerSlug", "modelSlug", "instanceSlug", "framework", "overview", "usage", "licenseName",
    "fineTunable", "trainingData", "modelInstanceType", "baseModelInstance",
    "externalBaseModelUrl",
})  # fmt: skip
INSTANCE_TYPES = ("Unspecified", "BaseModel", "KaggleVariant", "ExternalVariant")
# The export's strings-in module: a Hub pipeline tag and tags users search by.
HF_TAGS = ("sentence-similarity", "tensorflow", "tflite", "lealla")
PIPELINE_TAG = "sentence-similarity"
# Not a library the Hub knows: the Hub then shows no generated loading snippet (a Keras one
# would fail without tensorflow_text); the card's own snippet is the way to load it.
LIBRARY_NAME = "lealla"
FRONT_MATTER_KEYS = ("library_name", "license", "language", "tags", "pipeline_tag",
                     "base_model", "model-index")  # fmt: skip
REQUIRED_FRONT_MATTER = frozenset(FRONT_MATTER_KEYS) - {"base_model"}
# Teachers with a Hugging Face copy (`base_model` must be a Hub model id); others are
# named in the card only.
HF_BASE_MODELS = {"labse": "sentence-transformers/LaBSE", "https://tfhub.dev/google/LaBSE/2":
                  "sentence-transformers/LaBSE"}  # fmt: skip
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class MetadataError(ValueError):
    """Metadata a hub would refuse or misread, named by file and field."""


def kaggle_model(target: targets.Target, metadata: dict, card: str, license_name: str,
                 private: bool) -> dict[str, Any]:  # fmt: skip
    """`model-metadata.json`: the model page, the card as its description."""
    return {
        "ownerSlug": target.owner,
        "title": target.name,
        "slug": target.name,
        "subtitle": _subtitle(metadata),
        "isPrivate": bool(private),
        "description": card,
        "licenseName": license_name,
        "provenanceSources": _provenance(metadata),
    }


def kaggle_instance(target: targets.Target, metadata: dict, license_name: str) -> dict[str, Any]:
    """`model-instance-metadata.json`: the variation."""
    training = metadata.get("training") or {}
    return {
        "ownerSlug": target.owner,
        "modelSlug": target.name,
        "instanceSlug": target.variation,
        "framework": targets.KAGGLE_FRAMEWORK,
        "overview": _subtitle(metadata),
        "usage": "\n".join(
            [
                "```python",
                "import tensorflow as tf",
                "import tensorflow_hub as hub",
                "import tensorflow_text  # registers the tokenizer ops; import it before loading",
                "",
                'encoder = hub.KerasLayer("${PATH}")',
                'embeddings = encoder(tf.constant(["Hello world", "Hallo Welt"]))',
                "```",
            ]
        ),
        "licenseName": license_name,
        "fineTunable": True,
        "trainingData": [str(spec) for spec in training.get("train_data") or []],
        "modelInstanceType": "Unspecified",
        "baseModelInstance": "",
        "externalBaseModelUrl": "",
    }


def hf_front_matter(target: targets.Target, metadata: dict, license: str) -> dict[str, Any]:
    """The README front matter for the Hugging Face Hub."""
    values: dict[str, Any] = {
        "library_name": LIBRARY_NAME,
        "license": license,
        "language": list(metadata.get("languages") or []),
        "tags": list(HF_TAGS),
        "pipeline_tag": PIPELINE_TAG,
    }
    base = HF_BASE_MODELS.get(metadata.get("teacher") or "")
    if base:
        values["base_model"] = base
    values["model-index"] = [{"name": target.name, "results": _results(metadata)}]
    return values


def render_front_matter(values: dict[str, Any]) -> str:
    """`---`, one `key: JSON` line per key, `---`."""
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    return "\n".join(["---", *lines, "---", ""])


def parse_front_matter(text: str) -> dict[str, Any]:
    """The front matter of a README written by `render_front_matter`.

    Raises:
      MetadataError: no front matter, or a line that is not `key: JSON`.
    """
    lines = text.split("\n")
    if not lines or lines[0] != "---" or "---" not in lines[1:]:
        raise MetadataError("README.md: no front matter (a --- block at the top)")
    values = {}
    for number, line in enumerate(lines[1 : lines.index("---", 1)], start=2):
        key, sep, value = line.partition(": ")
        try:
            values[key] = json.loads(value) if sep else _fail()
        except (ValueError, TypeError):
            raise MetadataError(f"README.md:{number}: not `key: value` front matter") from None
    return values


def _fail():
    raise ValueError


def check_kaggle(model: dict, instance: dict, target: targets.Target) -> None:
    """Checks both Kaggle files against the documented fields and the target.

    Raises:
      MetadataError: an unknown or missing field, a wrong type, or a value that does not
        match the handle, named.
    """
    _check_fields(MODEL_METADATA, model, MODEL_FIELDS, {"ownerSlug", "title", "slug"})
    required = {"ownerSlug", "modelSlug", "instanceSlug", "framework", "licenseName"}
    _check_fields(INSTANCE_METADATA, instance, INSTANCE_FIELDS, required)
    expected = {
        (MODEL_METADATA, "ownerSlug"): target.owner, (MODEL_METADATA, "slug"): target.name,
        (INSTANCE_METADATA, "ownerSlug"): target.owner,
        (INSTANCE_METADATA, "modelSlug"): target.name,
        (INSTANCE_METADATA, "instanceSlug"): target.variation,
        (INSTANCE_METADATA, "framework"): targets.KAGGLE_FRAMEWORK,
    }  # fmt: skip
    files = {MODEL_METADATA: model, INSTANCE_METADATA: instance}
    for (name, field), value in expected.items():
        if files[name][field] != value:
            raise MetadataError(f"{name}: {field} is {files[name][field]!r}, the handle says "
                                f"{value!r}")  # fmt: skip
    for name, values in files.items():
        for field in ("isPrivate", "fineTunable"):
            if field in values and not isinstance(values[field], bool):
                raise MetadataError(f"{name}: {field} must be true or false")
        if "licenseName" in values and values["licenseName"] not in {
            *licenses.KAGGLE_NAMES.values(),
            *licenses.KAGGLE_ONLY,
        }:
            raise MetadataError(f"{name}: licenseName {values['licenseName']!r} is not a "
                                "licence Kaggle lists")  # fmt: skip
    if instance.get("modelInstanceType", "Unspecified") not in INSTANCE_TYPES:
        raise MetadataError(f"{INSTANCE_METADATA}: modelInstanceType must be one of "
                            f"{', '.join(INSTANCE_TYPES)}")  # fmt: skip
    if not isinstance(instance.get("trainingData", []), list):
        raise MetadataError(f"{INSTANCE_METADATA}: trainingData must be a list")


def check_front_matter(values: dict[str, Any]) -> None:
    """Checks the README front matter's keys and values.

    Raises:
      MetadataError: a missing or unknown key, or a value the Hub would not read, named.
    """
    missing = sorted(REQUIRED_FRONT_MATTER - set(values))
    unknown = sorted(set(values) - set(FRONT_MATTER_KEYS))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise MetadataError("README.md front matter: " + "; ".join(problems))
    if values["license"] not in licenses.HF_LICENSES:
        raise MetadataError(f"README.md front matter: license {values['license']!r} is not a "
                            "Hugging Face licence identifier")  # fmt: skip
    languages = values["language"]
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(lang, str) and _LANGUAGE.fullmatch(lang) for lang in languages)
    ):
        raise MetadataError("README.md front matter: language must be a non-empty list of "
                            "ISO 639 codes")  # fmt: skip
    if not set(HF_TAGS) <= set(values["tags"] or ()):
        raise MetadataError(f"README.md front matter: tags must hold {', '.join(HF_TAGS)}")
    if values["pipeline_tag"] != PIPELINE_TAG:
        raise MetadataError(f"README.md front matter: pipeline_tag must be {PIPELINE_TAG}")
    if "base_model" in values and values["base_model"] not in HF_BASE_MODELS.values():
        raise MetadataError("README.md front matter: base_model is not a Hub model id")
    _check_model_index(values["model-index"])


def _check_model_index(index) -> None:
    where = "README.md front matter: model-index"
    if not isinstance(index, list) or not index:
        raise MetadataError(f"{where} must be a non-empty list")
    for entry in index:
        if (
            not isinstance(entry, dict)
            or not entry.get("name")
            or not isinstance(entry.get("results"), list)
        ):
            raise MetadataError(f"{where}: each entry needs a name and a results list")
        for result in entry["results"]:
            task, dataset = result.get("task") or {}, result.get("dataset") or {}
            metrics = result.get("metrics")
            if not task.get("type") or not dataset.get("type") or not dataset.get("name"):
                raise MetadataError(f"{where}: a result needs task.type, dataset.type and "
                                    "dataset.name")  # fmt: skip
            if not metrics or not all(
                m.get("type") and isinstance(m.get("value"), int | float) for m in metrics
            ):
                raise MetadataError(f"{where}: a result needs metrics with a type and a "
                                    "numeric value")  # fmt: skip


def _check_fields(name: str, values: dict, allowed: frozenset, required: set) -> None:
    unknown = sorted(set(values) - allowed)
    missing = sorted(f for f in required if not values.get(f))
    if unknown:
        raise MetadataError(f"{name}: fields Kaggle does not document: {', '.join(unknown)}")
    if missing:
        raise MetadataError(f"{name}: missing {', '.join(missing)}")
    for field, value in values.items():
        if field not in ("isPrivate", "fineTunable", "trainingData") and not isinstance(value, str):
            raise MetadataError(f"{name}: {field} must be a string")


def _subtitle(metadata: dict) -> str:
    teacher = metadata.get("teacher")
    return (f"Language-agnostic sentence encoder, {metadata['embedding_dim']} dims"
            + (f", distilled from {teacher}" if teacher else ""))[:80]  # fmt: skip


def _provenance(metadata: dict) -> str:
    training = metadata.get("training") or {}
    return training.get("command") or "trained with the LEALLA toolkit (`lealla distill`)"


def _results(metadata: dict) -> list[dict]:
    """model-index results: bidirectional retrieval accuracy per pair, each split recorded."""
    results = []
    evaluation = metadata.get("evaluation") or {}
    for split in ("dev", "test"):
        scores = evaluation.get(split)
        if not scores:
            continue
        metrics = [{"type": "accuracy", "value": round(scores["accuracy"], 4),
                    "name": f"bidirectional retrieval accuracy, mean of {len(scores['per_pair'])} "
                            "pairs"}]  # fmt: skip
        metrics += [{"type": "accuracy", "value": round(value, 4), "name": f"{pair} retrieval"}
                    for pair, value in scores["per_pair"].items()]  # fmt: skip
        results.append({
            "task": {"type": "sentence-similarity", "name": "Bitext retrieval"},
            "dataset": {"type": "parallel-sentences", "name": ", ".join(scores["data"]),
                        "split": split},
            "metrics": metrics,
        })  # fmt: skip
    return results
