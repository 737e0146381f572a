import pytest

from lealla.data import corpus, demo_corpus, pipeline


def test_every_language_aligned_in_every_split():
    assert len(demo_corpus.DEMO_LANGUAGES) >= 10
    for split, size in demo_corpus.SPLIT_SIZES.items():
        for lang in demo_corpus.DEMO_LANGUAGES:
            lines = demo_corpus.read_split(split, lang)
            assert len(lines) == size, (split, lang)
            assert all(line and line == line.strip() and "\t" not in line for line in lines)
            assert len(set(lines)) == len(lines), (split, lang)


def test_splits_do_not_overlap():
    seen = {
        split: set(demo_corpus.read_split(split, "en")) for split in demo_corpus.SPLITS
    }  # fmt: skip
    assert not seen["train"] & seen["dev"]
    assert not seen["train"] & seen["test"]
    assert not seen["dev"] & seen["test"]


def test_parallel_sources_scan_cleanly():
    index = pipeline.scan_corpus(corpus.resolve_sources("demo:dev"))
    assert index.num_examples == 50 * (len(demo_corpus.DEMO_LANGUAGES) - 1)
    assert index.report.total == 0


def test_unknown_split_or_language():
    with pytest.raises(ValueError, match="split must be one of"):
        demo_corpus.split_path("validation", "de")
    with pytest.raises(ValueError, match="the demo corpus has no 'th'"):
        demo_corpus.split_path("dev", "th")


def test_demo_specs_resolve_to_aligned_pairs():
    from lealla.data import corpus

    sources = corpus.resolve_sources("demo:dev")
    assert len(sources) == len(demo_corpus.DEMO_LANGUAGES) - 1
    assert {s.kind for s in sources} == {"aligned"} and {s.tgt_lang for s in sources} == {"en"}
    with pytest.raises(ValueError, match="split must be one of"):
        corpus.resolve_sources("demo:validation")
