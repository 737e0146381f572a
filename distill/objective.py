"""The training objectives on a batch: LEALLA (AMS + feature + logit distillation) and EMS
(XTR + contrastive, optionally + feature and logit distillation)."""

from __future__ import annotations

import tensorflow as tf
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.losses import (
    bidirectional_additive_margin_loss,
    bidirectional_contrastive_loss,
    bidirectional_xtr_loss,
    feature_distillation_loss,
    logit_distillation_loss,
    teacher_contrastive_loss,
)
from lealla.models.students.truncated import cut_outputs

from lealla.tokenization import packing


def lealla_losses(
    batch: dict[str, tf.Tensor],
    student,
    projection,
    config: DistillConfig,
    training: bool = True,
    bank: tf.Tensor | None = None,
    prefix_projections: dict[int, tf.keras.layers.Layer] | None = None,
) -> dict[str, tf.Tensor]:
    """Weighted LEALLA losses of one (per-replica) batch.

        total = w_ams * AMS(s_src, s_tgt)
              + w_feat * (F(P p_src, t_src) + F(P p_tgt, t_tgt))
              + w_logit * LD(s_src, s_tgt, t_src, t_tgt)
              + w_cross * (F(P p_src, t_tgt) + F(P p_tgt, t_src))
              + w_bank * (CD(P p_src; t_src, bank, h) + CD(P p_tgt; t_tgt, bank, h))

    s are the student's unit embeddings, p its pooled outputs, P the trainable
    projection to the teacher's width, t the teacher's unit embeddings, CD the
    contrastive distillation term (`teacher_contrastive_loss`). Monolingual rows
    (is_parallel false) only feed the feature and contrastive terms: of their source
    side, and of their target side when it holds a second sentence (has_target).
    Each term is this replica's share (replica values sum to the global loss).

    With Matryoshka prefixes m in config.matryoshka_dims (Kusupati et al. 2022):

        total += w_m * sum_m total(s = normalize(p[:m]), p = p[:m], P = P_m)

    every term again on the first m pooled dimensions, renormalized, with a projection
    P_m of its own; the teacher targets stay whole (the relational terms compare
    similarities, the projected ones map the prefix to the full teacher space).

    Args:
      batch: features from `lealla.models.distill.data` (ids, lengths, is_parallel) with the
        teacher's src_emb/tgt_emb (from the cache, or computed by the training step).
      student: a ThinDeepBackbone.
      projection: Dense layer to the teacher's width.
      config: loss weights and settings.
      training: dropout on.
      bank: optional [K, d_t] cached teacher embeddings (negatives of CD).
      prefix_projections: {m: P_m} for config.matryoshka_dims.

    Returns:
      {"total", "ams", "feature", "logit"} (+ "cross", "bank" when weighted, and
      "total_m" for each prefix m): float32 scalars.
    """
    src = encode_side(student, batch["src_ids"], batch["src_length"], training)
    tgt = encode_side(student, batch["tgt_ids"], batch["tgt_length"], training)
    losses = _lealla_terms(batch, src, tgt, projection, config, bank)
    for m in config.matryoshka_dims:
        prefix = _lealla_terms(
            batch, cut_outputs(src, m), cut_outputs(tgt, m), prefix_projections[m],
            config, bank,
        )  # fmt: skip
        losses[f"total_{m}"] = prefix["total"]
        losses["total"] += config.matryoshka_weight * prefix["total"]
    return losses


def _lealla_terms(batch, src, tgt, projection, config, bank) -> dict[str, tf.Tensor]:
    ams = (
        bidirectional_additive_margin_loss(
            src["sentence_embedding"], tgt["sentence_embedding"],
            scale=config.ams_scale, margin=config.ams_margin, valid=batch["is_parallel"],
        )
        if config.ams_weight
        else tf.constant(0.0)
    )  # fmt: skip
    terms = _distillation_terms(batch, src, tgt, projection, config, bank)
    total = config.ams_weight * ams + _weighted(terms, config)
    return {"total": total, "ams": ams, **terms}


def ems_losses(
    batch: dict[str, tf.Tensor],
    student,
    xtr_head,
    contrastive_head,
    config: DistillConfig,
    projection=None,
    training: bool = True,
    seed: tf.Tensor | None = None,
) -> dict[str, tf.Tensor]:
    """Weighted EMS losses of one (per-replica) batch (objectives "ems", "ems+distill").

        total = w_xtr * XTR(H(p_src, lang_tgt), H(p_tgt, lang_src); tokens)
              + w_con * InfoNCE(G p_src, G p_tgt)
              [ + w_feat * feature + w_logit * logit    for "ems+distill" ]

    p are the student's pooled (mean) outputs, H the XTR head, G the contrastive
    projection head; the distillation terms are those of `lealla_losses`. Only
    parallel rows feed XTR and InfoNCE.

    Args:
      batch: features from `lealla.models.distill.data` with "src_lang_id"/"tgt_lang_id" (and the
        teacher's src_emb/tgt_emb for "ems+distill").
      student: a ThinDeepBackbone.
      xtr_head: a `lealla.models.distill.heads.XtrHead`.
      contrastive_head: a `lealla.models.distill.heads.ProjectionHead`.
      config: objective, loss weights and settings.
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
            num_sampled=config.xtr_sampled or None, seed=seed,
        )
        if config.xtr_weight
        else zero
    )  # fmt: skip
    contrastive = (
        bidirectional_contrastive_loss(
            contrastive_head(src["pooled_output"]), contrastive_head(tgt["pooled_output"]),
            temperature=config.contrastive_temperature, valid=parallel,
        )
        if config.contrastive_weight
        else zero
    )  # fmt: skip
    losses = {"xtr": xtr, "contrastive": contrastive}
    total = config.xtr_weight * xtr + config.contrastive_weight * contrastive
    if projection is not None:  # "ems+distill"
        terms = _distillation_terms(batch, src, tgt, projection, config)
        total += _weighted(terms, config)
        losses.update(terms)
    return {"total": total, **losses}


def _weighted(terms: dict[str, tf.Tensor], config: DistillConfig) -> tf.Tensor:
    return (
        config.feature_weight * terms["feature"] + config.logit_weight * terms["logit"]
        + config.cross_weight * terms.get("cross", 0.0)
        + config.bank_weight * terms.get("bank", 0.0)
    )  # fmt: skip


def _distillation_terms(batch, src, tgt, projection, config, bank=None):
    """feature, logit, cross-lingual and contrastive terms against the teacher's embeddings."""
    teacher_src = tf.stop_gradient(tf.cast(batch["src_emb"], tf.float32))
    teacher_tgt = tf.stop_gradient(tf.cast(batch["tgt_emb"], tf.float32))
    parallel = batch["is_parallel"]
    pair_weights = tf.cast(parallel, tf.float32)
    # Target sides that hold a sentence: translations, and paired monolingual rows'.
    target_weights = tf.cast(batch.get("has_target", parallel), tf.float32)
    zero = tf.constant(0.0)
    needs_projection = config.feature_weight or config.cross_weight or config.bank_weight
    proj_src = projection(src["pooled_output"]) if needs_projection else None
    proj_tgt = projection(tgt["pooled_output"]) if needs_projection else None

    def feature_loss(student, teacher, weights=None):
        return feature_distillation_loss(
            student, teacher, kind=config.feature_kind, weights=weights
        )

    feature = (
        feature_loss(proj_src, teacher_src) + feature_loss(proj_tgt, teacher_tgt, target_weights)
        if config.feature_weight
        else zero
    )
    cross = (
        feature_loss(proj_src, teacher_tgt, pair_weights)
        + feature_loss(proj_tgt, teacher_src, pair_weights)
        if config.cross_weight
        else zero
    )
    contrastive = (
        teacher_contrastive_loss(proj_src, teacher_src, bank, temperature=config.bank_temperature)
        + teacher_contrastive_loss(
            proj_tgt, teacher_tgt, bank, temperature=config.bank_temperature,
            weights=target_weights,
        )
        if config.bank_weight
        else zero
    )  # fmt: skip
    logit = (
        logit_distillation_loss(
            src["sentence_embedding"], tgt["sentence_embedding"], teacher_src, teacher_tgt,
            scale=config.logit_scale, valid=parallel,
        )
        if config.logit_weight
        else zero
    )  # fmt: skip
    terms = {"feature": feature, "logit": logit}
    if config.cross_weight:
        terms["cross"] = cross
    if config.bank_weight:
        terms["bank"] = contrastive
    return terms


def encode_side(student, ids, lengths, training) -> dict[str, tf.Tensor]:
    """One side of a batch (ids [b, L], lengths [b]) through the student: its outputs."""
    return student(packing.batch_inputs(ids, lengths), training=training)
