"""A toy objective, to show what adding one takes: this module and one `register` call.

    total = weight * mean_i (1 - cos(P p_i, t_i)) ** power

over both sides of every pair (p: the student's pooled output, P: the objective's own
projection head, t: the teacher's embedding). Its settings (`ToySettings`) become the
config's `objective.toy` section and the `lealla distill` flags `--toy.weight` and
`--toy.power`, with no other edit.
"""

import dataclasses

import keras
import tensorflow as tf

from lealla.config.config_flags import Section, setting
from lealla.models.distill import objectives
from lealla.models.distill.objectives.distillation import encode_side


@dataclasses.dataclass(frozen=True)
class ToySettings(Section):
    weight: float = setting(1.0, "Weight of the cosine distance to the teacher.", above=0)
    power: int = setting(1, "Power of each cosine distance.", at_least=1, at_most=4)


def _heads(settings: ToySettings, ctx: objectives.HeadContext) -> dict:
    head = keras.layers.Dense(ctx.teacher_dim, name="toy_projection")
    head.build((None, ctx.width))
    return {"toy_projection": head}


def _losses(batch, student, heads, settings: ToySettings, step: objectives.StepContext) -> dict:
    distances = []
    for side in ("src", "tgt"):
        out = encode_side(student, batch[f"{side}_ids"], batch[f"{side}_length"], step.training)
        projected = tf.math.l2_normalize(heads["toy_projection"](out["pooled_output"]), -1)
        target = tf.cast(batch[f"{side}_emb"], tf.float32)
        distances.append((1.0 - tf.reduce_sum(projected * target, -1)) ** settings.power)
    loss = tf.reduce_mean(tf.concat(distances, 0))
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    share = loss / tf.cast(replicas, tf.float32)  # replica shares sum to the global loss
    return {"total": settings.weight * share, "cosine": share}


TOY = objectives.register(objectives.Objective(
    name="toy", help="the cosine distance to the teacher (a test)", settings=ToySettings,
    uses_teacher=True, needs_languages=False, build_heads=_heads, losses=_losses,
))  # fmt: skip
