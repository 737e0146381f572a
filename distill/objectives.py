"""Training objectives behind one interface, and their registry (`--objective=NAME`).

An `Objective` says what it owns and needs, and the trainer asks it rather than testing
names: the loss weights that switch its terms on (config fields), whether batches need
the teacher's embeddings (a teacher or a teacher cache) and language ids (a language
table), its training-only heads, and its losses on a batch. Adding one is a module that
builds an `Objective` and one `register(...)` call (tests/distill/toy_objective.py).
The loss functions themselves stay pure, in `lealla.models.distill.objective`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorflow as tf
    from lealla.models.distill.distill_config import DistillConfig


@dataclasses.dataclass(frozen=True)
class HeadContext:
    """What head builders may size themselves by."""

    width: int  # the student's embedding width
    teacher_dim: int | None  # the teacher's width (objectives with teacher embeddings)
    vocabulary_size: int
    num_languages: int  # entries of the language table + 1 (0: unknown)


@dataclasses.dataclass(frozen=True)
class StepContext:
    """Per-step inputs beyond the batch."""

    training: bool = True
    bank: tf.Tensor | None = None  # cached teacher embeddings (negatives)
    seed: tf.Tensor | None = None  # int [2] stateless seed of random choices


@dataclasses.dataclass(frozen=True)
class Objective:
    """A training objective.

    Attributes:
      name: the `--objective` value.
      weights: DistillConfig fields weighting its terms (all 0: nothing to train).
      uses_teacher: batches carry the teacher's `src_emb`/`tgt_emb`.
      needs_languages: batches carry `src_lang_id`/`tgt_lang_id` (a language table).
      build_heads: (config, HeadContext) -> {checkpoint name: built keras layer}.
      losses: (batch, student, heads, config, StepContext) -> {"total", ...} scalars,
        this replica's share of the global loss.
      default_student: the student preset of a run that names none (None: the config's).
    """

    name: str
    weights: tuple[str, ...]
    uses_teacher: bool
    needs_languages: bool
    build_heads: Callable[[DistillConfig, HeadContext], dict[str, Any]]
    losses: Callable[..., dict[str, Any]]
    default_student: str | None = None


_REGISTRY: dict[str, Objective] = {}


def register(objective: Objective) -> Objective:
    """Makes `objective` available by name (a name registered twice is an error)."""
    if objective.name in _REGISTRY and _REGISTRY[objective.name] is not objective:
        raise ValueError(f"objective {objective.name!r} is registered already")
    _REGISTRY[objective.name] = objective
    return objective


def get(name: str) -> Objective:
    """The registered objective `name`; ValueError naming the known ones otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"objective must be one of {names()}, got {name!r}")
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


# The built-in objectives.


def _projection(name: str, teacher_dim: int, width: int):
    import keras

    layer = keras.layers.Dense(teacher_dim, name=name)
    layer.build((None, width))
    return layer


def _lealla_heads(config: DistillConfig, ctx: HeadContext) -> dict[str, Any]:
    """The projection to the teacher's width, and one per Matryoshka prefix."""
    config.check_matryoshka_width(ctx.width)
    heads = {"projection": _projection("projection", ctx.teacher_dim, ctx.width)}
    for m in config.matryoshka_dims:
        heads[f"projection_{m}"] = _projection(f"projection_{m}", ctx.teacher_dim, m)
    return heads


def _lealla_losses(batch, student, heads, config: DistillConfig, step: StepContext):
    from lealla.models.distill import objective

    prefixes = {m: heads[f"projection_{m}"] for m in config.matryoshka_dims}
    return objective.lealla_losses(
        batch, student, heads["projection"], config, training=step.training, bank=step.bank,
        prefix_projections=prefixes,
    )  # fmt: skip


def _ems_heads(distill: bool) -> Callable[[DistillConfig, HeadContext], dict[str, Any]]:
    def build(config: DistillConfig, ctx: HeadContext) -> dict[str, Any]:
        from lealla.models.distill import heads

        built = {}
        if distill:
            built["projection"] = _projection("projection", ctx.teacher_dim, ctx.width)
        built["xtr_head"] = heads.XtrHead(
            vocabulary_size=ctx.vocabulary_size, num_languages=ctx.num_languages,
            hidden_dim=ctx.width, name="xtr_head",
        )  # fmt: skip
        built["xtr_head"].build((None, ctx.width))
        built["contrastive_head"] = heads.ProjectionHead(ctx.width, name="contrastive_head")
        built["contrastive_head"].build((None, ctx.width))
        return built

    return build


def _ems_losses(batch, student, heads, config: DistillConfig, step: StepContext):
    from lealla.models.distill import objective

    return objective.ems_losses(
        batch, student, heads["xtr_head"], heads["contrastive_head"], config,
        projection=heads.get("projection"), training=step.training, seed=step.seed,
    )  # fmt: skip


_DISTILL_WEIGHTS = ("feature_weight", "logit_weight", "cross_weight", "bank_weight")
LEALLA = register(Objective(
    name="lealla", weights=("ams_weight", *_DISTILL_WEIGHTS), uses_teacher=True,
    needs_languages=False, build_heads=_lealla_heads, losses=_lealla_losses,
))  # fmt: skip
EMS = register(Objective(
    name="ems", weights=("xtr_weight", "contrastive_weight"), uses_teacher=False,
    needs_languages=True, build_heads=_ems_heads(distill=False), losses=_ems_losses,
    default_student="ems_small",
))  # fmt: skip
EMS_DISTILL = register(Objective(
    name="ems+distill", weights=("xtr_weight", "contrastive_weight", *_DISTILL_WEIGHTS),
    uses_teacher=True, needs_languages=True, build_heads=_ems_heads(distill=True),
    losses=_ems_losses, default_student="ems_small",
))  # fmt: skip
