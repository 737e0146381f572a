"""Metadata that travels with a model holds no local path (lealla/records/module_metadata.py)."""

import json
import os

import pytest

from lealla.records import module_metadata


def test_local_paths_are_cut_to_their_names_and_handles_kept():
    values = {
        "teacher": "/home/alice/models/labse",
        "hub": "https://tfhub.dev/google/LaBSE/2",
        "registry": "use-multilingual",
        "training": {
            "train_data": ["/home/alice/data/chat.ko.txt@0.05", "/srv/*.tsv", "demo:train",
                           "../../alice/dev.tsv", "~/corpus/de.txt", "gs://bucket/de.txt"],
            "teacher_cache": ["/tmp/x/cache/"],
            "steps": 40,
        },
        "vocab_file": "assets/vocab.txt",
    }  # fmt: skip
    public = module_metadata.without_local_paths(values)
    assert public["teacher"] == "labse" and public["hub"] == values["hub"]
    assert public["registry"] == "use-multilingual" and public["vocab_file"] == "assets/vocab.txt"
    assert public["training"] == {
        "train_data": ["chat.ko.txt@0.05", "*.tsv", "demo:train", "dev.tsv", "de.txt",
                       "gs://bucket/de.txt"],
        "teacher_cache": ["cache"], "steps": 40,
    }  # fmt: skip


def test_a_recorded_command_line_keeps_its_flags_without_local_paths():
    command = (
        "lealla distill --model_dir=/home/alice/runs/ko --train_data=/data/a.tsv,demo:train "
        "--teacher=labse --steps=40"
    )
    assert module_metadata.without_local_paths({"command": command}) == {
        "command": "lealla distill --model_dir=ko --train_data=a.tsv,demo:train --teacher=labse "
        "--steps=40"
    }


def test_the_written_file_holds_none(tmp_path):
    path = str(tmp_path / module_metadata.EXPORT_FILE)
    module_metadata.write(path, {"format": "string", "data": [str(tmp_path / "de-en.tsv")]})
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert str(tmp_path) not in text and json.loads(text)["data"] == ["de-en.tsv"]
    assert module_metadata.read(os.path.dirname(path)).format == "string"


def test_a_metadata_file_of_the_wrong_types_is_named(tmp_path):
    path = tmp_path / module_metadata.EXPORT_FILE
    path.write_text('{"format": "string", "embedding_dim": "768"}')
    with pytest.raises(ValueError, match=r'lealla_export.json: "embedding_dim" must be an integer'):
        module_metadata.read(str(tmp_path))
