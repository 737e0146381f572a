"""The training loop: distributed steps, checkpoints and resumption, NaN guard, evaluation.

One loop for every objective (LEALLA distillation, EMS, EMS + distillation).

model_dir layout:
  distill_config.json, student_config.json, tokenizer/   the run's definition
  distill_command.txt the `lealla distill` command of those settings (export records it)
  languages.json      the language table of the XTR head (EMS objectives)
  checkpoints/        latest checkpoints: `student` (the encoder export restores), the
                      heads `projection` / `xtr_head` / `contrastive_head` (training
                      only), optimizer, step, data
  best/               the checkpoint with the best dev score, best.json: dev retrieval
                      accuracy, + the teacher agreement on --data.dev_mono_data when given
  dev_mono_teacher.npz  the teacher's embeddings of --data.dev_mono_data (first start)
  summaries/          TensorBoard (train/ and dev/)
  metrics.json        the final step's losses and dev accuracy
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from lealla.models.distill import data, dev_agreement, objectives, student_setup
from lealla.models.distill.distill_config import RESUMABLE_CHANGES, DistillConfig
from lealla.models.distill.row_sparse_adamw import RowSparseAdamW
from lealla.models.distill.schedule import WarmupLinearDecay
from lealla.models.distill.training_corpus import TrainingCorpus
from lealla.models.students.sentence_encoder import SentenceEncoder

from lealla.data import corpus
from lealla.evaluation.retrieval import pair_accuracies_by_width
from lealla.files import atomic
from lealla.records import run_layout
from lealla.tokenization import packing
from lealla.ui import console
from lealla.ui.progress import Progress, format_seconds

CONFIG_FILE = run_layout.RUN_CONFIG
_NO_DECAY = ["bias", "layer_norm", "LayerNorm", "gamma", "beta"]


class DivergedError(FloatingPointError):
    """The loss or the gradients became NaN/Inf; no checkpoint was written after it."""


def _restore_newest_intact(
    checkpoint: tf.train.Checkpoint, manager: tf.train.CheckpointManager
) -> str:
    """Restores the newest checkpoint that reads back whole (a kill while saving, a full
    disk or a copy cut short can leave the newest truncated) and says when it fell back.

    Raises:
      ValueError: no checkpoint of the run is readable (naming them).
    """
    damaged = []
    for path in reversed(manager.checkpoints):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
        except (IndexError, tf.errors.OpError) as e:  # truncated .data / .index files
            damaged.append(f"{path} ({str(e).strip().splitlines()[0]})")
            continue
        if damaged:
            logging.warning(
                "checkpoint(s) %s damaged: resuming from the newest intact one, %s",
                "; ".join(damaged), path,
            )  # fmt: skip
        return path
    raise ValueError(
        f"no readable checkpoint in {manager.directory}: {'; '.join(damaged)}; remove that "
        f"folder to start the run over"
    )


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
        self.config = config
        self.model_dir = model_dir
        self.strategy = strategy
        self.objective = objectives.get(config.objective.name)
        _check_inputs(config)  # before anything is written to model_dir
        os.makedirs(model_dir, exist_ok=True)
        _check_or_save_config(config, model_dir)
        self._load_teacher(teacher)
        vocabulary = self._prepare_vocabulary()
        self._build_model()
        self.iterator = self._make_iterator(seed_offset=0)
        iterator_saved = self._make_checkpoints()
        self._restore_or_initialize(iterator_saved, vocabulary)
        self.encoder = SentenceEncoder(self.tokenizer, self.student, config.data.seq_length)
        self._prepare_step_inputs()

    def _load_teacher(self, teacher) -> None:
        """The given teacher, or the config's when a step or the vocabulary needs it."""
        config = self.config
        if teacher is None and _needs_teacher(config, self.model_dir):
            from lealla.models.teachers import loading

            teacher = loading.load_teacher(
                config.teacher.name, preprocessor=config.teacher.preprocessor,
                format=config.teacher.format, seq_length=config.teacher.seq_length,
            )  # fmt: skip
        self.teacher = teacher
        self.teacher_dim = _teacher_dim(config, teacher)

    def _prepare_vocabulary(self):
        """Tokenizer, language table and packer (saved in model_dir on the first start);
        returns the vocabulary (teacher ids of its tokens, token counts) for the init."""
        config = self.config
        # One pass over the training files serves the vocabulary, a static student's
        # token counts, the language table and the input pipeline.
        self.training = TrainingCorpus(config.data.train_data, config.data.on_bad_line)
        vocabulary = student_setup.prepare_vocabulary(
            config, self.teacher, self.model_dir, self.training,
            with_counts=self._initializes_static_student(),
        )  # fmt: skip
        self.tokenizer = vocabulary.tokenizer
        self.languages = (
            student_setup.prepare_languages(config, self.model_dir, self.training)
            if self.objective.needs_languages
            else None
        )
        self.packer = packing.Packer(self.tokenizer, config.data.seq_length)
        return vocabulary

    def _initializes_static_student(self) -> bool:
        """Whether this start initializes a static student from the teacher (SIF counts)."""
        config = self.config
        return (
            config.student.init_from_teacher
            and not config.student.init_from
            and self.teacher is not None
            and student_setup.student_config_for(config, vocabulary_size=1).kind == "static"
            and tf.train.latest_checkpoint(os.path.join(self.model_dir, "checkpoints")) is None
        )

    def _build_model(self) -> None:
        """Student, the objective's heads, optimizer and counters, in the strategy's scope."""
        config = self.config
        self.student_config = student_setup.student_config(
            config, self.tokenizer.vocab_size, self.model_dir
        )
        with self.strategy.scope():
            keras.utils.set_random_seed(config.trainer.seed)
            self.student = self.student_config.build()
            self.heads = self._build_heads()
            self.projection = self.heads.get("projection")
            # Fraction of the time budget spent (read by the schedule), and the training
            # seconds spent so far (checkpointed, so a resumed run continues the budget).
            self.progress = tf.Variable(0.0, trainable=False, name="budget_progress")
            self.elapsed = tf.Variable(
                0.0, dtype=tf.float64, trainable=False, name="elapsed_seconds"
            )
            budget = self.progress if config.trainer.train_minutes else None
            self.optimizer = _optimizer(config, budget)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.variables = list(self.student.trainable_variables) + [
                v for head in self.heads.values() for v in head.trainable_variables
            ]
            self.optimizer.build(self.variables)

    def _make_checkpoints(self) -> bool:
        """The training checkpoint and the best-on-dev one; whether the iterator is saved."""
        config = self.config
        # The backbone is `student`; the heads have their own names, so export can
        # restore the encoder alone.
        state = {
            "student": self.student, **self.heads, "optimizer": self.optimizer, "step": self.step,
            "elapsed": self.elapsed,
        }  # fmt: skip
        iterator_saved = False
        if config.teacher.cache:
            # The iterator's state holds its shuffle buffers: with cached teacher
            # embeddings that is most of a checkpoint, several times the weights, so it
            # is not saved; a resumed run reshuffles with seed + step.
            self.checkpoint = tf.train.Checkpoint(**state)
        else:
            try:
                self.checkpoint = tf.train.Checkpoint(**state, iterator=self.iterator)
                iterator_saved = True
            except ValueError:  # MirroredStrategy's distributed iterators are not trackable
                self.checkpoint = tf.train.Checkpoint(**state)
                logging.warning(
                    "%s cannot checkpoint its input iterator: a resumed run reshuffles its "
                    "data with seed + step instead of continuing the exact stream",
                    type(self.strategy).__name__,
                )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint,
            os.path.join(self.model_dir, "checkpoints"),
            config.trainer.keep_checkpoints,
        )
        self.best = tf.train.CheckpointManager(
            tf.train.Checkpoint(student=self.student, **self.heads),
            os.path.join(self.model_dir, "best"), max_to_keep=1,
        )  # fmt: skip
        return iterator_saved

    def _restore_or_initialize(
        self, iterator_saved: bool, vocabulary: student_setup.Vocabulary
    ) -> None:
        """Resumes from the newest intact checkpoint, or starts from the teacher's tables."""
        config, teacher = self.config, self.teacher
        self.resumed_from = None
        self.history: list[tuple[int, float]] = []  # (step, total loss) of this process
        if self.manager.latest_checkpoint:
            _restore_newest_intact(self.checkpoint, self.manager)
            self.resumed_from = int(self.step.numpy())
            if not iterator_saved:
                self.iterator = self._make_iterator(seed_offset=self.resumed_from)
        elif config.student.init_from:
            student_setup.restore_from_run(config.student.init_from, self.student, self.heads)
        elif config.student.init_from_teacher and teacher is not None:
            if self.student_config.kind == "static":
                student_setup.init_static_from_teacher(
                    self.student, teacher, self.tokenizer, vocabulary.token_counts
                )
            else:
                student_setup.init_from_teacher(
                    self.student,
                    teacher,
                    vocabulary.old_ids,
                    self.tokenizer,
                    config.student.token_init,
                )

    def _prepare_step_inputs(self) -> None:
        """The bank of negatives, the dev pairs and the compiled train step."""
        config = self.config
        # Cached teacher embeddings of other sentences as extra negatives (cache-fed runs;
        # with the teacher in the loop the term uses the batch's teacher embeddings only).
        bank_size = self.objective.bank_size(config.objective.settings)
        self.bank = (
            tf.constant(data.teacher_bank(config, bank_size))
            if bank_size and config.teacher.cache
            else None
        )
        self._dev = corpus.parallel_groups(config.data.dev_data, config.data.on_bad_line)
        self._dev_mono = dev_agreement.prepare(
            config.data.dev_mono_data, config.data.on_bad_line, self.model_dir, self.teacher
        )
        in_loop = config.uses_teacher_embeddings and not config.teacher.cache
        self._train_step = self._make_train_step(self.teacher.embed if in_loop else None)

    def _build_heads(self) -> dict[str, keras.layers.Layer]:
        """The objective's training-only heads, by checkpoint name (built, in scope)."""
        context = objectives.HeadContext(
            width=self.student_config.embedding_dim, teacher_dim=self.teacher_dim,
            vocabulary_size=self.tokenizer.vocab_size,
            num_languages=len(self.languages or ()) + 1,
        )  # fmt: skip
        return self.objective.build_heads(self.config.objective.settings, context)

    def _make_iterator(self, seed_offset: int):
        config = self.config
        index = None if config.teacher.cache else self.training.index()
        dataset = self.strategy.distribute_datasets_from_function(
            data.train_dataset_fn(config, self.packer, seed_offset, self.languages, index)
        )
        return iter(dataset)

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
        steps = (f"budget {format_seconds(budget)} (at most {config.trainer.steps} steps)"
                 if budget else f"steps {start}..{config.trainer.steps}")  # fmt: skip
        console.stage(
            f"training (objective {config.objective.name}, teacher "
            f"{config.teacher.name or 'none'}) -> {self.model_dir}: global batch "
            f"{config.data.batch_size} on {self.strategy.num_replicas_in_sync} replica(s), "
            f"{steps}, student {self.student_config.preset} "
            f"({self.student.count_params():,} params), vocab "
            f"{self.tokenizer.vocab_size}"
        )
        writer = tf.summary.create_file_writer(os.path.join(self.model_dir, "summaries", "train"))
        self._losses: dict[str, float] = {}
        clock = _BudgetClock(float(self.elapsed.numpy()), budget)
        total = None if budget else config.trainer.steps - start
        if budget and (self._dev or self._dev_mono):
            # Measures what the final evaluation will cost (traced first: that is paid
            # once), so the run can stop in time.
            self.encoder.encode(["trace"])
            with clock.timing_evaluation():
                self.evaluate(start)
        try:
            self._loop(writer, clock, start, total)
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
        atomic.atomic_write_text(
            os.path.join(self.model_dir, "metrics.json"), json.dumps(metrics, indent=2)
        )
        return metrics

    def _loop(self, writer, clock: _BudgetClock, start: int, total: int | None) -> None:
        config, budget = self.config, clock.budget
        tick, tick_step = time.perf_counter(), start
        with Progress("training", total=total, unit="steps") as bar:
            while int(self.step.numpy()) < config.trainer.steps and not clock.over():
                self.progress.assign(clock.fraction())
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
                    examples = (step - tick_step) * config.data.batch_size
                    rate = examples / (time.perf_counter() - tick)
                    tick, tick_step = time.perf_counter(), step
                    self._log_train(writer, step, losses, rate, clock)
                if step % config.trainer.checkpoint_every == 0 or last:
                    self.manager.save(checkpoint_number=step)
                if config.trainer.eval_every and step % config.trainer.eval_every == 0 and not last:
                    with clock.timing_evaluation():
                        self.evaluate(step)

    def evaluate(self, step: int) -> dict:
        """Dev retrieval accuracy (--dev_data) and teacher agreement (--data.dev_mono_data);
        keeps the checkpoint with the best `dev_agreement.dev_score`."""
        if not self._dev and not self._dev_mono:
            return {}
        out: dict = {}
        writer = tf.summary.create_file_writer(os.path.join(self.model_dir, "summaries", "dev"))
        if self._dev:
            # Matryoshka prefixes too, each renormalized; every text list is encoded once.
            widths = pair_accuracies_by_width(
                self.encoder.encode, self._dev, (None, *self.config.matryoshka_dims)
            )
            per_group = widths.pop(None)
            out["dev_accuracy"] = float(np.mean(list(per_group.values())))
            out["dev_per_group"] = per_group
            logging.info(
                "step %d: dev retrieval accuracy %.4f %s", step, out["dev_accuracy"], per_group
            )
            if widths:
                by_dims = {str(m): float(np.mean(list(v.values()))) for m, v in widths.items()}
                out["dev_accuracy_by_dims"] = by_dims
                logging.info("step %d: dev retrieval accuracy by prefix %s", step, by_dims)
        if self._dev_mono:
            out["dev_agreement"] = self._dev_mono.score(self.encoder.encode)
            logging.info("step %d: dev kNN@10 agreement with the teacher %.4f", step,
                         out["dev_agreement"])  # fmt: skip
        out["dev_score"] = dev_agreement.dev_score(out)
        tags = {"dev_accuracy": "retrieval_accuracy", "dev_agreement": "teacher_agreement",
                "dev_score": "score"}  # fmt: skip
        with writer.as_default(step=step):
            for name, tag in tags.items():
                if name in out:
                    tf.summary.scalar(tag, out[name])
            for m, value in out.get("dev_accuracy_by_dims", {}).items():
                tf.summary.scalar(f"retrieval_accuracy_{m}d", value)
        self._keep_if_best(step, out)
        return out

    def _keep_if_best(self, step: int, scores: dict) -> None:
        best_file = os.path.join(self.model_dir, "best", "best.json")
        best = None
        if os.path.isfile(best_file):
            with open(best_file, encoding="utf-8") as f:
                best = json.load(f)
        if dev_agreement.beats(scores, best):
            self.best.save(checkpoint_number=step)
            keep = ("dev_accuracy", "dev_agreement", "dev_score")
            record = {"step": step, **{k: scores[k] for k in keep if k in scores}}
            atomic.atomic_write_text(best_file, json.dumps(record, indent=2))

    def _make_train_step(self, teacher_embed):
        config, strategy = self.config, self.strategy

        def losses_and_grads(batch):
            with tf.GradientTape() as tape:
                step = objectives.StepContext(
                    training=True, bank=self.bank,
                    seed=tf.stack([tf.constant(config.trainer.seed, tf.int64), self.step]),
                )  # fmt: skip
                losses = self.objective.losses(
                    batch, self.student, self.heads, config.objective.settings, step
                )
                scaled = _scale_loss(self.optimizer, losses["total"])
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
            trainer = self.config.trainer
            remaining = (trainer.steps - step) * self.config.data.batch_size / max(rate, 1e-9)
            of = f"/{trainer.steps}"
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


class _BudgetClock:
    """Training time against a budget: elapsed (carried over a resume), left, when to stop.

    The run stops when the time left would not cover one more step plus the final
    evaluation (estimated from the last periodic one), so it ends on time.
    """

    def __init__(self, spent: float, budget: float):
        self.budget = budget
        self._spent = spent
        self._start = self._last = time.perf_counter()
        self._step_seconds = 0.0
        self._eval_seconds = 0.0

    def elapsed(self) -> float:
        return self._spent + time.perf_counter() - self._start

    def left(self) -> float:
        return max(self.budget - self.elapsed(), 0.0)

    def fraction(self) -> float:
        return min(self.elapsed() / self.budget, 1.0) if self.budget else 0.0

    def step_done(self) -> None:
        """Records one step's duration (the first includes tracing: an upper bound)."""
        now = time.perf_counter()
        self._step_seconds, self._last = now - self._last, now

    def over(self) -> bool:
        return bool(self.budget) and self.left() <= self._step_seconds + self._eval_seconds

    @contextlib.contextmanager
    def timing_evaluation(self):
        start = time.perf_counter()
        yield
        self._eval_seconds = time.perf_counter() - start
        self._last = time.perf_counter()


def _check_inputs(config: DistillConfig) -> None:
    """Checks what can be checked before anything is written or loaded.

    The student's shape (preset, overrides, sequence length) and the teacher cache: a
    cache that does not hold the run's training data is refused, since the vocabulary
    is pruned to --train_data and distill_config.json records it.
    """
    if not config.data.train_data:
        raise ValueError("train_data is empty: give corpus files (--train_data)")
    if config.student.init_from:
        student_setup.check_init_from(config)
    student = student_setup.student_config_for(config, vocabulary_size=1)
    if student.max_sequence_length < config.data.seq_length:
        raise ValueError(
            f"seq_length={config.data.seq_length} exceeds the student's max_sequence_length="
            f"{student.max_sequence_length}"
        )
    if config.teacher.cache:
        from lealla.models.teachers import embedding_cache

        embedding_cache.check_corpus(
            config.teacher.cache, corpus.resolve_sources(config.data.train_data)
        )


def _needs_teacher(config: DistillConfig, model_dir: str) -> bool:
    """Whether this start needs the teacher loaded.

    It does for distillation without a cache (embeddings in the step), and on a first
    start for a vocabulary borrowed from it and the token-embedding init. A run from a
    teacher cache that resumes reads its vocabulary from model_dir and the teacher's
    width from the cache manifest: no teacher is loaded.
    """
    if not config.teacher.name:
        return False
    if config.uses_teacher_embeddings and not config.teacher.cache:
        return True
    if dev_agreement.needs_teacher(config.data.dev_mono_data, model_dir):
        return True
    if config.student.init_from:
        return False  # vocabulary and weights come from that run
    resuming = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints")) is not None
    if resuming and os.path.isdir(os.path.join(model_dir, run_layout.TOKENIZER_DIR)):
        return False
    return config.uses_teacher_embeddings or config.student.vocab in ("teacher", "pruned")


def _teacher_dim(config: DistillConfig, teacher) -> int | None:
    """The teacher's embedding width: from the loaded teacher, else the cache manifest."""
    if teacher is not None:
        return teacher.embedding_dim
    if config.teacher.cache:
        from lealla.models.teachers import embedding_cache

        manifest = embedding_cache.read_cache_set(config.teacher.cache)[0]
        return int(manifest["identity"]["embedding_dim"])
    return None


def _optimizer(config: DistillConfig, progress=None):
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
    optimizer.exclude_from_weight_decay(var_names=_NO_DECAY)
    if config.runtime.dtype_policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _scale_loss(optimizer, loss):
    return optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss


def _saved_config(model_dir: str) -> DistillConfig:
    """The config a run in model_dir was started with (an unknown key or a run of an
    earlier version is refused, naming the file)."""
    values = run_layout.read_run_config(model_dir)
    try:
        return DistillConfig.from_dict(values)
    except ValueError as e:
        raise ValueError(f"{os.path.join(model_dir, CONFIG_FILE)}: {e}") from None


def _check_or_save_config(config: DistillConfig, model_dir: str) -> None:
    path = os.path.join(model_dir, CONFIG_FILE)
    if os.path.isfile(path):
        saved = _saved_config(model_dir)
        changed = config.changes_against(saved)
        if changed and not tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints")):
            # A run that failed before its first checkpoint is not a run yet: start over
            # with the new settings (the files derived from the old ones go too).
            for name in (run_layout.TOKENIZER_DIR, run_layout.STUDENT_CONFIG,
                         run_layout.LANGUAGES_FILE, run_layout.DEV_MONO_TEACHER):  # fmt: skip
                target = os.path.join(model_dir, name)
                if os.path.isdir(target):
                    shutil.rmtree(target)
                elif os.path.isfile(target):
                    os.remove(target)
            logging.warning(
                "%s has no checkpoint yet: starting over with the new settings (%s changed)",
                model_dir, ", ".join(changed),
            )  # fmt: skip
            changed = []
        if changed:
            details = "; ".join(
                f"{k}: saved {saved.get(k)!r}, now {config.get(k)!r}" for k in changed
            )
            raise ValueError(
                f"{model_dir} holds a run with other settings ({details}); use another "
                f"--model_dir, or the saved settings (only "
                f"{', '.join(RESUMABLE_CHANGES)} may change)"
            )
    config.to_json_file(path)
    # Rewritten on every start: a resumed run may change RESUMABLE_CHANGES (--steps).
    name = os.path.basename(os.path.normpath(model_dir))
    atomic.atomic_write_text(
        os.path.join(model_dir, run_layout.RUN_COMMAND), config.command_line(name) + "\n"
    )
