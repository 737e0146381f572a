"""Junk filters of mined pairs: each check, and real translations pass them."""

import pytest

from lealla.data import demo_corpus
from lealla.mining import pair_filters


@pytest.mark.parametrize(
    "src, tgt, reason",
    [
        ("x" * 1001, "a short line", "too_long"),
        ("Das ist ein Satz.", "This is a sentence that goes on and on and on and on and on.",
         "length_ratio"),
        ("Barack Obama!", "barack  obama", "identical"),
        ("12 345 678", "12,345,678", "identical"),
        ("2019 - 2020", "1999 / 2000", "no_letters"),
        ("see https://example.com/a/b/c/d", "voir https://example.com/a/b/c/d", "url"),
    ],
)  # fmt: skip
def test_each_check_names_its_reason(src, tgt, reason):
    keep, dropped = pair_filters.filter_pairs([src, "Guten Morgen."], [tgt, "Good morning."])
    assert keep.tolist() == [False, True]
    assert dropped == {reason: 1}


def test_script_weighted_lengths_let_cjk_pairs_pass():
    assert pair_filters.weighted_length("你好") == 6.0
    assert pair_filters.weighted_length("안녕") == 4.0
    keep, _ = pair_filters.filter_pairs(
        ["我们明天去公园。"], ["We are going to the park tomorrow."]
    )  # 8 characters vs 34: a raw ratio of 4.25
    assert keep.tolist() == [True]


def test_every_demo_translation_passes_the_defaults():
    en = demo_corpus.read_split("test", "en")
    for lang in demo_corpus.DEMO_LANGUAGES:
        if lang == "en":
            continue
        keep, dropped = pair_filters.filter_pairs(demo_corpus.read_split("test", lang), en)
        assert keep.all(), (lang, dropped)


def test_no_filter_keeps_everything_and_bad_settings_are_refused():
    keep, _ = pair_filters.filter_pairs(["x" * 5000], ["x" * 5000], pair_filters.NO_FILTER)
    assert keep.all()
    with pytest.raises(ValueError, match="max_length_ratio must be >= 1"):
        pair_filters.PairFilter(max_length_ratio=0.5)
