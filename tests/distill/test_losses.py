"""Each loss against a numpy reference, and the 2-replica version against one device."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lealla.models.distill.losses import (
    bidirectional_additive_margin_loss,
    feature_distillation_loss,
    logit_distillation_loss,
    teacher_contrastive_loss,
)


def _unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def ams_reference(x, y, scale, margin, valid):
    v = np.flatnonzero(valid)
    x, y = x[v], y[v]
    cos = x @ y.T
    total = 0.0
    for sim in (cos, cos.T):
        logits = scale * (sim - margin * np.eye(len(v)))
        total += -np.trace(_log_softmax(logits))
    return total / len(v)


@pytest.mark.parametrize("scale, margin", [(100.0, 0.3), (20.0, 0.0), (1.0, 0.5)])
def test_ams_matches_numpy(scale, margin):
    rng = np.random.default_rng(0)
    x, y = _unit(rng, 6, 8), _unit(rng, 6, 8)
    got = bidirectional_additive_margin_loss(x, y, scale=scale, margin=margin)
    assert float(got) == pytest.approx(
        ams_reference(x, y, scale, margin, np.ones(6, bool)), rel=1e-5
    )


def test_ams_hand_case():
    # Two perfectly separated pairs: only the margin costs anything.
    x = y = np.eye(2, dtype=np.float32)
    got = float(bidirectional_additive_margin_loss(x, y, scale=10.0, margin=0.5))
    expected = 2 * np.log(1 + np.exp(-10 * 0.5))  # two directions, -log(e^5 / (e^5 + e^0))
    assert got == pytest.approx(expected, rel=1e-6)


def test_ams_ignores_invalid_rows():
    rng = np.random.default_rng(1)
    x, y = _unit(rng, 5, 4), _unit(rng, 5, 4)
    valid = np.array([True, False, True, True, False])
    got = bidirectional_additive_margin_loss(x, y, scale=30.0, margin=0.2, valid=valid)
    assert float(got) == pytest.approx(ams_reference(x, y, 30.0, 0.2, valid), rel=1e-5)


@pytest.mark.parametrize("kind", ["squared_error", "mse", "cosine"])
def test_feature_loss_matches_numpy(kind):
    rng = np.random.default_rng(2)
    s, t = rng.normal(size=(5, 6)).astype(np.float32), _unit(rng, 5, 6)
    w = np.array([1, 0, 1, 1, 0.5], np.float32)
    if kind == "cosine":
        per = 1 - (s * t).sum(1) / np.linalg.norm(s, axis=1)
    else:
        per = ((s - t) ** 2).sum(1) / (6 if kind == "mse" else 1)
    expected = (per * w).sum() / w.sum()
    got = feature_distillation_loss(s, t, kind=kind, weights=w)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="kind must be one of"):
        feature_distillation_loss(s, t, kind="l1")


def test_squared_error_does_not_reward_the_mean_embedding():
    # Collapse check: predicting the mean teacher vector must cost O(1), not O(1/d).
    rng = np.random.default_rng(3)
    t = _unit(rng, 256, 512)
    mean = np.repeat(t.mean(0, keepdims=True), 256, 0)
    assert float(feature_distillation_loss(mean, t, kind="squared_error")) > 0.9
    assert float(feature_distillation_loss(mean, t, kind="mse")) < 0.01


def test_logit_loss_matches_numpy():
    rng = np.random.default_rng(4)
    ss, st, ts, tt = (_unit(rng, 4, d) for d in (3, 3, 7, 7))
    valid = np.array([True, True, False, True])
    v = np.flatnonzero(valid)
    diff = 10 * (ss[v] @ st[v].T) - 10 * (ts[v] @ tt[v].T)
    expected = (diff**2).sum() / len(v) ** 2
    assert float(logit_distillation_loss(ss, st, ts, tt, valid=valid)) == pytest.approx(
        expected, rel=1e-5
    )


def teacher_contrastive_reference(s, t, bank, tau, w):
    z = s / np.linalg.norm(s, axis=1, keepdims=True)
    keep = np.flatnonzero(w > 0)
    candidates = np.concatenate([t[keep], bank]) if bank is not None else t[keep]
    total = 0.0
    for i in keep:
        logits = (z[i] @ candidates.T / tau)[None]
        total += -w[i] * _log_softmax(logits)[0, list(keep).index(i)]
    return total / w.sum()


@pytest.mark.parametrize("with_bank", [True, False])
def test_teacher_contrastive_matches_numpy(with_bank):
    rng = np.random.default_rng(6)
    s, t = rng.normal(size=(5, 6)).astype(np.float32), _unit(rng, 5, 6)
    bank = _unit(rng, 7, 6) if with_bank else None
    w = np.array([1, 0, 1, 0.5, 1], np.float32)
    got = teacher_contrastive_loss(s, t, bank, temperature=0.07, weights=w)
    expected = teacher_contrastive_reference(s, t, bank, 0.07, w)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        teacher_contrastive_loss(s, t, temperature=0.0)


def test_teacher_contrastive_prefers_the_matching_target():
    rng = np.random.default_rng(7)
    t = _unit(rng, 8, 16)
    aligned = float(teacher_contrastive_loss(t, t, _unit(rng, 32, 16)))
    shuffled = float(teacher_contrastive_loss(t[::-1], t, _unit(rng, 32, 16)))
    assert aligned < shuffled


def test_cross_replica_equals_single_device():
    """Each loss on a 2-replica MirroredStrategy (logical CPUs) vs one device: values and grads.

    Runs in a subprocess: TF collectives started from inside pytest's process hang
    in this TF build, while the identical code in a plain interpreter does not.
    """
    script = os.path.join(os.path.dirname(__file__), "cross_replica_check.py")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(results) == {
        "ams", "feature", "logit", "contrastive", "xtr", "teacher_contrastive",
    }  # fmt: skip
    for name, r in results.items():
        assert r["replicas"] == 2, name
        assert r["value_diff"] < 1e-5 * max(1.0, abs(r["value"])), (name, r)
        assert r["grad_diff"] < 1e-5, (name, r)
        assert r["grad_norm"] > 1e-3, (name, r)  # gradients are not trivially zero
