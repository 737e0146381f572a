import numpy as np
import pytest

from lealla.data import sampling


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
    from lealla.data import corpus, pipeline

    tsv = write("de-en.tsv", "".join(f"a{i}\tb{i}\n" for i in range(50)))
    mono = write("fr.txt", "".join(f"c{i}\n" for i in range(50)))
    index = pipeline.scan_corpus(corpus.resolve_sources([tsv, mono]))
    config = pipeline.InputConfig(mono_share=0.1, shuffle_buffer=10, seed=3)
    langs = [
        e["tgt_lang"]
        for e in pipeline.make_example_dataset(index, config).take(1000).as_numpy_iterator()
    ]
    assert 0.06 < langs.count(b"") / 1000 < 0.14


def test_fixed_shares_come_off_the_top_and_the_rest_mixes_as_before():
    counts = {"de-en": 9000, "th-en": 100, "de": 500, "@chat.ko.txt": 30}
    w = sampling.mixture_weights(
        counts, 1.0, monolingual={"de"}, mono_share=0.2, fixed={"@chat.ko.txt": 0.05}
    )
    rest = sampling.mixture_weights(
        {g: n for g, n in counts.items() if g != "@chat.ko.txt"}, 1.0, monolingual={"de"},
        mono_share=0.2,
    )  # fmt: skip
    assert w["@chat.ko.txt"] == pytest.approx(0.05)
    assert {g: w[g] for g in rest} == pytest.approx({g: 0.95 * v for g, v in rest.items()})
    assert sum(w.values()) == pytest.approx(1.0)
    # Floors hold among the other groups, before the scaling.
    floored = sampling.mixture_weights(counts, 1.0, min_share=0.1, fixed={"@chat.ko.txt": 0.5})
    assert floored["th-en"] == pytest.approx(0.5 * 0.1)
    # Every group fixed: the shares are relative.
    assert sampling.mixture_weights({"a": 5, "b": 1}, 1.0, fixed={"a": 0.2, "b": 0.2}) == {
        "a": 0.5, "b": 0.5}  # fmt: skip
    with pytest.raises(ValueError, match="add up to 1, leaving nothing"):
        sampling.mixture_weights(counts, 1.0, fixed={"@chat.ko.txt": 0.5, "de": 0.5})
    with pytest.raises(ValueError, match="share but no examples: @x"):
        sampling.mixture_weights(counts, 1.0, fixed={"@x": 0.1})


def test_a_file_given_a_share_is_drawn_for_that_share_whatever_its_size(write):
    from lealla.data import corpus, pipeline

    tsv = write("de-en.tsv", "".join(f"a{i}\tb{i}\n" for i in range(500)))
    mono = write("fr.txt", "".join(f"c{i}\n" for i in range(500)))
    chat = write("chat.fr.txt", "".join(f"d{i}\n" for i in range(5)))
    index = pipeline.scan_corpus(corpus.resolve_sources([tsv, mono, f"{chat}@0.25"]))
    config = pipeline.InputConfig(mono_share=0.2, shuffle_buffer=10, seed=3)
    rows = list(pipeline.make_example_dataset(index, config).take(2000).as_numpy_iterator())
    chat_rows = [r for r in rows if r["src"].startswith(b"d")]
    assert 0.21 < len(chat_rows) / 2000 < 0.29  # 5 lines out of 1,005: 0.5% by size
    assert {r["src_lang"] for r in chat_rows} == {b"fr"}  # still French text
    other_fr = sum(r["src"].startswith(b"c") for r in rows) / 2000
    assert 0.11 < other_fr < 0.19  # the monolingual share of the rest: 0.2 x 0.75


def test_the_mix_line_puts_the_shares_first():
    from lealla.data import pipeline

    line = pipeline.mix_summary(
        {"de-en": 0.7, "fr": 0.25, "@chat.ko.txt": 0.05}, {"@chat.ko.txt": 0.05}
    )
    assert line == "@chat.ko.txt 5.0%, de-en 70.0%, fr 25.0%"
