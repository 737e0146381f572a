"""BUCC: file validation, threshold optimization and P/R/F1 on hand-checked cases."""

import numpy as np
import pytest

from lealla.embeddings.text_encoder import BatchEncoder
from lealla.evaluation import bucc
from lealla.files import textio
from lealla.mining import threshold


def test_optimize_threshold_hand_case():
    # Sorted scores with gold flags: 1.5 T, 1.4 T, 1.3 F, 1.2 T, 1.1 F; 4 gold pairs.
    # Cuts: (P, R) = (1, .25) (1, .5) (.67, .5) (.75, .75) (.6, .75)
    # F1 = .4, .667, .571, .75, .667 -> best at 1.2, threshold (1.2 + 1.1) / 2.
    scores = np.array([1.2, 1.5, 1.1, 1.3, 1.4])
    gold = np.array([True, True, False, False, True])
    r = threshold.optimize_threshold(scores, gold, num_gold=4)
    assert r.threshold == pytest.approx(1.15)
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.75, 0.75, 0.75))
    assert (r.extracted, r.correct) == (4, 3)
    again = threshold.evaluate_at_threshold(scores, gold, 4, r.threshold)
    assert again == r


def test_ties_are_not_split():
    # Both 1.0 candidates stay together. Splitting them would claim F1 = 1 after two;
    # the real cuts give F1 2/3 (after one) and 0.8 (after all three, P 2/3, R 1).
    r = threshold.optimize_threshold(np.array([2.0, 1.0, 1.0]), np.array([True, True, False]), 2)
    assert r.extracted == 3 and r.f1 == pytest.approx(0.8) and r.threshold == 1.0
    r = threshold.optimize_threshold(np.array([1.0]), np.array([False]), 1)
    assert r.f1 == 0.0 and r.threshold == float("inf")


@pytest.fixture
def bucc_dir(write, tmp_path):
    write("de-en.sample.de", "de-1\tHund\nde-2\tKatze\nde-3\tnur deutsch\n")
    write("de-en.sample.en", "en-1\tcat\nen-2\tdog\nen-3\tonly english\nen-4\tbird\n")
    write("de-en.sample.gold", "de-1\ten-2\nde-2\ten-1\n")
    return str(tmp_path)


VECTORS = {
    "Hund": [1, 0, 0, 0.1], "Katze": [0, 1, 0, 0.1], "nur deutsch": [0, 0, 1, 0.3],
    "dog": [1, 0.1, 0, 0.1], "cat": [0.1, 1, 0, 0.1], "only english": [0, 0.2, 0.2, 1],
    "bird": [0.2, 0.2, 0.2, 1],
}  # fmt: skip


def fake_embed(texts):
    v = np.array([VECTORS[t] for t in texts], np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


FAKE = BatchEncoder("fake", 4, fake_embed)


def test_evaluate_bucc_finds_the_gold_pairs(bucc_dir):
    report = bucc.evaluate_bucc(FAKE, bucc_dir, k=2)
    (result,) = report.results
    assert result.language == "de" and report.metric == "F1"
    assert result.score == pytest.approx(1.0)
    assert result.details["extracted"] == 2 and result.details["gold"] == 2
    fixed = bucc.evaluate_bucc(FAKE, bucc_dir, k=2, threshold=0.0).results[0]
    assert fixed.details["extracted"] > 2 and fixed.details["precision"] < 1


def test_bucc_file_errors(write, tmp_path, bucc_dir):
    write("fr-en.sample.fr", "fr-1\tchat\n")
    with pytest.raises(
        FileNotFoundError, match=r"fr-en \(sample\) is incomplete: missing .*fr-en.sample.en"
    ):
        bucc.find_language_pairs(bucc_dir, "sample")
    with pytest.raises(FileNotFoundError, match="no BUCC files of split 'training'"):
        bucc.find_language_pairs(bucc_dir, "training")
    bad = write("x/de-en.sample.de", "de-1\tHund\nde-1\tKatze\n")
    with pytest.raises(textio.CorpusError, match=r"de-en.sample.de:2: duplicate id 'de-1'"):
        bucc.read_sentences(bad)
    bad = write("x/de-en.sample.en", "en-1 cat\n")
    with pytest.raises(textio.CorpusError, match=r"de-en.sample.en:1: expected 2 tab-separated"):
        bucc.read_sentences(bad)
    gold = write("x/de-en.sample.gold", "de-1\ten-9\n")
    with pytest.raises(textio.CorpusError, match=r"gold:1: target id 'en-9' is not in the target"):
        bucc.read_gold(gold, ["de-1"], ["en-1"])
