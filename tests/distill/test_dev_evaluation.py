"""Dev evaluation during a run and the best checkpoint it keeps."""

import json

import numpy as np
import tensorflow as tf

from lealla.models.distill import dev_evaluation
from lealla.models.distill.run_folder import RunFolder


def test_the_best_checkpoint_maximizes_accuracy_plus_agreement():
    early = {"dev_accuracy": 0.992, "dev_agreement": 0.348}
    late = {"dev_accuracy": 0.991, "dev_agreement": 0.373}
    for scores in (early, late):
        scores["dev_score"] = dev_evaluation.dev_score(scores)
    assert dev_evaluation.beats(late, {"step": 1, **early})
    assert not dev_evaluation.beats(early, {"step": 2, **late})
    assert dev_evaluation.beats(early, None)
    assert dev_evaluation.dev_score({"dev_accuracy": 0.5}) == 0.5


def _keeper(path):
    weights = tf.Variable([0.0])
    return weights, dev_evaluation.BestCheckpointKeeper(
        RunFolder(str(path)), tf.train.Checkpoint(student=weights)
    )


def test_the_keeper_keeps_only_a_better_step_and_survives_a_restart(tmp_path):
    weights, keeper = _keeper(tmp_path)
    assert keeper.offer(10, {"dev_accuracy": 0.5, "dev_per_group": {"de-en": 0.5},
                             "dev_score": 0.5})  # fmt: skip
    weights.assign([1.0])
    assert not keeper.offer(20, {"dev_accuracy": 0.4, "dev_score": 0.4})
    best = json.loads((tmp_path / "best" / "best.json").read_text())
    assert best == {"step": 10, "dev_accuracy": 0.5, "dev_score": 0.5}
    # A resumed run compares against the saved record, not a fresh start.
    weights, again = _keeper(tmp_path)
    assert not again.offer(30, {"dev_score": 0.45})
    assert again.offer(40, {"dev_score": 0.6})
    assert again.manager.latest_checkpoint.endswith("ckpt-40")
    assert json.loads((tmp_path / "best" / "best.json").read_text())["step"] == 40


def test_the_evaluator_scores_retrieval_at_each_prefix_and_offers_it(tmp_path):
    texts = [f"sentence {i}" for i in range(6)]
    dev = {"de-en": (texts, texts)}
    rows = np.eye(8, dtype=np.float32)

    def encode(batch):
        return rows[[texts.index(t) for t in batch]]

    _, keeper = _keeper(tmp_path)
    evaluator = dev_evaluation.DevEvaluator(dev, None, (4,), encode, RunFolder(str(tmp_path)),
                                            keeper)  # fmt: skip
    scores = evaluator.evaluate(5)
    assert scores["dev_accuracy"] == 1.0 and scores["dev_score"] == 1.0
    assert set(scores["dev_accuracy_by_dims"]) == {"4"}
    assert json.loads((tmp_path / "best" / "best.json").read_text())["step"] == 5
    assert (tmp_path / "summaries" / "dev").is_dir()
    empty = dev_evaluation.DevEvaluator({}, None, (), encode, RunFolder(str(tmp_path)), keeper)
    assert not empty.has_data and empty.evaluate(6) == {}
