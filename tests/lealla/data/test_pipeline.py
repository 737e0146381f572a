import collections
import dataclasses

import pytest
import tensorflow as tf

from lealla.data import corpus, pipeline, sampling
from lealla.tokenization import packing, wordpiece
from tests.conftest import TINY_VOCAB


def _texts(ds, key="src"):
    return [ex[key].numpy().decode() for ex in ds]


def _index(paths, on_bad_line="error"):
    return pipeline.scan_corpus(corpus.resolve_sources(paths), on_bad_line=on_bad_line)


def test_language_mix_follows_temperature(write):
    de = write("de.txt", "".join(f"de {i}\n" for i in range(900)))
    fr = write("fr.txt", "".join(f"fr {i}\n" for i in range(100)))
    index = _index([de, fr])
    config = pipeline.InputConfig(temperature=2.0, shuffle_buffer=100, seed=3)
    drawn = collections.Counter(
        _texts(pipeline.make_example_dataset(index, config).take(4000), "src_lang")
    )
    expected = sampling.temperature_weights({"de": 900, "fr": 100}, 2.0)  # 0.75 / 0.25
    for lang, p in expected.items():
        assert drawn[lang] / 4000 == pytest.approx(p, abs=0.03)
    assert expected["fr"] == pytest.approx(0.25)


def test_seeded_shuffle_is_reproducible(write):
    path = write("de-en.tsv", "".join(f"de {i}\ten {i}\n" for i in range(50)))
    index = _index(path)

    def order(seed):
        config = pipeline.InputConfig(seed=seed, repeat=False, shuffle_buffer=50)
        return _texts(pipeline.make_example_dataset(index, config))

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == sorted(f"de {i}" for i in range(50))


def test_shards_are_disjoint_and_complete(write):
    path = write("de-en.tsv", "".join(f"de {i}\ten {i}\n" for i in range(21)))
    index = _index(path)
    shards = [
        _texts(pipeline.make_example_dataset(
            index, pipeline.InputConfig(num_shards=2, shard_index=k, repeat=False)
        ))
        for k in range(2)
    ]  # fmt: skip
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == sorted(f"de {i}" for i in range(21))


def test_skip_mode_filters_exactly_the_bad_lines(write):
    path = write("de-en.tsv", b"a\tA\n\nb\n\xff\tx\nc \t C\n d\tD")
    index = _index(path, on_bad_line="skip")
    assert index.report.total == 3
    ds = pipeline.make_example_dataset(index, pipeline.InputConfig(repeat=False, shuffle_buffer=0))
    got = [(ex["src"].numpy().decode(), ex["tgt"].numpy().decode()) for ex in ds]
    assert got == [("a", "A"), ("c", "C"), ("d", "D")]
    python_reader = corpus.read_examples([index.scans[0].source], on_bad_line="skip")
    expected = [(e.src, e.tgt) for e in python_reader]
    assert got == expected


def test_language_columns_split_into_groups(write):
    path = write("mix.tsv", "deu\teng\tHallo\tHello\nfr\ten\tSalut\tHi\nde\ten\tJa\tYes\n")
    index = _index(path)
    assert index.group_counts == {"de-en": 2, "fr-en": 1}
    ds = pipeline.make_example_dataset(index, pipeline.InputConfig(repeat=False, shuffle_buffer=0))
    rows = {(e["src"].numpy().decode(), e["src_lang"].numpy().decode()) for e in ds}
    assert rows == {("Hallo", "de"), ("Ja", "de"), ("Salut", "fr")}


def test_aligned_and_monolingual_mix(write):
    write("c.de-en.de", "Hallo\n")
    en = write("c.de-en.en", "Hello\n")
    ja = write("ja.txt", "猫\n")
    index = _index([en, ja])
    ds = pipeline.make_example_dataset(index, pipeline.InputConfig(repeat=False))
    rows = sorted((e["src"].numpy().decode(), e["tgt"].numpy().decode()) for e in ds)
    assert rows == [("Hallo", "Hello"), ("猫", "")]


def test_bucketed_batches_have_static_lengths_and_true_lengths(write):
    lines = ["hello", "hello world the cat sat", "the cats sat " * 4]
    path = write("en.txt", "".join(f"{t}\n" for t in lines))
    tok = wordpiece.WordpieceTokenizer(TINY_VOCAB)
    packer = packing.Packer(tok, seq_length=16)
    ds = pipeline.make_example_dataset(_index(path), pipeline.InputConfig(seed=0))
    batches = pipeline.bucket_by_length(
        pipeline.tokenize_examples(ds, packer, chunk_size=4), lengths=(4, 8, 16), batch_size=3
    ).take(6)
    for batch in batches:
        ids, length = batch["src_ids"].numpy(), batch["src_length"].numpy()
        assert ids.shape[0] == 3 and ids.shape[1] in (4, 8, 16)
        assert length.max() <= ids.shape[1]
        for row, n in zip(ids, length, strict=True):
            assert row[0] == tok.special_ids.cls and row[n - 1] == tok.special_ids.sep
            assert (row[n:] == 0).all()


def test_iterator_checkpoint_resumes_the_same_stream(write, tmp_path):
    de = write("de.txt", "".join(f"de {i}\n" for i in range(30)))
    fr = write("fr.txt", "".join(f"fr {i}\n" for i in range(10)))
    ds = pipeline.make_example_dataset(_index([de, fr]), pipeline.InputConfig(seed=5))
    it = iter(ds)
    for _ in range(7):
        next(it)
    ckpt = tf.train.Checkpoint(iterator=it)
    path = ckpt.save(str(tmp_path / "ckpt"))
    expected = [next(it)["src"].numpy() for _ in range(20)]
    it2 = iter(ds)
    tf.train.Checkpoint(iterator=it2).restore(path).assert_consumed()
    assert [next(it2)["src"].numpy() for _ in range(20)] == expected


@pytest.mark.parametrize(
    "kwargs, message",
    [({"temperature": 0.5}, "temperature"), ({"shard_index": 2, "num_shards": 2}, "shard_index"),
     ({"on_bad_line": "drop"}, "on_bad_line")],
)  # fmt: skip
def test_input_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipeline.InputConfig(**kwargs)


def test_input_config_json_round_trip_rejects_unknown_keys(tmp_path):
    config = pipeline.InputConfig(seed=7, temperature=2.0)
    path = str(tmp_path / "input.json")
    config.to_json_file(path)
    assert pipeline.InputConfig.from_json_file(path) == config
    with pytest.raises(ValueError, match=r"unknown InputConfig key\(s\) \['sead'\]"):
        pipeline.InputConfig.from_dict({"sead": 1})


def test_empty_corpus_is_refused(write):
    path = write("de.txt", b"\n\n")
    with pytest.raises(ValueError, match="no usable example"):
        _index(path, on_bad_line="skip")


def test_monolingual_rows_pair_two_sentences_of_their_language(write):
    de = write("de.txt", "".join(f"de mono {i}\n" for i in range(40)))
    fr = write("fr.txt", "".join(f"fr mono {i}\n" for i in range(40)))
    pairs = write("de-en.tsv", "".join(f"de {i}\ten {i}\n" for i in range(40)))
    index = _index([de, fr, pairs])
    config = pipeline.InputConfig(seed=1, shuffle_buffer=40, mono_share=0.5, pair_monolingual=True)
    rows = [
        {k: v.numpy().decode() for k, v in ex.items()}
        for ex in pipeline.make_example_dataset(index, config).take(600)
    ]
    mono = [r for r in rows if r["tgt_lang"] == ""]
    assert 0.4 < len(mono) / 600 < 0.6  # the share counts rows
    for r in mono:
        prefix = f"{r['src_lang']} mono "
        assert r["src"].startswith(prefix) and r["tgt"].startswith(prefix), r
        assert r["src"] != r["tgt"]
    for r in rows:
        if r["tgt_lang"]:
            assert r["tgt"] == r["src"].replace("de", "en"), r
    # No sentence is lost to the pairing: each is some row's source or target.
    seen = {r["src"] for r in mono} | {r["tgt"] for r in mono}
    assert seen == {f"{lang} mono {i}" for lang in ("de", "fr") for i in range(40)}
    # One pass (evaluation) keeps every example as it is.
    once = dataclasses.replace(config, repeat=False)
    texts = [
        (e["src"].numpy(), e["tgt"].numpy()) for e in pipeline.make_example_dataset(index, once)
    ]
    assert len(texts) == 120 and sum(tgt == b"" for _, tgt in texts) == 80
