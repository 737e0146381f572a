import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.tokenization import coverage, vocab_pruning, wordpiece
from tests.conftest import TINY_VOCAB


def _same_segmentation(original, pruned_tok, pruned, texts):
    a = original.tokenize(tf.constant(texts))
    b = pruned_tok.tokenize(tf.constant(texts))
    mapped = np.asarray(pruned.old_ids)[b.flat_values.numpy()]
    return np.array_equal(a.row_lengths(), b.row_lengths()) and np.array_equal(
        mapped, a.flat_values.numpy()
    )


def test_wordpiece_tiny_case_by_hand():
    tok = wordpiece.WordpieceTokenizer(TINY_VOCAB)
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(tok, ["the cats"], keep_corpus_chars=False)
    assert pruned.tokens == ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s")
    assert pruned.old_ids == (0, 1, 2, 3, 4, 7, 8, 9)
    assert pruned.rows_saved() == len(TINY_VOCAB) - 8
    assert pruned.parameters_saved(128) == (len(TINY_VOCAB) - 8) * 128
    assert pruned_tok.tokenize(tf.constant(["the cats sat"])).to_list() == [[5, 6, 7, 1]]


def test_wordpiece_keeps_segmentation_and_falls_back_to_chars(demo_wordpiece_vocab):
    tok = wordpiece.WordpieceTokenizer(demo_wordpiece_vocab)
    train = demo_corpus.read_split("train", "de")
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(tok, train)
    assert pruned.size < tok.vocab_size
    assert _same_segmentation(tok, pruned_tok, pruned, train)
    # Held-out Latin-script text: unseen words fall back to kept characters, not [UNK].
    for lang in ("en", "fr", "es", "it", "pt", "nl", "pl", "tr"):
        held_out = demo_corpus.read_split("test", lang)
        before = coverage.measure_coverage(tok, held_out)
        after = coverage.measure_coverage(pruned_tok, held_out)
        assert after.unk_rate <= before.unk_rate + 0.002, (lang, before, after)


def test_sentencepiece_prune_use_m(use_m_tokenizer, demo_train_texts):
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(use_m_tokenizer, demo_train_texts)
    assert pruned.original_size == 128_000
    assert 5_000 < pruned.size < 40_000, pruned.describe()
    assert pruned_tok.special_ids == use_m_tokenizer.special_ids  # <unk> <s> </s> stay first
    assert _same_segmentation(use_m_tokenizer, pruned_tok, pruned, demo_train_texts)
    # Whole scripts are kept, so held-out CJK text does not collapse into <unk>.
    for lang in ("zh", "ja", "ko", "ru", "ar"):
        held_out = demo_corpus.read_split("test", lang)
        before = coverage.measure_coverage(use_m_tokenizer, held_out).unk_rate
        after = coverage.measure_coverage(pruned_tok, held_out).unk_rate
        assert after <= before + 0.005, (lang, before, after)


def test_save_and_load_pruned(use_m_tokenizer, tmp_path):
    texts = demo_corpus.read_split("dev", "ja")
    pruned_tok, pruned = vocab_pruning.prune_tokenizer(use_m_tokenizer, texts)
    out = str(tmp_path / "pruned")
    vocab_pruning.save_pruned(out, pruned_tok, pruned)
    loaded_tok, loaded = vocab_pruning.load_pruned(out)
    assert loaded == pruned
    assert (
        loaded_tok.tokenize(tf.constant(texts)).to_list()
        == pruned_tok.tokenize(tf.constant(texts)).to_list()
    )
    with pytest.raises(FileExistsError, match="pruned exists; pass overwrite=True"):
        vocab_pruning.save_pruned(out, pruned_tok, pruned)


def test_interrupted_save_leaves_nothing(tmp_path):
    class Exploding(wordpiece.WordpieceTokenizer):
        def save(self, directory):
            super().save(directory)
            raise KeyboardInterrupt

    tok = Exploding(TINY_VOCAB)
    pruned = vocab_pruning.PrunedVocab(tuple(TINY_VOCAB), tuple(range(len(TINY_VOCAB))), 18)
    with pytest.raises(KeyboardInterrupt):
        vocab_pruning.save_pruned(str(tmp_path / "out"), tok, pruned)
    assert list(tmp_path.iterdir()) == []


def test_pruned_embedding_rows():
    table = np.arange(18 * 2).reshape(18, 2)
    pruned = vocab_pruning.PrunedVocab(("a", "b"), (3, 7), 18)
    np.testing.assert_array_equal(vocab_pruning.pruned_embedding_rows(table, pruned), table[[3, 7]])
    with pytest.raises(ValueError, match="has 5 rows; the pruned vocab came from 18"):
        vocab_pruning.pruned_embedding_rows(table[:5], pruned)
