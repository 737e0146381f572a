"""A damaged manifest is named with the key at fault, never a TypeError (lealla/files/json_shape.py)."""

import json

import pytest

from lealla.embeddings import embedding_shards
from lealla.files import json_shape
from lealla.mining.embedding_blocks import EmbeddingSet

SHAPE = {"name": str, "rows": [{"count": int, "score?": (int, float)}], "done?": bool}


@pytest.mark.parametrize(
    "value, message",
    [
        ([], r"f.json: the file must be an object, got list"),
        ({"rows": []}, r"f.json: the file has no 'name'"),
        ({"name": "a", "rows": 5}, r'f.json: "rows" must be a list, got int'),
        ({"name": "a", "rows": [{"count": "3"}]}, r'"rows\[0\].count" must be an integer, got str'),
        (
            {"name": "a", "rows": [{"count": True}]},
            r'"rows\[0\].count" must be an integer, got true',
        ),
        (
            {"name": "a", "rows": [{"count": 1, "score": "x"}]},
            r'"rows\[0\].score" must be a number',
        ),
        ({"name": "a", "rows": [], "done": 1}, r'"done" must be true or false, got int'),
    ],
)
def test_each_kind_of_damage_is_named(value, message):
    with pytest.raises(ValueError, match=message + r".*; fix it"):
        json_shape.check("f.json", value, SHAPE, advice="; fix it")


def test_a_good_value_passes():
    json_shape.check("f.json", {"name": "a", "rows": [{"count": 1, "score": 0.5}], "x": 1}, SHAPE)


def test_an_embeddings_manifest_with_shards_5_is_named(tmp_path):
    folder = tmp_path / "emb"
    folder.mkdir()
    manifest = {"format": embedding_shards.FORMAT, "schema_version": 1, "complete": True,
                "identity": {"encoder": "e", "embedding_dim": 4, "dtype": "float32",
                             "inputs": []}, "shards": 5}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r'emb/manifest.json: "shards" must be a list, got int'):
        EmbeddingSet.open(str(folder), 10)
    manifest["shards"] = [{"file": "a.npy"}]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"manifest.json: \"shards\[0\]\" has no 'index'"):
        embedding_shards.read_manifest(str(folder))


def test_a_teacher_cache_manifest_with_a_bad_type_is_named(tmp_path):
    from lealla.models.teachers import embedding_cache

    folder = tmp_path / "cache"
    folder.mkdir()
    manifest = {"identity": {"teacher": "t", "embedding_dim": "768", "dtype": "float16",
                             "corpus": []}, "shards": []}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r'cache/manifest.json: "identity.embedding_dim" must be'):
        embedding_cache.read_manifest(str(folder))
