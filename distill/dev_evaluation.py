"""Dev evaluation during a run, and keeping the checkpoint that scores best on it.

Retrieval accuracy on --dev_data (also at each Matryoshka prefix) and the kNN agreement
with the teacher on --dev_mono_data (`dev_agreement`); their sum, the dev score, picks
the checkpoint kept in best/ (as Model Garden's BestCheckpointExporter does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from lealla.data import corpus
from lealla.evaluation.retrieval import pair_accuracies_by_width
from lealla.models.distill import dev_agreement
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.run_folder import RunFolder

# The scores best.json records beside the step.
BEST_SCORES = ("dev_accuracy", "dev_agreement", "dev_score")
# Dev scores -> TensorBoard tags (summaries/dev).
_TAGS = {"dev_accuracy": "retrieval_accuracy", "dev_agreement": "teacher_agreement",
         "dev_score": "score"}  # fmt: skip


def dev_score(scores: dict) -> float:
    """What the best checkpoint maximizes: dev retrieval accuracy + teacher agreement
    (each when measured). In-domain pairs saturate early in a run; the agreement keeps
    telling checkpoints apart out of domain."""
    return scores.get("dev_accuracy", 0.0) + scores.get("dev_agreement", 0.0)


def beats(scores: dict, best: dict | None) -> bool:
    """Whether `scores` (with "dev_score") beat the saved best.json record (None: none yet)."""
    return best is None or scores["dev_score"] > best["dev_score"]


class BestCheckpointKeeper:
    """Keeps in best/ the checkpoint (`checkpoint`: the student and its heads) of the step
    with the highest dev score, and its scores in best.json."""

    def __init__(self, folder: RunFolder, checkpoint: tf.train.Checkpoint):
        self.folder = folder
        self.manager = folder.best_manager(checkpoint)

    def offer(self, step: int, scores: dict) -> bool:
        """Saves the checkpoint of `step` if `scores` beat the kept one; whether it did."""
        if not beats(scores, self.folder.read_best()):
            return False
        self.manager.save(checkpoint_number=step)
        self.folder.write_best({"step": step, **{k: scores[k] for k in BEST_SCORES if k in scores}})
        return True


class DevEvaluator:
    """Scores the student on the run's dev data, logs it, and offers it to the keeper.

    Args:
      dev: the parallel dev pairs by language pair (`corpus.parallel_groups`).
      dev_mono: the agreement signal (None without --dev_mono_data).
      matryoshka_dims: the prefixes also scored.
      encode: the student (strings -> [n, d] unit rows).
      folder: the run's folder (summaries/dev).
      keeper: keeps the best checkpoint.
    """

    def __init__(
        self,
        dev: dict,
        dev_mono: dev_agreement.DevAgreement | None,
        matryoshka_dims: Sequence[int],
        encode: Callable[[Sequence[str]], np.ndarray],
        folder: RunFolder,
        keeper: BestCheckpointKeeper,
    ):
        self.dev, self.dev_mono, self.matryoshka_dims = dev, dev_mono, tuple(matryoshka_dims)
        self.encode, self.folder, self.keeper = encode, folder, keeper

    @classmethod
    def for_run(
        cls, config: DistillConfig, folder: RunFolder, encode, teacher, keeper
    ) -> DevEvaluator:
        """The evaluator of `config`'s dev data (the teacher embeds --dev_mono_data on the
        first start)."""
        dev = corpus.parallel_groups(config.data.dev_data, config.data.on_bad_line)
        dev_mono = dev_agreement.prepare(
            config.data.dev_mono_data, config.data.on_bad_line, folder.path, teacher
        )
        return cls(dev, dev_mono, config.matryoshka_dims, encode, folder, keeper)

    @property
    def has_data(self) -> bool:
        return bool(self.dev or self.dev_mono)

    def evaluate(self, step: int) -> dict:
        """Dev retrieval accuracy and teacher agreement at `step` ({} without dev data);
        keeps the checkpoint if its dev score is the best yet."""
        if not self.has_data:
            return {}
        out: dict = {}
        if self.dev:
            # Matryoshka prefixes too, each renormalized; every text list is encoded once.
            widths = pair_accuracies_by_width(self.encode, self.dev, (None, *self.matryoshka_dims))
            per_group = widths.pop(None)
            out["dev_accuracy"] = float(np.mean(list(per_group.values())))
            out["dev_per_group"] = per_group
            logging.info(
                "step %d: dev retrieval accuracy %.4f %s", step, out["dev_accuracy"], per_group
            )
            if widths:
                by_dims = {str(m): float(np.mean(list(v.values()))) for m, v in widths.items()}
                out["dev_accuracy_by_dims"] = by_dims
                logging.info("step %d: dev retrieval accuracy by prefix %s", step, by_dims)
        if self.dev_mono:
            out["dev_agreement"] = self.dev_mono.score(self.encode)
            logging.info("step %d: dev kNN@10 agreement with the teacher %.4f", step,
                         out["dev_agreement"])  # fmt: skip
        out["dev_score"] = dev_score(out)
        self._summarize(step, out)
        self.keeper.offer(step, out)
        return out

    def _summarize(self, step: int, scores: dict) -> None:
        with self.folder.summary_writer("dev").as_default(step=step):
            for name, tag in _TAGS.items():
                if name in scores:
                    tf.summary.scalar(tag, scores[name])
            for m, value in scores.get("dev_accuracy_by_dims", {}).items():
                tf.summary.scalar(f"retrieval_accuracy_{m}d", value)
