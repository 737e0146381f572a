import numpy as np
import pytest
import tensorflow as tf

from lealla.tokenization import coverage, packing, wordpiece
from tests.conftest import TINY_VOCAB


@pytest.fixture
def tok():
    return wordpiece.WordpieceTokenizer(TINY_VOCAB)


def test_coverage_by_hand(tok):
    c = coverage.measure_coverage(tok, ["hello world", "Hello cats", "zzz"], batch_size=2)
    # tokens: hello world | [UNK] cat ##s | [UNK]
    assert (c.sentences, c.tokens, c.unk_tokens, c.distinct_ids) == (3, 6, 2, 5)
    assert c.unk_rate == pytest.approx(2 / 6)


def test_coverage_by_language(tok):
    result = coverage.coverage_by_language(
        tok, [("en", "hello"), ("xx", "zzz"), ("en", "the cat")], batch_size=1
    )
    assert result["en"].tokens == 3 and result["en"].unk_tokens == 0
    assert result["xx"].unk_rate == 1.0


def test_packer_and_padding(tok):
    ids = packing.Packer(tok, seq_length=4)(tf.constant(["hello world the cat", "a"]))
    assert ids.to_list() == [[2, 5, 6, 3], [2, 14, 3]]  # truncated to 4 with [CLS] [SEP]
    inputs = packing.pad_to_length(ids, 5, tok.special_ids.pad)
    np.testing.assert_array_equal(inputs["input_word_ids"], [[2, 5, 6, 3, 0], [2, 14, 3, 0, 0]])
    np.testing.assert_array_equal(inputs["input_mask"], [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(inputs["input_type_ids"], np.zeros((2, 5)))
    with pytest.raises(ValueError, match="seq_length must be >= 3"):
        packing.Packer(tok, seq_length=2)
