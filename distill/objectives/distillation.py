"""The terms against the teacher's embeddings that LEALLA and EMS + distillation share:
feature, logit, cross-lingual and contrastive distillation, and their settings."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from lealla.config.config_flags import Section, setting
from lealla.models.distill.losses import (
    feature_distillation_loss,
    logit_distillation_loss,
    teacher_contrastive_loss,
)
from lealla.models.distill.losses.feature_distillation import KINDS as FEATURE_KINDS
from lealla.models.distill.losses.logit_distillation import DEFAULT_SCALE as DEFAULT_LOGIT_SCALE
from lealla.models.distill.losses.teacher_contrastive import (
    DEFAULT_TEMPERATURE as DEFAULT_BANK_TEMPERATURE,
)
from lealla.tokenization import packing


@dataclasses.dataclass(frozen=True)
class DistillationSettings(Section):
    """Weights and parameters of the distillation terms."""

    feature_weight: float = setting(1.0, "Feature distillation weight.", at_least=0)
    feature_kind: str = setting("squared_error", "Feature loss.", choices=FEATURE_KINDS)
    logit_weight: float = setting(0.0, "Logit distillation weight.", at_least=0)
    logit_scale: float = setting(DEFAULT_LOGIT_SCALE, "Logit distillation scale.", above=0)
    # The bank, its size and the cross-lingual targets were each chosen on dev
    # (benchmarks/RESULTS.md#ablations-and-decisions).
    cross_weight: float = setting(
        1.0,
        "Cross-lingual feature targets: each side of a pair also regressed onto the teacher's "
        "embedding of the other side (Reimers & Gurevych 2020).",
        at_least=0,
    )
    bank_weight: float = setting(
        1.0,
        "Contrastive distillation: find the teacher's embedding of each sentence among the "
        "batch's (lealla with --teacher_cache: and a bank of cached ones).",
        at_least=0,
    )
    bank_temperature: float = setting(
        DEFAULT_BANK_TEMPERATURE, "Contrastive distillation temperature.", above=0
    )

    def check(self) -> None:
        if self.feature_kind not in FEATURE_KINDS:
            raise ValueError(
                f"feature_kind must be one of {FEATURE_KINDS}, got {self.feature_kind!r}"
            )

    def distillation_weights(self) -> dict[str, float]:
        return {
            "feature_weight": self.feature_weight, "logit_weight": self.logit_weight,
            "cross_weight": self.cross_weight, "bank_weight": self.bank_weight,
        }  # fmt: skip


def projection_head(name: str, teacher_dim: int, width: int):
    """A built Dense layer from the student's width to the teacher's."""
    import keras

    layer = keras.layers.Dense(teacher_dim, name=name)
    layer.build((None, width))
    return layer


def weighted(terms: dict[str, tf.Tensor], settings: DistillationSettings) -> tf.Tensor:
    """The weighted sum of `distillation_terms`."""
    return (
        settings.feature_weight * terms["feature"] + settings.logit_weight * terms["logit"]
        + settings.cross_weight * terms.get("cross", 0.0)
        + settings.bank_weight * terms.get("bank", 0.0)
    )  # fmt: skip


def distillation_terms(batch, src, tgt, projection, settings: DistillationSettings, bank=None):
    """feature, logit, cross-lingual and contrastive terms against the teacher's embeddings.

    Monolingual rows (is_parallel false) feed the feature and contrastive terms only: of
    their source side, and of their target side when it holds a second sentence
    (has_target). Returns {"feature", "logit"} (+ "cross", "bank" when weighted).
    """
    teacher_src = tf.stop_gradient(tf.cast(batch["src_emb"], tf.float32))
    teacher_tgt = tf.stop_gradient(tf.cast(batch["tgt_emb"], tf.float32))
    parallel = batch["is_parallel"]
    pair_weights = tf.cast(parallel, tf.float32)
    # Target sides that hold a sentence: translations, and paired monolingual rows'.
    target_weights = tf.cast(batch.get("has_target", parallel), tf.float32)
    zero = tf.constant(0.0)
    needs_projection = settings.feature_weight or settings.cross_weight or settings.bank_weight
    proj_src = projection(src["pooled_output"]) if needs_projection else None
    proj_tgt = projection(tgt["pooled_output"]) if needs_projection else None

    def feature_loss(student, teacher, weights=None):
        return feature_distillation_loss(
            student, teacher, kind=settings.feature_kind, weights=weights
        )

    feature = (
        feature_loss(proj_src, teacher_src) + feature_loss(proj_tgt, teacher_tgt, target_weights)
        if settings.feature_weight
        else zero
    )
    cross = (
        feature_loss(proj_src, teacher_tgt, pair_weights)
        + feature_loss(proj_tgt, teacher_src, pair_weights)
        if settings.cross_weight
        else zero
    )
    contrastive = (
        teacher_contrastive_loss(proj_src, teacher_src, bank,
                                 temperature=settings.bank_temperature)
        + teacher_contrastive_loss(
            proj_tgt, teacher_tgt, bank, temperature=settings.bank_temperature,
            weights=target_weights,
        )
        if settings.bank_weight
        else zero
    )  # fmt: skip
    logit = (
        logit_distillation_loss(
            src["sentence_embedding"], tgt["sentence_embedding"], teacher_src, teacher_tgt,
            scale=settings.logit_scale, valid=parallel,
        )
        if settings.logit_weight
        else zero
    )  # fmt: skip
    terms = {"feature": feature, "logit": logit}
    if settings.cross_weight:
        terms["cross"] = cross
    if settings.bank_weight:
        terms["bank"] = contrastive
    return terms


def encode_side(student, ids, lengths, training) -> dict[str, tf.Tensor]:
    """One side of a batch (ids [b, L], lengths [b]) through the student: its outputs."""
    return student(packing.batch_inputs(ids, lengths), training=training)
