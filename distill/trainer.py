"""The training loop: the distributed step, the NaN guard, checkpoints, logs, evaluation.

One loop for every objective (LEALLA distillation, EMS, EMS + distillation). What it
trains is built by `training_state`; the run folder (`run_folder`, files named in
`lealla.records.run_layout`), the time budget (`time_budget`) and the dev evaluation
with the best checkpoint (`dev_evaluation`) are their own modules.
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf
from absl import logging

from lealla.models.distill import objectives, training_state
from lealla.models.distill.dev_evaluation import BestCheckpointKeeper, DevEvaluator
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.optimizer import scale_loss
from lealla.models.distill.run_folder import RunFolder
from lealla.models.distill.time_budget import BudgetClock
from lealla.models.students.sentence_encoder import SentenceEncoder
from lealla.ui import console
from lealla.ui.progress import Progress, format_seconds


class DivergedError(FloatingPointError):
    """The loss or the gradients became NaN/Inf; no checkpoint was written after it."""


class Distiller:
    """Trains a student as `config` says (from a teacher, or EMS), in `model_dir`, resumably.

    Args:
      config: the run.
      model_dir: where the run lives; an existing run there is resumed.
      strategy: a tf.distribute strategy (see `lealla.models.distill.strategy.make_strategy`).
      teacher: an already loaded teacher (else loaded from config.teacher.name when the
        run needs one: distillation terms, or a vocabulary borrowed from it).
    """

    def __init__(self, config: DistillConfig, model_dir: str, strategy, teacher=None):
        self.config, self.model_dir, self.strategy = config, model_dir, strategy
        self.objective = objectives.get(config.objective.name)
        self.folder = RunFolder(model_dir)
        state = training_state.build(config, self.folder, strategy, self.objective, teacher)
        # The built parts by name: the loop, tests and benchmarks read them.
        self.state, self.teacher, self.tokenizer = state, state.teacher, state.tokenizer
        self.packer, self.student_config = state.packer, state.student_config
        self.student, self.heads = state.student, state.heads
        self.projection = state.heads.get("projection")
        self.optimizer, self.variables, self.step = state.optimizer, state.variables, state.step
        self.elapsed, self.iterator, self.manager = state.elapsed, state.iterator, state.manager
        self.resumed_from = state.resumed_from
        self.history: list[tuple[int, float]] = []  # (step, total loss) of this process
        self.encoder = SentenceEncoder(self.tokenizer, self.student, config.data.seq_length)
        keeper = BestCheckpointKeeper(
            self.folder, tf.train.Checkpoint(student=self.student, **self.heads)
        )
        self.evaluator = DevEvaluator.for_run(
            config, self.folder, self.encoder.encode, self.teacher, keeper
        )
        in_loop = config.uses_teacher_embeddings and not config.teacher.cache
        self._train_step = self._make_train_step(self.teacher.embed if in_loop else None)

    def evaluate(self, step: int) -> dict:
        """Dev retrieval accuracy and teacher agreement; keeps the best checkpoint."""
        return self.evaluator.evaluate(step)

    def train(self) -> dict:
        """Runs until config.trainer.steps or the time budget; returns the final metrics
        (metrics.json)."""
        config, start = self.config, int(self.step.numpy())
        budget = config.trainer.train_minutes * 60.0
        if self.resumed_from is not None:
            message = f"resumed from step {self.resumed_from}"
            if budget:
                message += f" ({format_seconds(float(self.elapsed.numpy()))} of the budget spent)"
            logging.info(message)
            print(message, flush=True)
        steps = (f"budget {format_seconds(budget)} (at most {config.trainer.steps} steps)" if budget
                 else f"steps {start}..{config.trainer.steps}")  # fmt: skip
        console.stage(
            f"training (objective {config.objective.name}, teacher "
            f"{config.teacher.name or 'none'}) -> {self.model_dir}: global batch "
            f"{config.data.batch_size} on "
            f"{self.strategy.num_replicas_in_sync} replica(s), {steps}, student "
            f"{self.student_config.preset} ({self.student.count_params():,} params), vocab "
            f"{self.tokenizer.vocab_size}"
        )
        self._losses: dict[str, float] = {}
        clock = BudgetClock(float(self.elapsed.numpy()), budget)
        if budget and self.evaluator.has_data:
            # Measures what the final evaluation will cost (traced first: that is paid
            # once), so the run can stop in time.
            self.encoder.encode(["trace"])
            with clock.timing_evaluation():
                self.evaluate(start)
        try:
            self._loop(clock, start, total=None if budget else config.trainer.steps - start)
        except KeyboardInterrupt:
            step = int(self.step.numpy())
            if step > start:
                self.manager.save(checkpoint_number=step)
            raise KeyboardInterrupt(
                f"interrupted at step {step}, checkpoint saved; rerun the same command to resume"
                if step > start
                else "interrupted before the first step; nothing was saved"
            ) from None
        step = int(self.step.numpy())
        metrics = {"step": step, "losses": self._losses, **self.evaluate(step)}
        metrics["train_seconds"] = round(float(self.elapsed.numpy()), 1)
        self.folder.write_metrics(metrics)
        return metrics

    def _loop(self, clock: BudgetClock, start: int, total: int | None) -> None:
        config, budget = self.config, clock.budget
        writer = self.folder.summary_writer("train")
        tick, tick_step = time.perf_counter(), start
        with Progress("training", total=total, unit="steps") as bar:
            while int(self.step.numpy()) < config.trainer.steps and not clock.over():
                self.state.progress.assign(clock.fraction())
                values = self._train_step(next(self.iterator))
                step = int(self.step.numpy())
                losses = {k: float(v) for k, v in values.items() if k != "nonfinite"}
                self._losses = losses
                if float(values["nonfinite"]) > 0:
                    raise DivergedError(
                        f"loss diverged at step {step} ({losses}); the last good checkpoint is "
                        f"{self.manager.latest_checkpoint or 'none'}. Lower "
                        f"--optimizer.learning_rate, keep --optimizer.clip_norm on, or try "
                        f"--runtime.dtype_policy=float32."
                    )
                self.history.append((step, losses["total"]))
                clock.step_done()
                self.elapsed.assign(clock.elapsed())
                left = f", {format_seconds(clock.left())} left" if budget else ""
                bar.update(1, postfix=f"loss {losses['total']:.4f}{left}")
                last = step == config.trainer.steps or clock.over()
                if step % config.trainer.log_every == 0 or last:
                    rate = (
                        (step - tick_step) * config.data.batch_size / (time.perf_counter() - tick)
                    )
                    tick, tick_step = time.perf_counter(), step
                    self._log_train(writer, step, losses, rate, clock)
                if step % config.trainer.checkpoint_every == 0 or last:
                    self.manager.save(checkpoint_number=step)
                if config.trainer.eval_every and step % config.trainer.eval_every == 0 and not last:
                    with clock.timing_evaluation():
                        self.evaluate(step)

    def _make_train_step(self, teacher_embed):
        config, strategy = self.config, self.strategy

        def losses_and_grads(batch):
            with tf.GradientTape() as tape:
                step = objectives.StepContext(
                    training=True, bank=self.state.bank,
                    seed=tf.stack([tf.constant(config.trainer.seed, tf.int64), self.step]),
                )  # fmt: skip
                losses = self.objective.losses(
                    batch, self.student, self.heads, config.objective.settings, step
                )
                scaled = scale_loss(self.optimizer, losses["total"])
            return losses, tape.gradient(scaled, self.variables)

        # XLA fuses the many small ops of a thin-deep student (one replica only: the
        # cross-replica gathers of the losses stay outside compiled code).
        if config.runtime.jit_compile and strategy.num_replicas_in_sync == 1:
            losses_and_grads = tf.function(losses_and_grads, jit_compile=True)

        loss_scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)

        def replica_step(batch):
            if teacher_embed is not None:  # strings stay outside the compiled part
                batch = {
                    **{k: v for k, v in batch.items() if k not in ("src", "tgt")},
                    "src_emb": teacher_embed(batch["src"]),
                    "tgt_emb": teacher_embed(batch["tgt"]),
                }
            losses, grads = losses_and_grads(batch)
            finite = tf.math.is_finite(losses["total"])
            if not loss_scaled:
                finite &= tf.math.is_finite(
                    tf.linalg.global_norm([g for g in grads if g is not None])
                )
            # With a loss scale, overflowing (scaled) gradients are the optimizer's
            # business: it skips the step and lowers the scale.
            self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
            return {**losses, "nonfinite": 1.0 - tf.cast(finite, tf.float32)}

        @tf.function(reduce_retracing=True)
        def train_step(batch):
            per_replica = strategy.run(replica_step, args=(batch,))
            # Each replica returns its share of the global loss: the sum is the loss.
            reduced = {
                k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()
            }
            self.step.assign_add(1)
            return reduced

        return train_step

    def _log_train(self, writer, step, losses, rate, clock):
        lr = float(self.optimizer.learning_rate)
        if clock.budget:
            remaining, of = clock.left(), ""
        else:
            remaining = (
                (self.config.trainer.steps - step) * self.config.data.batch_size / max(rate, 1e-9)
            )
            of = f"/{self.config.trainer.steps}"
        logging.info(
            "step %d%s: %s, lr %.2e, %.1f examples/s, ETA %s", step, of,
            ", ".join(f"{k} {v:.4f}" for k, v in losses.items()), lr, rate,
            format_seconds(remaining),
        )  # fmt: skip
        with writer.as_default(step=step):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            tf.summary.scalar("learning_rate", lr)
            tf.summary.scalar("examples_per_second", rate)
