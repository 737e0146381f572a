"""XTR and contrastive losses against numpy references; the EMS heads' configs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lealla.models.distill.heads import ProjectionHead, XtrHead
from lealla.models.distill.losses import (
    bidirectional_additive_margin_loss,
    bidirectional_contrastive_loss,
    bidirectional_xtr_loss,
)
from lealla.models.distill.losses.xtr import token_bag_kl

VOCAB, HIDDEN, CLS, SEP = 23, 6, 2, 3


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _packed(rng, lengths, seq_len=9):
    """int32 ids [b, seq_len]: [CLS] tokens [SEP] then padding 0, with repeated tokens."""
    ids = np.zeros((len(lengths), seq_len), np.int32)
    for i, n in enumerate(lengths):
        tokens = rng.integers(4, 12, size=n - 2)  # a small range: duplicates are likely
        ids[i, :n] = [CLS, *tokens, SEP]
    return ids, np.asarray(lengths, np.int32)


def kl_reference(hidden, ids, lengths, table, bias, deduplicate=False, candidates=None):
    """Per-row KL(q || p) with an explicit dense target over the vocabulary."""
    out = []
    for h, row, n in zip(hidden, ids, lengths, strict=True):
        tokens = row[1 : n - 1]
        q = np.zeros(len(table))
        if deduplicate:
            q[np.unique(tokens)] = 1.0 / len(np.unique(tokens))
        else:
            np.add.at(q, tokens, 1.0 / len(tokens))
        logits = table @ h + bias
        if candidates is not None:  # the softmax over the candidate ids only
            keep = np.zeros(len(table), bool)
            keep[candidates] = True
            logits = np.where(keep, logits, -np.inf)
        logp = _log_softmax(logits)
        support = q > 0
        out.append(np.sum(q[support] * (np.log(q[support]) - logp[support])))
    return np.array(out)


def _xtr_inputs(seed=0):
    rng = np.random.default_rng(seed)
    src_ids, src_len = _packed(rng, [5, 9, 4, 7, 3])
    tgt_ids, tgt_len = _packed(rng, [6, 4, 9, 5, 8])
    hs, ht = (rng.normal(size=(5, HIDDEN)).astype(np.float32) for _ in range(2))
    table = rng.normal(size=(VOCAB, HIDDEN)).astype(np.float32)
    bias = rng.normal(size=VOCAB).astype(np.float32)
    return hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias


@pytest.mark.parametrize("deduplicate", [False, True])
def test_xtr_matches_numpy(deduplicate):
    hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias = _xtr_inputs()
    valid = np.array([True, True, False, True, True])
    got = bidirectional_xtr_loss(
        hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias,
        valid=valid, deduplicate=deduplicate,
    )  # fmt: skip
    s2t = kl_reference(hs, tgt_ids, tgt_len, table, bias, deduplicate)
    t2s = kl_reference(ht, src_ids, src_len, table, bias, deduplicate)
    expected = ((s2t + t2s) * valid).sum() / valid.sum()
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # The two target definitions differ on these rows (they hold repeated tokens).
    other = kl_reference(hs, tgt_ids, tgt_len, table, bias, not deduplicate)
    assert not np.allclose(s2t, other)


def test_xtr_hand_case_counts_duplicates():
    # Target tokens [5, 5, 7]: q = (2/3, 1/3). A prediction equal to q costs nothing.
    ids = np.array([[CLS, 5, 5, 7, SEP, 0]], np.int32)
    length = np.array([5], np.int32)
    bias = np.full(VOCAB, -1e4, np.float32)
    bias[5], bias[7] = np.log(2 / 3), np.log(1 / 3)
    hidden, table = np.zeros((1, HIDDEN), np.float32), np.zeros((VOCAB, HIDDEN), np.float32)
    kl, has_tokens = token_bag_kl(hidden, ids, length, table, bias)
    assert float(kl[0]) == pytest.approx(0.0, abs=1e-6) and bool(has_tokens[0])
    # Against the distinct-token target (1/2, 1/2) the same prediction is off:
    kl, _ = token_bag_kl(hidden, ids, length, table, bias, deduplicate=True)
    expected = 0.5 * np.log(0.5 / (2 / 3)) + 0.5 * np.log(0.5 / (1 / 3))
    assert float(kl[0]) == pytest.approx(expected, rel=1e-5)


def test_xtr_rows_without_tokens_drop_out():
    hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias = _xtr_inputs(1)
    tgt_len[1] = 2  # "[CLS] [SEP]": nothing to reconstruct
    got = bidirectional_xtr_loss(hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias)
    keep = np.array([True, False, True, True, True])
    s2t = kl_reference(hs[keep], tgt_ids[keep], tgt_len[keep], table, bias)
    t2s = kl_reference(ht[keep], src_ids[keep], src_len[keep], table, bias)
    assert float(got) == pytest.approx((s2t + t2s).mean(), rel=1e-5)


def test_xtr_sampled_softmax():
    hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias = _xtr_inputs(2)
    args = (hs, ht, src_ids, src_len, tgt_ids, tgt_len, table, bias)
    full = float(bidirectional_xtr_loss(*args))
    # In-batch candidates only: the softmax runs over the batch's target tokens.
    in_batch = float(bidirectional_xtr_loss(*args, num_sampled=0))
    tgt_cands = np.unique(
        np.concatenate([r[1 : n - 1] for r, n in zip(tgt_ids, tgt_len, strict=True)])
    )
    src_cands = np.unique(
        np.concatenate([r[1 : n - 1] for r, n in zip(src_ids, src_len, strict=True)])
    )
    s2t = kl_reference(hs, tgt_ids, tgt_len, table, bias, candidates=tgt_cands)
    t2s = kl_reference(ht, src_ids, src_len, table, bias, candidates=src_cands)
    assert in_batch == pytest.approx((s2t + t2s).mean(), rel=1e-5)
    assert in_batch < full  # a partial partition function underestimates the loss
    # Enough random ids cover the whole vocabulary: the full softmax again.
    seed = tf.constant([3, 4], tf.int64)
    covered = float(bidirectional_xtr_loss(*args, num_sampled=50 * VOCAB, seed=seed))
    assert covered == pytest.approx(full, rel=1e-5)
    # Gradients reach only the sampled rows of the output embeddings.
    table_var = tf.Variable(table)
    with tf.GradientTape() as tape:
        loss = bidirectional_xtr_loss(*args[:6], table_var, bias, num_sampled=0)
    grad = tf.convert_to_tensor(tape.gradient(loss, table_var)).numpy()
    touched = set(np.flatnonzero(np.abs(grad).sum(1)))
    assert touched == set(tgt_cands) | set(src_cands)


def _unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def contrastive_reference(x, y, temperature, valid):
    v = np.flatnonzero(valid)
    x = x[v] / np.linalg.norm(x[v], axis=1, keepdims=True)
    y = y[v] / np.linalg.norm(y[v], axis=1, keepdims=True)
    cos = x @ y.T / temperature
    return -(np.trace(_log_softmax(cos)) + np.trace(_log_softmax(cos.T))) / len(v)


@pytest.mark.parametrize("temperature", [0.1, 0.05, 1.0])
def test_contrastive_matches_numpy(temperature):
    rng = np.random.default_rng(3)
    x, y = (rng.normal(size=(6, 5)).astype(np.float32) * 3 for _ in range(2))  # not unit
    valid = np.array([True, True, False, True, True, False])
    got = bidirectional_contrastive_loss(x, y, temperature=temperature, valid=valid)
    assert float(got) == pytest.approx(contrastive_reference(x, y, temperature, valid), rel=1e-5)


def test_contrastive_is_ams_without_margin():
    rng = np.random.default_rng(4)
    x, y = _unit(rng, 5, 8), _unit(rng, 5, 8)
    ams = bidirectional_additive_margin_loss(x, y, scale=10.0, margin=0.0)
    assert float(bidirectional_contrastive_loss(x, y, temperature=0.1)) == pytest.approx(
        float(ams), rel=1e-5
    )
    with pytest.raises(ValueError, match="temperature must be > 0, got 0.0"):
        bidirectional_contrastive_loss(x, y, temperature=0.0)


def test_heads_shapes_and_config_round_trip():
    xtr = XtrHead(vocabulary_size=17, num_languages=4, hidden_dim=8, name="xtr_head")
    hidden = xtr(tf.ones([3, 8]), tf.constant([0, 1, 3]))
    assert hidden.shape == (3, 8) and xtr.output_embeddings.shape == (17, 8)
    # Layer norm output: zero mean, unit variance per row (before its gamma/beta).
    assert np.allclose(hidden.numpy().mean(1), 0.0, atol=1e-5)
    projection = ProjectionHead(hidden_dim=8, name="contrastive_head")
    assert projection(tf.ones([3, 8])).shape == (3, 8)
    for layer in (xtr, projection):
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config() == config
        assert (
            keras.saving.deserialize_keras_object(
                keras.saving.serialize_keras_object(layer)
            ).get_config()
            == config
        )
