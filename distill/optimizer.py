"""The run's optimizer: AdamW (row-sparse for the token table) on the warmup/decay schedule."""

from __future__ import annotations

import keras

from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.row_sparse_adamw import RowSparseAdamW
from lealla.models.distill.schedule import WarmupLinearDecay

# Variables without weight decay (BERT's recipe).
NO_DECAY = ("bias", "layer_norm", "LayerNorm", "gamma", "beta")


def make_optimizer(config: DistillConfig, progress=None) -> keras.optimizers.Optimizer:
    """The optimizer of `config`; with `progress` (a variable: the fraction of the time
    budget spent) the learning rate decays on the budget instead of the steps."""
    schedule = WarmupLinearDecay(
        config.optimizer.learning_rate,
        config.optimizer.warmup_steps,
        config.trainer.steps,
        progress=progress,
    )
    adamw = RowSparseAdamW if config.optimizer.lazy_embeddings else keras.optimizers.AdamW
    optimizer = adamw(
        learning_rate=schedule,
        weight_decay=config.optimizer.weight_decay,
        global_clipnorm=config.optimizer.clip_norm or None,
    )
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    if config.runtime.dtype_policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def scale_loss(optimizer, loss):
    """The loss as the optimizer differentiates it (scaled under a loss-scale optimizer)."""
    return optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
