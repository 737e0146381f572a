"""Distillation and EMS losses: pure functions of embeddings, each with its equation documented."""

from lealla.models.distill.losses.additive_margin import bidirectional_additive_margin_loss
from lealla.models.distill.losses.contrastive import bidirectional_contrastive_loss
from lealla.models.distill.losses.feature_distillation import feature_distillation_loss
from lealla.models.distill.losses.logit_distillation import logit_distillation_loss
from lealla.models.distill.losses.teacher_contrastive import teacher_contrastive_loss
from lealla.models.distill.losses.xtr import bidirectional_xtr_loss

__all__ = [
    "bidirectional_additive_margin_loss",
    "bidirectional_contrastive_loss",
    "bidirectional_xtr_loss",
    "feature_distillation_loss",
    "logit_distillation_loss",
    "teacher_contrastive_loss",
]
