import unicodedata

import pytest
import sentencepiece as spm
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.tokenization import coverage, loading, sentencepiece, tokenizer


@pytest.mark.parametrize("lang", demo_corpus.DEMO_LANGUAGES)
def test_use_m_round_trip_and_reference_ids(use_m_tokenizer, lang):
    texts = demo_corpus.read_split("test", lang)
    ids = use_m_tokenizer.tokenize(tf.constant(texts))
    reference = spm.SentencePieceProcessor(model_proto=use_m_tokenizer.model)
    assert ids.to_list() == reference.encode(texts)
    back = [t.decode() for t in use_m_tokenizer.detokenize(ids).numpy()]
    unk = use_m_tokenizer.special_ids.unk
    # Exact round trip (after the model's NFKC normalization) wherever no <unk> was needed.
    known = [i for i, row in enumerate(ids.to_list()) if unk not in row]
    # USE-m lacks some common Hangul syllables (e.g. 줬, 빵): a third of Korean lines hit <unk>.
    assert len(known) >= 0.6 * len(texts)
    assert [back[i] for i in known] == [unicodedata.normalize("NFKC", texts[i]) for i in known]
    cov = coverage.measure_coverage(use_m_tokenizer, texts)
    assert cov.unk_rate < 0.05, cov.describe()


def test_special_ids(use_m_tokenizer):
    # USE-m: <unk>=0, <s>=1, </s>=2, no pad piece (pads with <unk>, masked anyway).
    assert use_m_tokenizer.special_ids == tokenizer.SpecialIds(cls=1, sep=2, pad=0, unk=0)
    assert use_m_tokenizer.vocab_size == 128_000


def test_trained_model_save_load(tmp_path, demo_train_texts):
    prefix = str(tmp_path / "m")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(demo_train_texts), model_prefix=prefix, vocab_size=4000,
        character_coverage=1.0, pad_id=3, bos_id=1, eos_id=2, unk_id=0,
    )  # fmt: skip
    tok = sentencepiece.SentencepieceTokenizer.from_model_file(prefix + ".model")
    assert tok.special_ids == tokenizer.SpecialIds(cls=1, sep=2, pad=3, unk=0)
    tok.save(str(tmp_path / "saved"))
    loaded = loading.load_tokenizer(str(tmp_path / "saved"))
    texts = tf.constant(demo_train_texts[:50])
    assert loaded.tokenize(texts).to_list() == tok.tokenize(texts).to_list()


def test_not_a_model(write):
    path = write("bad.model", b"this is not a protobuf \xff\xff")
    with pytest.raises(ValueError, match="bad.model: not a SentencePiece model"):
        sentencepiece.SentencepieceTokenizer.from_model_file(path)


def test_tokenizer_from_files_needs_exactly_one():
    with pytest.raises(ValueError, match="exactly one of vocab"):
        loading.tokenizer_from_files()
    with pytest.raises(ValueError, match="exactly one of vocab"):
        loading.tokenizer_from_files(vocab="a", sp_model="b")
