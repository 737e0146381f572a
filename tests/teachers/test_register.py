import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla import corpus, demo_corpus, pipeline
from teachers import augmentation, embedding_cache, loading, register

# Plain (-다) and formal (-습니다) Korean, as news and reference text write it, and the
# polite -요 style everyday text uses: vowel harmony, contraction, irregular stems,
# the copula after a vowel and after a consonant, questions, two sentences in a line.
REWRITES = [
    ("그는 책을 보았다.", "그는 책을 봤어요."),
    ("날씨가 좋습니다.", "날씨가 좋아요."),
    ("회사는 이것을 부릅니다.", "회사는 이것을 불러요."),
    ("그는 밥을 먹는다.", "그는 밥을 먹어요."),
    ("물이 차갑다.", "물이 차가워요."),
    ("역사와 전통이 있는 학문 분야다.", "역사와 전통이 있는 학문 분야예요."),
    ("전통적인 사회가 바로 일본이다.", "전통적인 사회가 바로 일본이에요."),
    ("이것은 사과입니까?", "이것은 사과예요?"),
    ("그는 왔다. 그리고 떠났다.", "그는 왔어요. 그리고 떠났어요."),
    ("“포기하지 않을 것입니다.”라고 그가 덧붙였습니다.",
     "“포기하지 않을 것이에요.”라고 그가 덧붙였어요."),
]  # fmt: skip


@pytest.mark.parametrize("text, polite", REWRITES)
def test_korean_endings_become_the_polite_yo_style(text, polite):
    assert register.rewrite(text, "ko") == polite


def test_what_has_no_rewrite_gets_none():
    assert register.rewrite("벤치마킹 그룹의 비법을 분석하라.", "ko") is None  # an imperative
    assert register.rewrite("The train leaves at eight.", "en") is None
    # Everyday Korean is already in that style: the demo corpus has nothing to rewrite.
    assert not [s for s in demo_corpus.read_split("dev", "ko") if register.rewrite(s, "ko")]


def test_a_pair_keeps_its_translation_on_either_side():
    pair = corpus.Example("그는 책을 보았다.", "He read the book.", "ko", "en")
    assert register.variant(pair) == pair._replace(src="그는 책을 봤어요.")
    flipped = corpus.Example("He read the book.", "그는 책을 보았다.", "en", "ko")
    assert register.variant(flipped) == flipped._replace(tgt="그는 책을 봤어요.")
    assert register.variant(corpus.Example("Er las.", "He read.", "de", "en")) is None


def test_register_variants_come_besides_the_drawn_ones_which_stay_the_same():
    examples = [
        corpus.Example("그는 책을 보았다.", "He read the book.", "ko", "en"),
        corpus.Example("날씨가 좋습니다.", "", "ko", ""),
        corpus.Example("Der Zug nach Berlin fährt heute um acht Uhr ab.",
                       "The train to Berlin leaves at eight today.", "de", "en"),
    ]  # fmt: skip
    drawn = augmentation.augment(examples, ("span", "punct"), seed=5)
    both = augmentation.augment(examples, ("span", "punct", "register"), seed=5)
    assert both == [
        *drawn,
        corpus.Example("그는 책을 봤어요.", "He read the book.", "ko", "en"),
        corpus.Example("날씨가 좋아요.", "", "ko", ""),
    ]


def test_cache_embeds_the_register_variants_as_pairs(hub_modules, write, tmp_path):
    teacher = loading.load_teacher(hub_modules["string"])
    pairs = [(text, f"English {i}.") for i, (text, _) in enumerate(REWRITES)]
    sources = corpus.resolve_sources(write("ko-en.tsv", "".join(f"{a}\t{b}\n" for a, b in pairs)))
    out = str(tmp_path / "cache")
    config = embedding_cache.CacheConfig(shard_size=4, dtype="float32", augment=("register",))
    manifest = embedding_cache.build_cache(teacher, sources, out, config)
    assert manifest["num_examples"] == 2 * len(REWRITES)
    rows = list(
        embedding_cache.cached_dataset(out, pipeline.InputConfig(repeat=False, shuffle_buffer=0))
    )
    by_text = {r["src"].numpy().decode(): r for r in rows}
    for (_, polite), (_, english) in zip(REWRITES, pairs, strict=True):
        row = by_text[polite]
        assert row["tgt"].numpy().decode() == english and row["tgt_lang"].numpy() == b"en"
        np.testing.assert_allclose(
            row["src_emb"], teacher.embed(tf.constant([polite])).numpy()[0], atol=1e-6
        )


def test_without_the_analyser_the_cache_says_what_to_install(
    hub_modules, write, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "kiwipiepy", None)  # import kiwipiepy fails
    teacher = loading.load_teacher(hub_modules["string"])
    sources = corpus.resolve_sources(write("ko-en.tsv", "그는 왔다.\tHe came.\n"))
    out = tmp_path / "cache"
    config = embedding_cache.CacheConfig(augment=("register",))
    with pytest.raises(register.RegisterUnavailableError, match=r"pip install 'lealla\[korean\]'"):
        embedding_cache.build_cache(teacher, sources, str(out), config)
    assert not out.exists()
