"""EMS's objectives: XTR + contrastive from scratch ("ems"), and with the distillation
terms beside them ("ems+distill")."""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from lealla.config.config_flags import Section, setting
from lealla.models.distill import heads
from lealla.models.distill.losses import bidirectional_contrastive_loss, bidirectional_xtr_loss
from lealla.models.distill.losses.contrastive import (
    DEFAULT_TEMPERATURE as DEFAULT_CONTRASTIVE_TEMPERATURE,
)
from lealla.models.distill.objectives.distillation import (
    DistillationSettings,
    distillation_terms,
    encode_side,
    projection_head,
    weighted,
)
from lealla.models.distill.objectives.registry import (
    HeadContext,
    Objective,
    StepContext,
    check_terms,
    register,
)

EMS_NAME, EMS_DISTILL_NAME = "ems", "ems+distill"
DEFAULT_STUDENT = "ems_small"


@dataclasses.dataclass(frozen=True)
class EmsSettings(Section):
    """EMS's loss settings: XTR and the in-batch contrastive term."""

    xtr_weight: float = setting(1.0, "XTR weight.", at_least=0)
    xtr_sampled: int = setting(
        0,
        "XTR softmax: 0 = full vocabulary; N = the batch's target tokens + N random ids "
        "(sampled softmax for large vocabularies).",
        at_least=0,
    )
    contrastive_weight: float = setting(1.0, "InfoNCE weight.", at_least=0)
    contrastive_temperature: float = setting(
        DEFAULT_CONTRASTIVE_TEMPERATURE, "InfoNCE temperature.", above=0
    )

    def check(self) -> None:
        check_terms(EMS_NAME, self.ems_weights())

    def ems_weights(self) -> dict[str, float]:
        return {"xtr_weight": self.xtr_weight, "contrastive_weight": self.contrastive_weight}


@dataclasses.dataclass(frozen=True)
class EmsDistillSettings(EmsSettings, DistillationSettings):
    """EMS's settings and the distillation terms' (`DistillationSettings`)."""

    def check(self) -> None:
        DistillationSettings.check(self)
        check_terms(EMS_DISTILL_NAME, {**self.ems_weights(),
                                                **self.distillation_weights()})  # fmt: skip


def ems_losses(
    batch: dict[str, tf.Tensor],
    student,
    xtr_head,
    contrastive_head,
    settings: EmsSettings,
    projection=None,
    training: bool = True,
    seed: tf.Tensor | None = None,
) -> dict[str, tf.Tensor]:
    """Weighted EMS losses of one (per-replica) batch (objectives "ems", "ems+distill").

        total = w_xtr * XTR(H(p_src, lang_tgt), H(p_tgt, lang_src); tokens)
              + w_con * InfoNCE(G p_src, G p_tgt)
              [ + w_feat * feature + w_logit * logit    for "ems+distill" ]

    p are the student's pooled (mean) outputs, H the XTR head, G the contrastive
    projection head; the distillation terms are those of
    `distillation.distillation_terms`. Only parallel rows feed XTR and InfoNCE.

    Args:
      batch: features from `lealla.models.distill.data` with "src_lang_id"/"tgt_lang_id" (and the
        teacher's src_emb/tgt_emb for "ems+distill").
      student: a ThinDeepBackbone.
      xtr_head: a `lealla.models.distill.heads.XtrHead`.
      contrastive_head: a `lealla.models.distill.heads.ProjectionHead`.
      settings: loss weights and settings (`EmsDistillSettings` with a projection).
      projection: Dense layer to the teacher's width ("ems+distill" only).
      training: dropout on.
      seed: optional int [2] stateless seed of XTR's random negatives.

    Returns:
      {"total", "xtr", "contrastive"} (+ "feature", "logit"): float32 scalars.
    """
    src = encode_side(student, batch["src_ids"], batch["src_length"], training)
    tgt = encode_side(student, batch["tgt_ids"], batch["tgt_length"], training)
    parallel = batch["is_parallel"]
    zero = tf.constant(0.0)
    xtr = (
        bidirectional_xtr_loss(
            xtr_head(src["pooled_output"], batch["tgt_lang_id"]),
            xtr_head(tgt["pooled_output"], batch["src_lang_id"]),
            batch["src_ids"], batch["src_length"], batch["tgt_ids"], batch["tgt_length"],
            xtr_head.output_embeddings, xtr_head.output_bias, valid=parallel,
            num_sampled=settings.xtr_sampled or None, seed=seed,
        )
        if settings.xtr_weight
        else zero
    )  # fmt: skip
    contrastive = (
        bidirectional_contrastive_loss(
            contrastive_head(src["pooled_output"]), contrastive_head(tgt["pooled_output"]),
            temperature=settings.contrastive_temperature, valid=parallel,
        )
        if settings.contrastive_weight
        else zero
    )  # fmt: skip
    losses = {"xtr": xtr, "contrastive": contrastive}
    total = settings.xtr_weight * xtr + settings.contrastive_weight * contrastive
    if projection is not None:  # "ems+distill"
        terms = distillation_terms(batch, src, tgt, projection, settings)
        total += weighted(terms, settings)
        losses.update(terms)
    return {"total": total, **losses}


def _heads(distill: bool):
    def build(settings: EmsSettings, ctx: HeadContext) -> dict[str, Any]:
        built = {}
        if distill:
            built["projection"] = projection_head("projection", ctx.teacher_dim,
                                                          ctx.width)  # fmt: skip
        built["xtr_head"] = heads.XtrHead(
            vocabulary_size=ctx.vocabulary_size, num_languages=ctx.num_languages,
            hidden_dim=ctx.width, name="xtr_head",
        )  # fmt: skip
        built["xtr_head"].build((None, ctx.width))
        built["contrastive_head"] = heads.ProjectionHead(ctx.width, name="contrastive_head")
        built["contrastive_head"].build((None, ctx.width))
        return built

    return build


def _losses(batch, student, heads, settings: EmsSettings, step: StepContext):
    return ems_losses(
        batch, student, heads["xtr_head"], heads["contrastive_head"], settings,
        projection=heads.get("projection"), training=step.training, seed=step.seed,
    )  # fmt: skip


def _check_config(settings: EmsSettings, config) -> None:
    if settings.xtr_sampled and config.runtime.jit_compile:
        raise ValueError(
            "xtr_sampled needs jit_compile off (--noruntime.jit_compile): the sampled "
            "softmax's candidate set (tf.unique) has a data-dependent shape XLA cannot compile"
        )


EMS = register(Objective(
    name=EMS_NAME, help="XTR + contrastive from scratch, no teacher (give --student.vocab=PATH, "
    "or --teacher only to borrow its vocabulary with --student.vocab=pruned|teacher)",
    settings=EmsSettings, uses_teacher=False, needs_languages=True,
    build_heads=_heads(distill=False), losses=_losses, default_student=DEFAULT_STUDENT,
    check_config=_check_config,
))  # fmt: skip
EMS_DISTILL = register(Objective(
    name=EMS_DISTILL_NAME, help="XTR + contrastive + feature/logit distillation (a teacher "
    "or --teacher_cache, as for lealla)",
    settings=EmsDistillSettings, uses_teacher=True, needs_languages=True,
    build_heads=_heads(distill=True), losses=_losses, default_student=DEFAULT_STUDENT,
    check_config=_check_config,
))  # fmt: skip
