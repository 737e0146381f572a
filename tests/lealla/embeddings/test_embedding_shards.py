import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lealla.api import encoders
from lealla.data import demo_corpus
from lealla.embeddings import embedding_shards
from lealla.embeddings.text_encoder import BatchEncoder, TextEncoder
from lealla.files import textio
from lealla.shards import shard_runner

CONFIG = embedding_shards.EmbedConfig(shard_size=10, batch_size=4, dtype="float32")


@pytest.fixture
def inputs(write):
    de = demo_corpus.read_split("dev", "de")[:23]
    fr = demo_corpus.read_split("dev", "fr")[:7]
    return [write("web.de", "".join(f"{t}\n" for t in de)), write("web.fr", "\n".join(fr))]


def _embed(spec, inputs, out, config=CONFIG, **kwargs):
    load = functools.partial(encoders.load_encoder, spec)
    encoder = load()
    return embedding_shards.embed_files(
        encoder.name, encoder.dim, load, inputs, out, config, **kwargs
    )


def test_shards_hold_every_line_with_its_offset(hub_modules, inputs, tmp_path):
    out = str(tmp_path / "emb")
    manifest = _embed(hub_modules["string"], inputs, out)
    assert manifest["complete"] and manifest["num_sentences"] == 30
    assert [s["file"] for s in manifest["shards"]] == [
        "000-00000.npy", "000-00001.npy", "000-00002.npy", "001-00000.npy"
    ]  # fmt: skip
    encoder = encoders.load_encoder(hub_modules["string"])
    assert isinstance(encoder, TextEncoder)  # the one protocol every adapter offers
    for shard in embedding_shards.iter_shards(out):
        with open(shard.input, "rb") as f:
            data = f.read()
        texts = []
        for line_no, offset in zip(shard.lines, shard.offsets, strict=True):
            text = data[offset:].split(b"\n", 1)[0].decode()
            assert text == data.split(b"\n")[line_no - 1].decode()
            texts.append(text)
        np.testing.assert_allclose(shard.embeddings, encoder.encode(texts), atol=1e-6)


def test_resume_and_identity(hub_modules, inputs, tmp_path, monkeypatch):
    out = str(tmp_path / "emb")
    calls = []
    real = BatchEncoder.encode  # one call per shard

    def dying(self, texts, batch_size=64, progress=False):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        calls.append(len(texts))
        return real(self, texts, batch_size, progress)

    monkeypatch.setattr(BatchEncoder, "encode", dying)
    with pytest.raises(KeyboardInterrupt):
        _embed(hub_modules["string"], inputs, out)
    assert sorted(n for n in os.listdir(out) if n.endswith(".json")) == [
        "000-00000.json", "000-00001.json", "manifest.json"
    ]  # fmt: skip
    monkeypatch.setattr(BatchEncoder, "encode", real)
    with pytest.raises(ValueError, match="unfinished"):
        list(embedding_shards.iter_shards(out))
    _embed(hub_modules["string"], inputs, out)
    fresh = str(tmp_path / "fresh")
    _embed(hub_modules["string"], inputs, fresh)
    for a, b in zip(embedding_shards.iter_shards(out), embedding_shards.iter_shards(fresh),
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(a.embeddings, b.embeddings)
        np.testing.assert_array_equal(a.offsets, b.offsets)
    with pytest.raises(embedding_shards.EmbeddingsMismatchError, match=r"dtype differ"):
        _embed(hub_modules["string"], inputs, out, embedding_shards.EmbedConfig(shard_size=10))


def test_bad_lines(hub_modules, write, tmp_path):
    path = write("web.de", "gut\n\nauch gut\n")
    with pytest.raises(textio.CorpusError, match=r"web.de:2: empty line"):
        _embed(hub_modules["string"], [path], str(tmp_path / "a"))
    skip = embedding_shards.EmbedConfig(on_bad_line="skip")
    manifest = _embed(hub_modules["string"], [path], str(tmp_path / "b"), skip)
    assert manifest["num_sentences"] == 2 and manifest["skipped_lines"] == {"empty line": 1}
    (shard,) = embedding_shards.iter_shards(str(tmp_path / "b"))
    assert shard.lines.tolist() == [1, 3] and shard.embeddings.dtype == np.float16


def test_embed_command(hub_modules, inputs, tmp_path):
    out = str(tmp_path / "emb")
    cmd = [sys.executable, "-m", "lealla.cli.main", "embed", f"--encoder={hub_modules['string']}",
           f"--input={','.join(inputs)}", f"--out={out}", "--shard_size=16",
           "--runner=inprocess"]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "30 sentences of 2 file(s) in 3 shard(s), 16 dims float16" in result.stdout
    with open(os.path.join(out, "manifest.json")) as f:
        assert json.load(f)["identity"]["embedding_dim"] == 16
    bad = subprocess.run([*cmd[:-1], "--runner=local", "--project=p"], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 2 and "the local runner takes none" in bad.stderr


@pytest.mark.large
def test_local_runner_writes_the_inprocess_files(hub_modules, inputs, tmp_path):
    inprocess = str(tmp_path / "a")
    local = str(tmp_path / "b")
    _embed(hub_modules["string"], inputs, inprocess)
    _embed(hub_modules["string"], inputs, local,
           runner=shard_runner.RunnerConfig("local", num_workers=2))  # fmt: skip
    names = sorted(os.listdir(inprocess))
    assert names == sorted(os.listdir(local))
    for name in names:
        with (
            open(os.path.join(inprocess, name), "rb") as f,
            open(os.path.join(local, name), "rb") as g,
        ):
            assert f.read() == g.read(), name


@pytest.mark.parametrize(("dtype", "ratio", "min_cosine"), [("int8", 4, 0.99), ("binary", 32, 0.5)])
def test_quantized_storage_is_decoded_by_every_reader(hub_modules, inputs, tmp_path, dtype,
                                                      ratio, min_cosine):  # fmt: skip
    from lealla.mining.embedding_blocks import EmbeddingSet

    full = list(embedding_shards.iter_shards(_embed_out(hub_modules, inputs, tmp_path, "float32")))
    out = str(tmp_path / dtype)
    config = embedding_shards.EmbedConfig(shard_size=10, batch_size=4, dtype=dtype)
    manifest = _embed(hub_modules["string"], inputs, out, config)
    dim = manifest["identity"]["embedding_dim"]
    storage = manifest["storage"]
    assert storage["float32_bytes"] == 4 * 30 * dim
    payload = sum(os.path.getsize(os.path.join(out, s["file"])) - 128 for s in manifest["shards"])
    assert payload == pytest.approx(storage["float32_bytes"] / ratio, rel=0.15)
    assert 0.0 <= storage["recall_at_10"] <= 1.0
    assert all("recall_at_10" in s for s in manifest["shards"])
    if dtype == "int8":
        assert all(os.path.isfile(os.path.join(out, s["scales"])) for s in manifest["shards"])
    shards = list(embedding_shards.iter_shards(out))
    for a, b in zip(shards, full, strict=True):
        assert a.embeddings.dtype == np.float32 and a.embeddings.shape == b.embeddings.shape
        np.testing.assert_allclose(np.linalg.norm(a.embeddings, axis=1), 1.0, rtol=1e-5)
        assert np.min(np.sum(a.embeddings * b.embeddings, axis=1)) > min_cosine
    block = EmbeddingSet.open(out, block_size=30).read_block(0)
    np.testing.assert_array_equal(block, np.concatenate([s.embeddings for s in shards]))


def _embed_out(hub_modules, inputs, tmp_path, dtype):
    out = str(tmp_path / f"reference_{dtype}")
    config = embedding_shards.EmbedConfig(shard_size=10, batch_size=4, dtype=dtype)
    _embed(hub_modules["string"], inputs, out, config)
    return out


def test_an_empty_input_is_refused_naming_it(write, tmp_path):
    empty = write("empty.de", "")
    with pytest.raises(textio.CorpusError, match=r"empty.de: empty file, nothing to embed"):
        embedding_shards.embed_files("any", 4, None, [empty], str(tmp_path / "emb"), CONFIG)
    assert not (tmp_path / "emb").exists()
