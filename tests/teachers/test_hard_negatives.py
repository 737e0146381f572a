import numpy as np
import pytest
import tensorflow as tf

from lealla import pipeline
from teachers import embedding_cache, hard_negatives, loading

ONE_PASS = pipeline.InputConfig(repeat=False, shuffle_buffer=0)


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _exact(e, k, max_similarity, n):
    sims = e[:n] @ e[:n].T
    out = np.full((n, k), -1)
    for i in range(n):
        order = [j for j in np.argsort(-sims[i], kind="stable") if j != i]
        found = [j for j in order if sims[i, j] < max_similarity][:k]
        out[i, : len(found)] = found
    return out


def test_mine_finds_the_nearest_others_and_leaves_out_near_duplicates():
    rng = np.random.default_rng(0)
    e = _unit(rng.normal(size=(40, 8)))
    e[7] = _unit(e[3] + 0.01 * rng.normal(size=8))  # a near-duplicate of row 3
    ids = hard_negatives.mine(e, 3, max_similarity=0.95, num_queries=30)
    assert ids.shape == (30, 3)
    np.testing.assert_array_equal(ids, _exact(e, 3, 0.95, 30))
    assert 7 not in ids[3] and 3 not in ids[7]  # duplicates are not negatives
    assert (ids < 30).all()  # rows past num_queries (augmented variants) are never picked
    assert not (ids == np.arange(30)[:, None]).any()


def test_mine_fills_with_minus_one_and_checks_arguments():
    e = _unit(np.eye(3, 4) + 0.0)
    np.testing.assert_array_equal(
        hard_negatives.mine(e, 4, max_similarity=1.0),
        [[1, 2, -1, -1], [0, 2, -1, -1], [0, 1, -1, -1]],
    )
    assert (hard_negatives.mine(e[:1], 2, max_similarity=0.9) == -1).all()
    with pytest.raises(ValueError, match="max_similarity"):
        hard_negatives.mine(e, 1, max_similarity=0.0)
    with pytest.raises(ValueError, match="k must be"):
        hard_negatives.mine(e, 0, max_similarity=0.5)
    g = hard_negatives.gather(e, np.array([[2, -1]]))
    np.testing.assert_array_equal(g, [[e[2], np.zeros(4)]])


def test_large_shards_are_searched_with_scann():
    rng = np.random.default_rng(1)
    n = hard_negatives.EXACT_BELOW + 500
    centers = rng.normal(size=(60, 16))
    e = _unit(centers[rng.integers(0, 60, n)] + 0.6 * rng.normal(size=(n, 16)))
    got = hard_negatives.mine(e, 2, max_similarity=0.99)
    expected = _exact(e, 2, 0.99, n)
    assert np.mean(got[:, 0] == expected[:, 0]) > 0.9  # approximate, but close


@pytest.fixture(scope="module")
def string_teacher(hub_modules):
    return loading.load_teacher(hub_modules["string"])


def test_cache_stores_the_teacher_embeddings_of_each_examples_neighbours(
    string_teacher, write, tmp_path
):
    from lealla import corpus, demo_corpus

    de, en = demo_corpus.read_split("dev", "de")[:12], demo_corpus.read_split("dev", "en")[:12]
    tsv = write("de-en.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)))
    sources = corpus.resolve_sources([tsv])
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(
        shard_size=6, dtype="float32", hard_negatives=2, hard_negative_max_similarity=0.99,
        augment=("prefix",),
    )  # fmt: skip
    manifest = embedding_cache.build_cache(string_teacher, sources, out, config)
    assert manifest["identity"]["hard_negatives"] == 2
    rows = list(embedding_cache.cached_dataset(out, ONE_PASS))
    by_text = {r["src"].numpy().decode(): r for r in rows}
    teacher = {t: string_teacher.embed(tf.constant([t]))[0].numpy() for t in de}
    for half in (de[:6], de[6:]):  # one shard each: neighbours come from the same shard
        e = np.stack([teacher[t] for t in half])
        ids = _exact(e, 2, 0.99, 6)
        for i, text in enumerate(half):
            np.testing.assert_allclose(by_text[text]["hard_emb"], e[ids[i]], atol=1e-6)
    variants = [r for r in rows if not r["tgt_lang"].numpy()]
    assert variants and all(not r["hard_emb"].numpy().any() for r in variants)
    # A cache without hard negatives is another identity, and has no such feature.
    plain = str(tmp_path / "plain")
    embedding_cache.build_cache(string_teacher, sources, plain, embedding_cache.CacheConfig())
    assert "hard_emb" not in next(iter(embedding_cache.cached_dataset(plain, ONE_PASS)))
    with pytest.raises(embedding_cache.CacheMismatchError):
        embedding_cache.build_cache(string_teacher, sources, plain, config)
    with pytest.raises(ValueError, match="hard_negatives must be"):
        embedding_cache.CacheConfig(hard_negatives=-1)
