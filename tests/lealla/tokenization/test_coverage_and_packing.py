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


def test_every_packing_gives_the_same_layout(tok):
    texts = tf.constant(["hello world the cat", "a", ""])
    packer = packing.Packer(tok, seq_length=5)
    ragged = packer(texts)
    hub = packing.pad_to_length(ragged, 5, tok.special_ids.pad)
    one_segment = packing.pack_segments([tok.tokenize(texts)], tok.special_ids, 5)
    for key in (packing.HUB_WORD_IDS, packing.HUB_MASK, packing.HUB_TYPE_IDS):
        np.testing.assert_array_equal(one_segment[key], hub[key])
    dense = packing.model_inputs(packer, texts)  # padded to the longest row only
    width = dense[packing.TOKEN_IDS].shape[1]
    np.testing.assert_array_equal(dense[packing.TOKEN_IDS], hub[packing.HUB_WORD_IDS][:, :width])
    from_hub = packing.from_hub_inputs(hub)
    assert set(from_hub) == set(dense) == {packing.TOKEN_IDS, packing.PADDING_MASK}
    np.testing.assert_array_equal(from_hub[packing.PADDING_MASK], hub[packing.HUB_MASK])
    lengths = tf.reduce_sum(dense[packing.PADDING_MASK], axis=1)
    batch = packing.batch_inputs(dense[packing.TOKEN_IDS], lengths)
    np.testing.assert_array_equal(batch[packing.PADDING_MASK], dense[packing.PADDING_MASK])
    # Content = between [CLS] and [SEP]: 3, 1 and 0 tokens.
    content = packing.content_mask(lengths, width).numpy()
    assert content.sum(axis=1).tolist() == [3, 1, 0] and not content[:, 0].any()
    pair = packing.pack_segments([tok.tokenize(texts)] * 2, tok.special_ids, 5)
    assert pair[packing.HUB_TYPE_IDS].numpy()[0].tolist() == [0, 0, 0, 1, 1]
