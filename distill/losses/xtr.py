"""Cross-lingual token-level reconstruction (XTR): predict a translation's bag of tokens."""

from __future__ import annotations

import tensorflow as tf

from lealla.models.distill.losses.cross_replica import gather_global
from lealla.tokenization import packing


def bidirectional_xtr_loss(
    src_hidden: tf.Tensor,
    tgt_hidden: tf.Tensor,
    src_ids: tf.Tensor,
    src_length: tf.Tensor,
    tgt_ids: tf.Tensor,
    tgt_length: tf.Tensor,
    output_embeddings: tf.Tensor,
    output_bias: tf.Tensor,
    *,
    valid: tf.Tensor | None = None,
    num_sampled: int | None = None,
    deduplicate: bool = False,
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """KL divergence from each translation's bag of tokens to the predicted distribution.

        h_i^{s->t} = LN(act(W [e(x_i); l(lang(y_i))] + b))      (the XTR head, given)
        p_i        = softmax(E h_i + c)                          over the vocabulary
        q_i(v)     = c_i(v) / n_i                                bag of y_i's tokens
        KL_i       = sum_v q_i(v) (log q_i(v) - log p_i(v))
                   = 1/n_i sum_{k} [log(c_i(y_ik) / n_i) - log p_i(y_ik)]
        L = 1/|V| sum_{i in V} [KL(q(y_i) || p(h_i^{s->t})) + KL(q(x_i) || p(h_i^{t->s}))]

    k runs over the target's token positions without the packer's [CLS]/[SEP] and
    padding, n_i is their number and c_i(v) how often token v occurs among them:
    duplicates count, so q_i is the empirical distribution of the multiset of
    tokens. Why: it is what the sentence says (a word used twice carries twice the
    mass), it makes the cross-entropy part a plain mean over positions (a gather of
    log p at the target ids; counts only enter the constant entropy term), and the
    loss never builds a [batch, vocab] target. `deduplicate=True` uses the uniform
    distribution over the distinct tokens instead (q_i(v) = 1/m_i for the m_i
    distinct ids; position k then weighs 1/(m_i c_i(y_ik))).

    Softmax: the full vocabulary by default. With `num_sampled` = N the softmax
    runs over a candidate set only: every target token of this replica's batch
    (in-batch negatives, always including the positives) plus N ids drawn uniformly
    from the vocabulary, deduplicated. That is for 500k-token vocabularies; it
    underestimates the partition function, so the sampled loss is <= the full one
    (equal once the candidates cover the vocabulary). It uses `tf.unique`
    (data-dependent shape): not for XLA.

    Args:
      src_hidden: float [local_batch, h], the head's output for source sentence
        embeddings with the target language's embedding (predicts tgt tokens).
      tgt_hidden: float [local_batch, h], the same for target sentences with the
        source language's embedding (predicts src tokens).
      src_ids, tgt_ids: int32 [local_batch, seq_len], packed ids ([CLS] ... [SEP], pad).
      src_length, tgt_length: int32 [local_batch], packed lengths (special tokens included).
      output_embeddings: float [vocab, h], the vocabulary projection E (rows = tokens).
      output_bias: float [vocab], its bias c.
      valid: optional bool [local_batch]: rows that are real pairs (monolingual rows
        have no translation to reconstruct). Rows with no content token also drop out.
      num_sampled: None for the full softmax, else the number of random negatives
        added to the in-batch candidates (0: in-batch only).
      deduplicate: target = uniform over distinct tokens instead of over positions.
      seed: optional int [2] stateless seed for the random negatives (else op seeds).

    Returns:
      float32 scalar: this replica's share of L (replica values sum to L on the
      global batch); the two directions are summed, as in the paper.

    Reference: Mao, Chu & Kurohashi, "EMS: Efficient and Effective Massively
      Multilingual Sentence Embedding Learning" (arXiv 2205.15744), XTR.
    Relations: a bag-of-words cousin of masked language modelling; unlike
      `feature_distillation_loss` it needs no teacher.
    """
    src_hidden = tf.cast(src_hidden, tf.float32)
    tgt_hidden = tf.cast(tgt_hidden, tf.float32)
    output_embeddings = tf.cast(output_embeddings, tf.float32)
    output_bias = tf.cast(output_bias, tf.float32)
    if valid is None:
        valid = tf.ones(tf.shape(src_ids)[:1], tf.bool)
    seeds = (None, None) if seed is None else (seed, tf.stack([seed[0] + 1, seed[1]]))
    s2t, s2t_ok = token_bag_kl(
        src_hidden, tgt_ids, tgt_length, output_embeddings, output_bias,
        num_sampled=num_sampled, deduplicate=deduplicate, seed=seeds[0],
    )  # fmt: skip
    t2s, t2s_ok = token_bag_kl(
        tgt_hidden, src_ids, src_length, output_embeddings, output_bias,
        num_sampled=num_sampled, deduplicate=deduplicate, seed=seeds[1],
    )  # fmt: skip
    weights = tf.cast(valid & s2t_ok & t2s_ok, tf.float32)
    all_weights, _, _ = gather_global(weights)
    return tf.reduce_sum((s2t + t2s) * weights) / tf.maximum(tf.reduce_sum(all_weights), 1.0)


def token_bag_kl(
    hidden: tf.Tensor,
    target_ids: tf.Tensor,
    target_length: tf.Tensor,
    output_embeddings: tf.Tensor,
    output_bias: tf.Tensor,
    *,
    num_sampled: int | None = None,
    deduplicate: bool = False,
    seed: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """One direction of XTR per example: KL(q(target tokens) || softmax(E h + c)).

    Args: as `bidirectional_xtr_loss` for one direction (hidden [b, h], target
      ids [b, L] and lengths [b]).

    Returns:
      (kl float32 [b], has_tokens bool [b]): rows without content tokens get 0.
    """
    mask = packing.content_mask(target_length, tf.shape(target_ids)[1])
    maskf = tf.cast(mask, tf.float32)
    n = tf.reduce_sum(maskf, axis=1)  # [b]
    same = tf.equal(target_ids[:, :, None], target_ids[:, None, :]) & mask[:, None, :]
    counts = tf.maximum(tf.reduce_sum(tf.cast(same, tf.float32), axis=2), 1.0)  # [b, L]
    if deduplicate:
        distinct = tf.reduce_sum(maskf / counts, axis=1, keepdims=True)  # m_i
        target_prob = 1.0 / tf.maximum(distinct, 1.0)  # q at each position's token
        position_weight = maskf * target_prob / counts
    else:
        safe_n = tf.maximum(n, 1.0)[:, None]
        target_prob = counts / safe_n
        position_weight = maskf / safe_n
    log_probs = _target_log_probs(
        hidden, target_ids, mask, output_embeddings, output_bias, num_sampled, seed
    )  # [b, L]
    log_target = tf.math.log(tf.maximum(target_prob, 1e-30))
    kl = tf.reduce_sum(position_weight * (log_target - log_probs), axis=1)
    return kl, n > 0


def _target_log_probs(hidden, target_ids, mask, table, bias, num_sampled, seed):
    """log p(target_ids) [b, L] under the full or the sampled softmax."""
    if num_sampled is None:
        logits = tf.matmul(hidden, table, transpose_b=True) + bias  # [b, vocab]
        return tf.gather(tf.nn.log_softmax(logits, axis=-1), target_ids, batch_dims=1)
    in_batch = tf.boolean_mask(target_ids, mask)  # [positions]
    vocab = tf.shape(table)[0]
    if seed is None:
        noise = tf.random.uniform([num_sampled], 0, vocab, dtype=tf.int32)
    else:
        noise = tf.random.stateless_uniform([num_sampled], seed, 0, vocab, dtype=tf.int32)
    candidates, index = tf.unique(tf.concat([in_batch, tf.cast(noise, in_batch.dtype)], 0))
    logits = tf.matmul(hidden, tf.gather(table, candidates), transpose_b=True)
    logits += tf.gather(bias, candidates)  # [b, candidates]
    # Each target position's column among the candidates (0 where masked out).
    column = tf.scatter_nd(
        tf.where(mask), index[: tf.shape(in_batch)[0]], tf.shape(target_ids, out_type=tf.int64)
    )
    return tf.gather(tf.nn.log_softmax(logits, axis=-1), column, batch_dims=1)
