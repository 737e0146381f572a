"""Inputs are fingerprinted by their whole content: an edit in the middle of a file, at
the same byte length, is seen by `lealla cache`, `lealla embed` and `lealla mine`."""

import hashlib

import numpy as np
import pytest

from lealla.data import corpus
from lealla.embeddings import embedding_shards
from lealla.files import fileio
from lealla.mining.embedding_blocks import EmbeddingSet, EmbeddingsTextMismatchError

DIM = 8
CONFIG = embedding_shards.EmbedConfig(shard_size=2, batch_size=4, dtype="float32")
# A middle line longer than 2 MiB: a fingerprint of the first and last MiB misses its edit.
LONG = "Wort " * 460_000


class HashEncoder:
    """Each text's unit vector from its sha256 (no model)."""

    name, dim = "hash", DIM

    def encode(self, texts, batch_size=64, progress=False):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:DIM], np.uint8) for t in texts]
        vectors = np.asarray(rows, np.float32).reshape(-1, DIM) + 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _big_file(write, name):
    return write(name, f"Erster Satz.\n{LONG.strip()}\nLetzter Satz.\n")


def _edit_the_middle(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    middle = data.index(b"Wort", len(data) // 2)
    data[middle : middle + 4] = b"Wert"  # same length, neither in the first nor last MiB
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def test_the_fingerprint_is_the_whole_files_sha256(write):
    path = _big_file(write, "big.de")
    size, before = fileio.sha256(path)
    assert size > 2 << 20
    assert _edit_the_middle(path) == size
    with open(path, "rb") as f:
        assert fileio.sha256(path) == (size, hashlib.sha256(f.read()).hexdigest())
    assert fileio.sha256(path)[1] != before


def _embed(path, out, **kwargs):
    return embedding_shards.embed_files("hash", DIM, HashEncoder, [path], out, CONFIG, **kwargs)


def test_embed_refuses_to_call_a_changed_input_complete(write, tmp_path):
    path = _big_file(write, "big.de")
    out = str(tmp_path / "emb")
    assert _embed(path, out)["complete"]
    _edit_the_middle(path)
    with pytest.raises(embedding_shards.EmbeddingsMismatchError, match="inputs"):
        _embed(path, out)
    # Mine's own work folder redoes the embedding instead (replace_mismatch).
    manifest = _embed(path, out, replace_mismatch=True)
    assert manifest["complete"]
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    np.testing.assert_allclose(
        np.concatenate([s.embeddings for s in embedding_shards.iter_shards(out)]),
        HashEncoder().encode(lines), atol=1e-6,
    )  # fmt: skip


def test_mine_refuses_embeddings_of_a_text_edited_since(write, tmp_path):
    path = _big_file(write, "big.en")
    out = str(tmp_path / "emb")
    _embed(path, out)
    side = EmbeddingSet.open(out, 2)
    side.check_text()
    _edit_the_middle(path)
    with pytest.raises(EmbeddingsTextMismatchError, match=r"big.en changed since it was embedded"):
        side.check_text()


def test_cache_refuses_a_corpus_edited_since(hub_modules, write, tmp_path):
    from lealla.models.teachers import embedding_cache, loading

    teacher = loading.load_teacher(hub_modules["string"])
    path = _big_file(write, "de.txt")
    sources = corpus.resolve_sources([path])
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=2)
    assert embedding_cache.build_cache(teacher, sources, out, config)["complete"]
    _edit_the_middle(path)
    with pytest.raises(embedding_cache.CacheMismatchError, match="corpus: .*contents changed"):
        embedding_cache.build_cache(teacher, sources, out, config)
    with pytest.raises(ValueError, match="corpus"):
        embedding_cache.check_corpus([out], sources)
