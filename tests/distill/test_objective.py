"""Which rows feed which LEALLA term (the terms themselves: test_losses.py)."""

import numpy as np
import pytest
import tensorflow as tf

from lealla.models.distill.losses import feature_distillation_loss, teacher_contrastive_loss
from lealla.models.distill.objectives import distillation
from lealla.models.distill.objectives.lealla import LeallaSettings


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _outputs(rng, b, d):
    pooled = rng.normal(size=(b, d)).astype(np.float32)
    return {"pooled_output": tf.constant(pooled), "sentence_embedding": tf.constant(_unit(pooled))}


@pytest.mark.parametrize("has_target", [[True, True, True, False], [True, True, False, False]])
def test_second_monolingual_sentences_feed_feature_and_bank_terms_only(has_target):
    rng = np.random.default_rng(0)
    b, d = 4, 6
    src, tgt = _outputs(rng, b, d), _outputs(rng, b, d)
    teacher_src = _unit(rng.normal(size=(b, d))).astype(np.float32)
    teacher_tgt = _unit(rng.normal(size=(b, d))).astype(np.float32)
    batch = {
        "is_parallel": tf.constant([True, True, False, False]),
        "has_target": tf.constant(has_target),
        "src_emb": tf.constant(teacher_src),
        "tgt_emb": tf.constant(teacher_tgt),
    }
    config = LeallaSettings(logit_weight=1.0)
    bank = tf.constant(_unit(rng.normal(size=(5, d))).astype(np.float32))
    terms = distillation.distillation_terms(batch, src, tgt, lambda x: x, config, bank)

    ps, pt = src["pooled_output"], tgt["pooled_output"]
    target = tf.constant(has_target, tf.float32)
    pair = tf.constant([1.0, 1.0, 0.0, 0.0])
    feature = feature_distillation_loss(ps, teacher_src) + feature_distillation_loss(
        pt, teacher_tgt, weights=target
    )
    cross = feature_distillation_loss(ps, teacher_tgt, weights=pair) + feature_distillation_loss(
        pt, teacher_src, weights=pair
    )
    tau = config.bank_temperature
    bank_term = teacher_contrastive_loss(ps, teacher_src, bank, temperature=tau) + (
        teacher_contrastive_loss(pt, teacher_tgt, bank, temperature=tau, weights=target)
    )
    np.testing.assert_allclose(terms["feature"], feature, rtol=1e-6)
    np.testing.assert_allclose(terms["cross"], cross, rtol=1e-6)
    np.testing.assert_allclose(terms["bank"], bank_term, rtol=1e-6)
    # The pair terms see the parallel rows only, whatever the target sides hold.
    plain = dict(batch, has_target=batch["is_parallel"])
    alone = distillation.distillation_terms(plain, src, tgt, lambda x: x, config, bank)
    np.testing.assert_allclose(terms["logit"], alone["logit"], rtol=1e-6)
    np.testing.assert_allclose(terms["cross"], alone["cross"], rtol=1e-6)
    if has_target[2]:
        assert abs(float(terms["feature"]) - float(alone["feature"])) > 1e-3
