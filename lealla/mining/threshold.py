"""The margin threshold of mined pairs: F1-optimal on gold pairs (BUCC, a calibration
sample), and precision/recall/F1 at a given threshold."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ThresholdResult:
    """Precision, recall and F1 of the candidates scoring >= threshold.

    Attributes:
      threshold: the margin threshold.
      precision, recall, f1: in [0, 1].
      extracted: candidates kept; correct: how many of them are gold pairs.
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    extracted: int
    correct: int


def optimize_threshold(scores: np.ndarray, is_gold: np.ndarray, num_gold: int) -> ThresholdResult:
    """The threshold that maximizes F1 of the candidates scoring >= it (LASER's BUCC
    evaluation): candidates sorted by descending score, F1 at every distinct score,

        P = correct / extracted,  R = correct / num_gold,  F1 = 2PR / (P + R),

    and the threshold set halfway between the best cut's last score and the next one.

    Args:
      scores: float [c] candidate scores.
      is_gold: bool [c], whether each candidate is a gold pair.
      num_gold: the number of gold pairs (recall's denominator; may exceed c).

    Returns:
      The best ThresholdResult (threshold +inf and zeros when nothing is correct).
    """
    if num_gold <= 0:
        raise ValueError(f"num_gold must be positive, got {num_gold}")
    order = np.argsort(-scores, kind="stable")
    s, g = np.asarray(scores)[order], np.asarray(is_gold, bool)[order]
    extracted = np.arange(1, len(s) + 1)
    correct = np.cumsum(g)
    # Only cut at the end of a run of equal scores: a threshold cannot split ties.
    cut = np.append(s[1:] != s[:-1], True) if len(s) else np.zeros(0, bool)
    precision = correct / extracted
    recall = correct / num_gold
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(correct > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(cut, f1, -1.0)
    if not len(s) or f1.max() <= 0:
        return ThresholdResult(float("inf"), 0.0, 0.0, 0.0, 0, 0)
    best = int(f1.argmax())
    threshold = (s[best] + s[best + 1]) / 2 if best + 1 < len(s) else s[best]
    return ThresholdResult(
        float(threshold),
        float(precision[best]),
        float(recall[best]),
        float(f1[best]),
        int(extracted[best]),
        int(correct[best]),
    )


def evaluate_at_threshold(
    scores: np.ndarray, is_gold: np.ndarray, num_gold: int, threshold: float
) -> ThresholdResult:
    """Precision, recall and F1 of the candidates scoring >= `threshold`."""
    keep = np.asarray(scores) >= threshold
    extracted, correct = int(keep.sum()), int(np.asarray(is_gold, bool)[keep].sum())
    precision = correct / extracted if extracted else 0.0
    recall = correct / num_gold
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return ThresholdResult(float(threshold), precision, recall, f1, extracted, correct)
