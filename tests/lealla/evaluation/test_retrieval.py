import numpy as np
import pytest

from lealla.evaluation.retrieval import retrieval_accuracy


def test_hand_case():
    src = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    tgt = np.array([[1, 0.1], [1, 0.2], [0.9, 1]], np.float32)
    # s2t: row0 -> tgt0 (ok); row1 -> tgt2 (wrong); row2 -> tgt2 (ok)
    # t2s: tgt0 -> src0 (ok); tgt1 -> src0 (wrong); tgt2 -> src2 (ok)
    assert retrieval_accuracy(src, tgt) == pytest.approx((2 / 3, 2 / 3))


def test_errors():
    with pytest.raises(ValueError, match="expected two equal"):
        retrieval_accuracy(np.zeros((2, 3)), np.zeros((3, 3)))
