"""A toy objective, to show what adding one takes: this module and one `register` line.

    total = feature_weight * mean_i (1 - cos(P p_i, t_i))

over both sides of every pair (p: the student's pooled output, P: the objective's own
projection head, t: the teacher's embedding).
"""

import keras
import tensorflow as tf
from lealla.models.distill import objective, objectives


def _heads(config, ctx: objectives.HeadContext) -> dict:
    head = keras.layers.Dense(ctx.teacher_dim, name="toy_projection")
    head.build((None, ctx.width))
    return {"toy_projection": head}


def _losses(batch, student, heads, config, step: objectives.StepContext) -> dict:
    cosines = []
    for side in ("src", "tgt"):
        out = objective.encode_side(
            student, batch[f"{side}_ids"], batch[f"{side}_length"], step.training
        )
        projected = tf.math.l2_normalize(heads["toy_projection"](out["pooled_output"]), -1)
        target = tf.cast(batch[f"{side}_emb"], tf.float32)
        cosines.append(tf.reduce_sum(projected * target, -1))
    loss = tf.reduce_mean(1.0 - tf.concat(cosines, 0))
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    share = loss / tf.cast(replicas, tf.float32)  # replica shares sum to the global loss
    return {"total": config.feature_weight * share, "cosine": share}


TOY = objectives.register(objectives.Objective(
    name="toy", weights=("feature_weight",), uses_teacher=True, needs_languages=False,
    build_heads=_heads, losses=_losses,
))  # fmt: skip
