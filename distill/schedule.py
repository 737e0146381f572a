"""Learning-rate schedule: linear warmup, then linear decay to zero (BERT, LaBSE)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lealla")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = peak * min(step / warmup, (total - step) / (total - warmup)), >= 0.

    Args:
      peak: the learning rate reached at the end of warmup.
      warmup_steps: steps of linear increase from 0.
      total_steps: the step at which the rate reaches 0.
    """

    def __init__(self, peak: float, warmup_steps: int, total_steps: int):
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = ops.maximum(float(self.warmup_steps), 1.0)
        decay = ops.maximum(float(self.total_steps - self.warmup_steps), 1.0)
        up = step / warmup
        down = (float(self.total_steps) - step) / decay
        return self.peak * ops.maximum(ops.minimum(up, down), 0.0)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
        }
