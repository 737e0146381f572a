"""LEALLA's objective: additive-margin softmax + feature + logit distillation (+ the
cross-lingual and contrastive distillation terms, and Matryoshka prefixes)."""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from lealla.config.config_flags import setting
from lealla.models.distill.losses import bidirectional_additive_margin_loss
from lealla.models.distill.losses.additive_margin import DEFAULT_MARGIN, DEFAULT_SCALE
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
from lealla.models.students.truncated import cut_outputs

NAME = "lealla"


@dataclasses.dataclass(frozen=True)
class LeallaSettings(DistillationSettings):
    """LEALLA's loss settings (the distillation terms' are `DistillationSettings`)."""

    # Small students early in training learn most from the features; the small AMS term
    # keeps a contrastive signal (benchmarks/RESULTS.md#ablations-and-decisions). The
    # LaBSE flagfiles use the paper's 1/1/1 for long accelerator runs.
    ams_weight: float = setting(0.01, "Additive-margin softmax weight.", at_least=0)
    ams_scale: float = setting(DEFAULT_SCALE, "AMS logit scale (LaBSE: 100).", above=0)
    # Cosines are at most 1: a margin of 1 or more leaves no pair ahead.
    ams_margin: float = setting(DEFAULT_MARGIN, "AMS margin (LaBSE: 0.3).", at_least=0, below=1)
    bank_size: int = setting(
        16384, "Cached teacher embeddings in the bank (runs from --teacher_cache).", at_least=0
    )
    matryoshka_dims: tuple[int, ...] = setting(
        (),
        "Embedding prefixes trained to work alone, e.g. 32,64,96: every term again on the "
        "renormalized first m dimensions, with a projection head of its own per prefix "
        "(Kusupati et al. 2022); export --dims=64 then ships a 64-dimensional model.",
        at_least=1,
    )
    # A small weight costs the full width least; the PCA rotation of `export --dims`
    # needs no training at all (benchmarks/RESULTS.md#ablations-and-decisions).
    matryoshka_weight: float = setting(
        0.1, "Weight of each prefix's loss terms relative to the full width's.", above=0
    )

    def check(self) -> None:
        super().check()
        check_terms(NAME, {"ams_weight": self.ams_weight,
                                    **self.distillation_weights()})  # fmt: skip
        dims = self.matryoshka_dims
        if any(m < 1 for m in dims) or list(dims) != sorted(set(dims)):
            raise ValueError(
                f"matryoshka_dims must be increasing positive widths, got {list(dims)}"
            )

    def check_matryoshka_width(self, width: int) -> None:
        """Every prefix must be narrower than the student's embedding."""
        too_wide = [m for m in self.matryoshka_dims if m >= width]
        if too_wide:
            raise ValueError(
                f"matryoshka_dims {too_wide} must be below the student's embedding width "
                f"{width} (the full width is always trained)"
            )


def lealla_losses(
    batch: dict[str, tf.Tensor],
    student,
    projection,
    settings: LeallaSettings,
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

    With Matryoshka prefixes m in settings.matryoshka_dims (Kusupati et al. 2022):

        total += w_m * sum_m total(s = normalize(p[:m]), p = p[:m], P = P_m)

    every term again on the first m pooled dimensions, renormalized, with a projection
    P_m of its own; the teacher targets stay whole (the relational terms compare
    similarities, the projected ones map the prefix to the full teacher space).

    Args:
      batch: features from `lealla.models.distill.data` (ids, lengths, is_parallel) with the
        teacher's src_emb/tgt_emb (from the cache, or computed by the training step).
      student: a ThinDeepBackbone.
      projection: Dense layer to the teacher's width.
      settings: loss weights and settings.
      training: dropout on.
      bank: optional [K, d_t] cached teacher embeddings (negatives of CD).
      prefix_projections: {m: P_m} for settings.matryoshka_dims.

    Returns:
      {"total", "ams", "feature", "logit"} (+ "cross", "bank" when weighted, and
      "total_m" for each prefix m): float32 scalars.
    """
    src = encode_side(student, batch["src_ids"], batch["src_length"], training)
    tgt = encode_side(student, batch["tgt_ids"], batch["tgt_length"], training)
    losses = _lealla_terms(batch, src, tgt, projection, settings, bank)
    for m in settings.matryoshka_dims:
        prefix = _lealla_terms(
            batch, cut_outputs(src, m), cut_outputs(tgt, m), prefix_projections[m],
            settings, bank,
        )  # fmt: skip
        losses[f"total_{m}"] = prefix["total"]
        losses["total"] += settings.matryoshka_weight * prefix["total"]
    return losses


def _lealla_terms(batch, src, tgt, projection, settings, bank) -> dict[str, tf.Tensor]:
    ams = (
        bidirectional_additive_margin_loss(
            src["sentence_embedding"], tgt["sentence_embedding"],
            scale=settings.ams_scale, margin=settings.ams_margin, valid=batch["is_parallel"],
        )
        if settings.ams_weight
        else tf.constant(0.0)
    )  # fmt: skip
    terms = distillation_terms(batch, src, tgt, projection, settings, bank)
    total = settings.ams_weight * ams + weighted(terms, settings)
    return {"total": total, "ams": ams, **terms}


def _heads(settings: LeallaSettings, ctx: HeadContext) -> dict[str, Any]:
    """The projection to the teacher's width, and one per Matryoshka prefix."""
    settings.check_matryoshka_width(ctx.width)
    heads = {"projection": projection_head("projection", ctx.teacher_dim, ctx.width)}
    for m in settings.matryoshka_dims:
        heads[f"projection_{m}"] = projection_head(f"projection_{m}", ctx.teacher_dim, m)
    return heads


def _losses(batch, student, heads, settings: LeallaSettings, step: StepContext):
    prefixes = {m: heads[f"projection_{m}"] for m in settings.matryoshka_dims}
    return lealla_losses(
        batch, student, heads["projection"], settings, training=step.training, bank=step.bank,
        prefix_projections=prefixes,
    )  # fmt: skip


LEALLA = register(Objective(
    name=NAME, help="distil a teacher (AMS + feature + logit distillation)",
    settings=LeallaSettings, uses_teacher=True, needs_languages=False, build_heads=_heads,
    losses=_losses, bank_size=lambda s: s.bank_size if s.bank_weight else 0,
))  # fmt: skip
