import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import corpus, demo_corpus, pipeline, sampling
from lealla.files import textio
from lealla.models.teachers import embedding_cache, loading

ONE_PASS = pipeline.InputConfig(repeat=False, shuffle_buffer=0)


@pytest.fixture(scope="module")
def string_teacher(hub_modules):
    return loading.load_teacher(hub_modules["string"])


@pytest.fixture
def sources(write):
    de = demo_corpus.read_split("dev", "de")[:23]
    en = demo_corpus.read_split("dev", "en")[:23]
    tsv = write("de-en.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)))
    mono = write("fr.txt", "".join(f"{t}\n" for t in demo_corpus.read_split("dev", "fr")[:7]))
    return corpus.resolve_sources([tsv, mono])


def _rows(cache_dir):
    return list(embedding_cache.cached_dataset(cache_dir, ONE_PASS))


def test_round_trip_float32(string_teacher, sources, tmp_path):
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=10, batch_size=4, dtype="float32")
    manifest = embedding_cache.build_cache(string_teacher, sources, out, config)
    assert manifest["complete"] and manifest["num_examples"] == 30
    assert sorted(s["file"] for s in manifest["shards"]) == [
        "000-00000.tfrecord", "000-00001.tfrecord", "000-00002.tfrecord", "001-00000.tfrecord"
    ]  # fmt: skip
    rows = _rows(out)
    assert len(rows) == 30
    texts = [r["src"].numpy().decode() for r in rows]
    expected = string_teacher.embed(tf.constant(texts)).numpy()
    np.testing.assert_allclose(np.stack([r["src_emb"] for r in rows]), expected, atol=1e-6)
    for r in rows:
        if r["tgt_lang"].numpy() == b"en":
            np.testing.assert_allclose(
                r["tgt_emb"], string_teacher.embed(r["tgt"][None])[0], atol=1e-6
            )
        else:
            assert r["src_lang"].numpy() == b"fr" and not r["tgt_emb"].numpy().any()


def test_float16_is_close(string_teacher, sources, tmp_path):
    out = str(tmp_path / "cache")
    embedding_cache.build_cache(
        string_teacher, sources, out, embedding_cache.CacheConfig(shard_size=50)
    )
    row = _rows(out)[0]
    np.testing.assert_allclose(row["src_emb"], string_teacher.embed(row["src"][None])[0], atol=2e-3)


def test_mixing_reads_all_groups(string_teacher, sources, tmp_path):
    out = str(tmp_path / "cache")
    embedding_cache.build_cache(
        string_teacher, sources, out, embedding_cache.CacheConfig(shard_size=8)
    )
    config = pipeline.InputConfig(temperature=1e6, seed=1, shuffle_buffer=10)  # ~uniform groups
    langs = [r["src_lang"].numpy() for r in embedding_cache.cached_dataset(out, config).take(400)]
    assert 0.4 < langs.count(b"fr") / 400 < 0.6


def test_mismatched_cache_is_refused(string_teacher, hub_modules, sources, tmp_path, write):
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=10)
    embedding_cache.build_cache(string_teacher, sources, out, config)
    other = loading.load_teacher(hub_modules["labse_v1"])
    with pytest.raises(
        embedding_cache.CacheMismatchError,
        match=r"teacher: cache has '.*string', asked '.*labse_v1'",
    ):
        embedding_cache.build_cache(other, sources, out, config)
    with pytest.raises(
        embedding_cache.CacheMismatchError, match="dtype: cache has 'float16', asked 'float32'"
    ):
        embedding_cache.build_cache(
            string_teacher,
            sources,
            out,
            embedding_cache.CacheConfig(shard_size=10, dtype="float32"),
        )
    with open(sources[1].paths[0], "a", encoding="utf-8") as f:
        f.write("Une phrase de plus.\n")
    with pytest.raises(
        embedding_cache.CacheMismatchError,
        match="corpus: the files' names, sizes or contents changed",
    ):
        embedding_cache.build_cache(string_teacher, sources, out, config)
    with pytest.raises(embedding_cache.CacheMismatchError, match="holds embeddings of"):
        embedding_cache.cached_dataset(out, ONE_PASS, expected_teacher="labse")
    embedding_cache.build_cache(string_teacher, sources, out, config, overwrite=True)
    assert len(_rows(out)) == 31


def test_resume_after_kill_recomputes_only_unfinished_shards(
    string_teacher, sources, tmp_path, monkeypatch
):
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=10, batch_size=5)
    real = embedding_cache.embed_all
    embedded = []

    def dying(embed, texts, batch_size):
        if len(embedded) >= 2:  # shard 0 (src + tgt) done; die on shard 1
            raise KeyboardInterrupt("killed")
        embedded.append(len(texts))
        return real(embed, texts, batch_size)

    monkeypatch.setattr(embedding_cache.writer, "embed_all", dying)
    os.makedirs(out)
    with open(os.path.join(out, "000-00004.tfrecord.tmp"), "wb") as f:
        f.write(b"partial")  # a leftover of an earlier kill
    with pytest.raises(KeyboardInterrupt):
        embedding_cache.build_cache(string_teacher, sources, out, config)
    manifest = embedding_cache.read_manifest(out)
    assert not manifest["complete"]
    # Shard 0 and its record are published; the killed shard left nothing, and the
    # earlier leftover is gone.
    assert sorted(os.listdir(out)) == ["000-00000.json", "000-00000.tfrecord", "manifest.json"]
    with pytest.raises(ValueError, match="is unfinished"):
        embedding_cache.cached_dataset(out, ONE_PASS)

    counted = []

    def counting(embed, texts, batch_size):
        counted.extend(texts)
        return real(embed, texts, batch_size)

    monkeypatch.setattr(embedding_cache.writer, "embed_all", counting)
    embedding_cache.build_cache(string_teacher, sources, out, config)
    # Resumed: shard 0's 10 pairs are not embedded again; 13 pairs + 7 monolingual are.
    assert len(counted) == 13 * 2 + 7
    assert sorted(os.listdir(out)) == sorted(
        ["manifest.json", "000-00000.tfrecord", "000-00001.tfrecord", "000-00002.tfrecord", "001-00000.tfrecord"]
    )  # fmt: skip
    fresh = str(tmp_path / "fresh")
    embedding_cache.build_cache(string_teacher, sources, fresh, config)
    resumed, clean = _rows(out), _rows(fresh)
    assert [r["src"].numpy() for r in resumed] == [r["src"].numpy() for r in clean]
    np.testing.assert_array_equal(
        np.stack([r["src_emb"] for r in resumed]), np.stack([r["src_emb"] for r in clean])
    )


def test_bad_corpus_fails_before_embedding(string_teacher, write, tmp_path):
    bad = corpus.resolve_sources(write("de-en.tsv", "a\tb\nonly one\n"))
    with pytest.raises(textio.CorpusError, match=r"de-en.tsv:2: expected 2 tab-separated fields"):
        embedding_cache.build_cache(string_teacher, bad, str(tmp_path / "c"))
    assert not (tmp_path / "c").exists()


def test_cache_command(hub_modules, sources, tmp_path):
    out = str(tmp_path / "cache")
    corpus_flag = ",".join(p for s in sources for p in s.paths)
    cmd = [sys.executable, "-m", "lealla.cli.main", "cache", f"--teacher={hub_modules['string']}",
           f"--corpus={corpus_flag}", f"--out={out}", "--shard_size=16", "--runner=inprocess"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "30 examples in 3 shard(s)" in result.stdout
    with open(os.path.join(out, "manifest.json")) as f:
        assert json.load(f)["identity"]["embedding_dim"] == 16


def test_damaged_shard_is_named_then_rebuilt(string_teacher, sources, tmp_path):
    # Silently wrong before: a truncated shard of a finished cache was reported complete.
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=10)
    manifest = embedding_cache.build_cache(string_teacher, sources, out, config)
    assert all(s["bytes"] > 0 and len(s["sha256"]) == 64 for s in manifest["shards"])
    clean = [r["src"].numpy() for r in _rows(out)]
    shard = os.path.join(out, "000-00001.tfrecord")
    with open(shard, "r+b") as f:
        f.truncate(os.path.getsize(shard) - 7)
    with pytest.raises(embedding_cache.CacheMismatchError, match=r"shard\(s\) 000-00001.tfrecord"):
        embedding_cache.cached_dataset(out, ONE_PASS)
    rebuilt = embedding_cache.build_cache(string_teacher, sources, out, config)
    assert rebuilt["complete"] and rebuilt["num_examples"] == 30
    assert [r["src"].numpy() for r in _rows(out)] == clean
    # Same size, altered bytes: caught by the checksum on resume.
    with open(shard, "r+b") as f:
        f.seek(20)
        f.write(b"\x00\x01\x02")
    embedding_cache.build_cache(string_teacher, sources, out, config)
    assert [r["src"].numpy() for r in _rows(out)] == clean


def test_skipped_lines_are_recorded(string_teacher, write, tmp_path):
    bad = corpus.resolve_sources(write("de-en.tsv", "a\tb\nonly one\n\nc\td\n"))
    config = embedding_cache.CacheConfig(on_bad_line="skip")
    manifest = embedding_cache.build_cache(string_teacher, bad, str(tmp_path / "c"), config)
    assert manifest["num_examples"] == 2
    assert sum(manifest["skipped_lines"].values()) == 2, manifest["skipped_lines"]
    assert embedding_cache.read_manifest(str(tmp_path / "c"))["skipped_lines"]


def test_iter_cache_reads_every_example_once(string_teacher, sources, tmp_path):
    out = str(tmp_path / "cache")
    embedding_cache.build_cache(
        string_teacher, sources, out, embedding_cache.CacheConfig(shard_size=8)
    )
    rows = list(embedding_cache.iter_cache(out))
    assert len(rows) == 30 and sum(1 for r in rows if r["tgt_lang"]) == 23
    assert isinstance(rows[0]["src"], str) and rows[0]["src_emb"].shape == (16,)


def test_cache_identity_includes_the_teachers_packed_length(hub_modules, sources, tmp_path):
    # Silently wrong before: a cache built at --teacher_seq_length=64 resumed into one at 128.
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=50)
    short = loading.load_teacher(hub_modules["labse_v1"], seq_length=64)
    embedding_cache.build_cache(short, sources, out, config)
    with pytest.raises(
        embedding_cache.CacheMismatchError, match="teacher_seq_length: cache has 64, asked 128"
    ):
        embedding_cache.build_cache(
            loading.load_teacher(hub_modules["labse_v1"]), sources, out, config
        )


def test_caches_compose_into_one_corpus(string_teacher, sources, tmp_path):
    # Text added to a corpus needs a cache of only that text.
    base, added = str(tmp_path / "base"), str(tmp_path / "added")
    config = embedding_cache.CacheConfig(shard_size=10, dtype="float32")
    embedding_cache.build_cache(string_teacher, sources[:1], base, config)
    embedding_cache.build_cache(string_teacher, sources[1:], added, config)
    both = list(embedding_cache.cached_dataset([base, added], ONE_PASS))
    assert len(both) == 30 and sum(r["src_lang"].numpy() == b"fr" for r in both) == 7
    texts = [r["src"].numpy().decode() for r in both]
    np.testing.assert_allclose(
        np.stack([r["src_emb"] for r in both]),
        string_teacher.embed(tf.constant(texts)).numpy(), atol=1e-6,
    )  # fmt: skip
    embedding_cache.check_corpus([base, added], sources)
    with pytest.raises(
        embedding_cache.CacheMismatchError, match=r"the cache at .*base was built from \[de-en"
    ):
        embedding_cache.check_corpus([base], sources)
    with pytest.raises(
        embedding_cache.CacheMismatchError, match=r"the caches at .*base, .*added, .*added were"
    ):
        embedding_cache.check_corpus([base, added, added], sources)  # the French file twice
    other = str(tmp_path / "float16")
    embedding_cache.build_cache(string_teacher, sources[1:], other, embedding_cache.CacheConfig())
    with pytest.raises(
        embedding_cache.CacheMismatchError,
        match=r"caches at .*base and .*float16 cannot be read together: dtype 'float32' vs 'float16'",
    ):
        embedding_cache.cached_dataset([base, other], ONE_PASS)


def test_a_cached_source_given_a_share_is_drawn_for_that_share(string_teacher, write, tmp_path):
    # The shares are a training choice: the cache of the plain files serves any of them.
    de = demo_corpus.read_split("train", "de")[:40]
    en = demo_corpus.read_split("train", "en")[:40]
    tsv = write("de-en.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)))
    fr = write("fr.txt", "".join(f"{t}\n" for t in demo_corpus.read_split("train", "fr")[:40]))
    ko = write("chat.ko.txt", "".join(f"{t}\n" for t in demo_corpus.read_split("dev", "ko")[:4]))
    base, added = str(tmp_path / "base"), str(tmp_path / "added")
    config = embedding_cache.CacheConfig(shard_size=16, dtype="float32")
    embedding_cache.build_cache(string_teacher, corpus.resolve_sources([tsv, fr]), base, config)
    augmented = embedding_cache.build_cache(
        string_teacher, corpus.resolve_sources(ko), added,
        embedding_cache.CacheConfig(dtype="float32", augment=("punct",)),
    )  # fmt: skip
    assert augmented["num_examples"] > 4
    sources = corpus.resolve_sources([tsv, fr, f"{ko}@0.3"])
    embedding_cache.check_corpus([base, added], sources)
    mix = pipeline.InputConfig(mono_share=0.5, shuffle_buffer=20, seed=5)
    rows = list(
        embedding_cache.cached_dataset([base, added], mix, sources=sources)
        .take(3000).as_numpy_iterator()
    )  # fmt: skip
    ko_rows = [r for r in rows if r["src_lang"] == b"ko"]
    assert 0.26 < len(ko_rows) / 3000 < 0.34  # under 10% by size
    assert 0.31 < sum(r["src_lang"] == b"fr" for r in rows) / 3000 < 0.39  # 0.5 x 0.7
    # The share's group holds the file's augmented variants too; embeddings are its own.
    assert len({r["src"] for r in ko_rows}) == augmented["num_examples"]
    row = ko_rows[0]
    np.testing.assert_allclose(
        row["src_emb"], string_teacher.embed(tf.constant([row["src"]]))[0], atol=1e-6
    )
    # Without the shares, the same caches mix by language as before.
    unshared = [*sources[:2], dataclasses.replace(sources[2], share=None, share_group="")]
    plain = embedding_cache.cached_dataset([base, added], mix, sources=unshared)
    ko_plain = sum(r["src_lang"] == b"ko" for r in plain.take(3000).as_numpy_iterator())
    by_language = sampling.mixture_weights(
        {"de-en": 40, "fr": 40, "ko": augmented["num_examples"]}, mix.temperature,
        monolingual={"fr", "ko"}, mono_share=0.5,
    )  # fmt: skip
    assert abs(ko_plain / 3000 - by_language["ko"]) < 0.04


def test_paired_monolingual_rows_carry_both_teacher_targets(string_teacher, sources, tmp_path):
    out = str(tmp_path / "cache")
    embedding_cache.build_cache(
        string_teacher, sources, out, embedding_cache.CacheConfig(shard_size=8, dtype="float32")
    )
    config = pipeline.InputConfig(seed=1, shuffle_buffer=10, mono_share=0.5, pair_monolingual=True)
    rows = list(embedding_cache.cached_dataset(out, config).take(60))
    mono = [r for r in rows if r["tgt_lang"].numpy() == b""]
    assert 15 < len(mono) < 45
    for r in mono:
        assert r["src_lang"].numpy() == b"fr" and r["tgt"].numpy() != b""
        texts = tf.stack([r["src"], r["tgt"]])
        np.testing.assert_allclose(
            np.stack([r["src_emb"], r["tgt_emb"]]), string_teacher.embed(texts), atol=1e-6
        )
