import random

import numpy as np
import pytest
import tensorflow as tf

from lealla.data import corpus, demo_corpus, pipeline
from lealla.models.teachers import augmentation, embedding_cache, loading

EXAMPLES = [
    corpus.Example("Der Zug nach Berlin fährt heute um acht Uhr ab.",
                   "The train to Berlin leaves at eight today.", "de", "en"),
    corpus.Example("我们明天早上在火车站见面吧。", "Let's meet at the station tomorrow morning.",
                   "zh", "en"),
    corpus.Example("Ein kurzer Satz.", "", "de", ""),
]  # fmt: skip


def test_variants_are_deterministic_monolingual_and_shorter_or_restyled():
    a = augmentation.augment(EXAMPLES, augmentation.KINDS, seed=3)
    assert a == augmentation.augment(EXAMPLES, augmentation.KINDS, seed=3)
    assert all(v.tgt == "" and v.tgt_lang == "" and v.src for v in a)
    originals = {t for e in EXAMPLES for t in (e.src, e.tgt) if t}
    assert not {v.src for v in a} & originals


def test_each_kind():
    rng = random.Random(0)
    text = "The quick brown fox jumps over the lazy dog again today."
    words = text.split()
    span = augmentation.span(text, "en", rng)
    assert 3 <= len(span.split()) <= 8 and span in text
    assert augmentation.prefix(text, "en", rng) in " ".join(words[:6])
    assert augmentation.case(text, "en", random.Random(1)) in (text.lower(), text.capitalize())
    assert not augmentation.punct(text, "en", rng).endswith(".")
    zh = augmentation.span(EXAMPLES[1].src, "zh", rng)
    assert zh in EXAMPLES[1].src and " " not in zh
    with pytest.raises(ValueError, match="unknown augmentation"):
        augmentation.augment(EXAMPLES, ["shuffle"], 0)


def test_cache_with_augmentation_embeds_the_variants(hub_modules, write, tmp_path):
    teacher = loading.load_teacher(hub_modules["string"])
    de, en = demo_corpus.read_split("dev", "de")[:12], demo_corpus.read_split("dev", "en")[:12]
    sources = corpus.resolve_sources(
        write("de-en.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)))
    )
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(
        shard_size=5, dtype="float32", augment=("span", "prefix", "case")
    )
    manifest = embedding_cache.build_cache(teacher, sources, out, config)
    assert manifest["identity"]["augment"] == ["case", "prefix", "span"]
    rows = list(
        embedding_cache.cached_dataset(out, pipeline.InputConfig(repeat=False, shuffle_buffer=0))
    )
    mono = [r for r in rows if not r["tgt_lang"].numpy()]
    assert len(rows) == manifest["num_examples"] and 6 <= len(mono) <= 12
    texts = [r["src"].numpy().decode() for r in mono]
    np.testing.assert_allclose(
        np.stack([r["src_emb"] for r in mono]), teacher.embed(tf.constant(texts)).numpy(), atol=1e-6
    )
    with pytest.raises(embedding_cache.CacheMismatchError, match="augment"):
        embedding_cache.build_cache(
            teacher, sources, out, embedding_cache.CacheConfig(shard_size=5, dtype="float32")
        )
