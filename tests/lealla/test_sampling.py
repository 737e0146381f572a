import numpy as np
import pytest

from lealla import sampling


def test_temperature_formula():
    counts = {"de-en": 9000, "th-en": 1000}
    assert sampling.temperature_weights(counts, 1.0) == pytest.approx({"de-en": 0.9, "th-en": 0.1})
    w = sampling.temperature_weights(counts, 2.0)
    expected = np.sqrt([0.9, 0.1]) / np.sqrt([0.9, 0.1]).sum()
    assert [w["de-en"], w["th-en"]] == pytest.approx(expected.tolist())
    flat = sampling.temperature_weights(counts, 1e9)
    assert flat["de-en"] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    "counts, t, message",
    [({}, 1.0, "at least one"), ({"a": 1}, 0.5, "temperature must be"), ({"a": 0}, 1.0, "has 0")],
)
def test_bad_arguments(counts, t, message):
    with pytest.raises(ValueError, match=message):
        sampling.temperature_weights(counts, t)


def test_mixture_weights_give_monolingual_text_its_own_share_and_floors():
    counts = {"de-en": 9000, "th-en": 100, "de": 500, "fr": 500}
    w = sampling.mixture_weights(counts, 1.0, monolingual={"de", "fr"}, mono_share=0.2)
    assert w["de"] + w["fr"] == pytest.approx(0.2)
    assert w["de-en"] == pytest.approx(0.8 * 9000 / 9100)
    floored = sampling.mixture_weights(
        counts, 1.0, monolingual={"de", "fr"}, mono_share=0.2, min_share=0.05
    )
    assert floored["th-en"] == pytest.approx(0.05) and sum(floored.values()) == pytest.approx(1.0)
    assert all(v >= 0.05 - 1e-9 for v in floored.values())
    # Without a share, monolingual groups are weighted like pairs (plain temperature).
    assert sampling.mixture_weights(counts, 2.0) == sampling.temperature_weights(counts, 2.0)
    with pytest.raises(ValueError, match="mono_share"):
        sampling.mixture_weights(counts, 1.0, monolingual={"de"}, mono_share=1.0)
    with pytest.raises(ValueError, match="min_share"):
        sampling.mixture_weights(counts, 1.0, min_share=0.5)


def test_mono_share_reaches_the_input_pipeline(write):
    from lealla import corpus, pipeline

    tsv = write("de-en.tsv", "".join(f"a{i}\tb{i}\n" for i in range(50)))
    mono = write("fr.txt", "".join(f"c{i}\n" for i in range(50)))
    index = pipeline.scan_corpus(corpus.resolve_sources([tsv, mono]))
    config = pipeline.InputConfig(mono_share=0.1, shuffle_buffer=10, seed=3)
    langs = [
        e["tgt_lang"]
        for e in pipeline.make_example_dataset(index, config).take(1000).as_numpy_iterator()
    ]
    assert 0.06 < langs.count(b"") / 1000 < 0.14
