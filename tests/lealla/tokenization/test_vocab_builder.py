import pytest

from lealla.data import demo_corpus
from lealla.tokenization import coverage, vocab_builder, vocab_file, wordpiece


def test_learned_vocab_is_a_valid_vocab(demo_wordpiece_vocab, tmp_path, demo_train_texts):
    assert demo_wordpiece_vocab[:5] == list(vocab_file.RESERVED_TOKENS)
    # 14 languages' characters (about 2,100, each in two forms) take much of the budget.
    assert 4000 < len(demo_wordpiece_vocab) <= 1.25 * 8000
    path = str(tmp_path / "vocab.txt")
    vocab_file.write_vocab(path, demo_wordpiece_vocab)
    assert vocab_file.read_vocab(path) == demo_wordpiece_vocab
    tok = wordpiece.WordpieceTokenizer.from_vocab_file(path)
    cov = coverage.measure_coverage(tok, demo_train_texts)
    assert cov.unk_rate == 0.0
    # Subwords, not characters: English words mostly stay whole.
    english = demo_corpus.read_split("train", "en")
    words = sum(len(t.split()) for t in english)
    assert coverage.measure_coverage(tok, english).tokens < 1.5 * words


def test_errors():
    with pytest.raises(ValueError, match="vocab_size must exceed the 5 reserved tokens"):
        vocab_builder.build_wordpiece_vocab(["a"], 5)
    with pytest.raises(ValueError, match="empty corpus"):
        vocab_builder.build_wordpiece_vocab([], 100)
