"""Learning-rate schedule: linear warmup, then linear decay to zero (BERT, LaBSE).

The decay runs on the fraction of the run done: steps done / steps, or, for a run
with a time budget (`--train_minutes`), the fraction of the budget spent, which the
trainer writes into a variable before each step.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lealla")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Warmup over `warmup_steps`, then linear decay to 0 at the end of the run.

        by steps:        lr = peak * max(0, min(step / warmup, (total - step) / (total - warmup)))
        by time budget:  lr = peak * max(0, min(step / warmup, 1 - f))

    f is the fraction of the time budget spent (`progress`, a float variable in [0, 1]).

    Args:
      peak: the learning rate reached at the end of warmup.
      warmup_steps: steps of linear increase from 0.
      total_steps: the step at which the rate reaches 0 (step mode).
      progress: a scalar float variable holding f (time-budget mode), or None.
    """

    def __init__(self, peak: float, warmup_steps: int, total_steps: int, progress=None):
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.progress = progress

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = ops.maximum(float(self.warmup_steps), 1.0)
        up = step / warmup
        if self.progress is not None:
            down = 1.0 - ops.cast(self.progress, "float32")
        else:
            decay = ops.maximum(float(self.total_steps - self.warmup_steps), 1.0)
            down = (float(self.total_steps) - step) / decay
        return self.peak * ops.maximum(ops.minimum(up, down), 0.0)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
        }
