"""What a run trains, built from its config: the teacher it needs, the vocabulary, the
student and the objective's heads, the optimizer, the input iterator and the training
checkpoint, resumed from the newest intact checkpoint or initialized (from the teacher
or an --init_from run).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import keras
import tensorflow as tf
from absl import logging

from lealla.data import corpus
from lealla.models.distill import data, dev_agreement, objectives, student_setup
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.optimizer import make_optimizer
from lealla.models.distill.run_folder import RunFolder
from lealla.models.distill.training_corpus import TrainingCorpus
from lealla.models.students.student_config import StudentConfig
from lealla.models.teachers import embedding_cache, loading
from lealla.records import run_layout
from lealla.tokenization import packing


@dataclasses.dataclass(frozen=True)
class TrainingState:
    """The built run, in the strategy's scope.

    Attributes:
      teacher: the loaded teacher (None when this start needs none).
      tokenizer: the student's tokenizer.
      languages: the language table (objectives that need one), else None.
      packer: the tokenizer's packer at the run's sequence length.
      student_config: the student's shape.
      student: the backbone (checkpoint name `student`, what export restores).
      heads: the objective's training-only heads by checkpoint name.
      optimizer: the optimizer, built for `variables`.
      variables: the trained variables (student, then heads).
      step: the global step.
      progress: the share of the time budget spent (read by the schedule).
      elapsed: the training seconds spent (checkpointed: a resume continues the budget).
      iterator: the distributed input iterator.
      manager: the training checkpoints' manager.
      resumed_from: the step resumed from (None: a first start).
      bank: cached teacher embeddings as extra negatives (None: no bank term).
    """

    teacher: Any
    tokenizer: Any
    languages: tuple[str, ...] | None
    packer: packing.Packer
    student_config: StudentConfig
    student: keras.Model
    heads: dict[str, keras.layers.Layer]
    optimizer: keras.optimizers.Optimizer
    variables: list[tf.Variable]
    step: tf.Variable
    progress: tf.Variable
    elapsed: tf.Variable
    iterator: Any
    manager: tf.train.CheckpointManager
    resumed_from: int | None
    bank: tf.Tensor | None


def build(
    config: DistillConfig, folder: RunFolder, strategy, objective: objectives.Objective, teacher
) -> TrainingState:
    """Checks the inputs, saves the settings, and builds (or resumes) the run in `folder`.

    Args:
      teacher: an already loaded teacher, or None to load config.teacher.name when this start
        needs it (distillation terms, or a vocabulary borrowed from it).

    Raises:
      ValueError: the inputs or the folder's saved run do not fit `config` (named).
    """
    check_inputs(config)  # before anything is written to the folder
    folder.save_config(config)
    if teacher is None and needs_teacher(config, folder):
        teacher = loading.load_teacher(
            config.teacher.name, preprocessor=config.teacher.preprocessor,
            format=config.teacher.format, seq_length=config.teacher.seq_length,
        )  # fmt: skip
    # One pass over the training files serves the vocabulary, a static student's token
    # counts, the language table and the input pipeline.
    training = TrainingCorpus(config.data.train_data, config.data.on_bad_line)
    static_init = _initializes_static_student(config, folder, teacher)
    vocabulary = student_setup.prepare_vocabulary(
        config, teacher, folder.path, training, with_counts=static_init
    )
    tokenizer = vocabulary.tokenizer
    languages = (
        student_setup.prepare_languages(config, folder.path, training)
        if objective.needs_languages
        else None
    )
    packer = packing.Packer(tokenizer, config.data.seq_length)
    student_config = student_setup.student_config(config, tokenizer.vocab_size, folder.path)
    with strategy.scope():
        keras.utils.set_random_seed(config.trainer.seed)
        student = student_config.build()
        heads = objective.build_heads(config.objective.settings, objectives.HeadContext(
            width=student_config.embedding_dim, teacher_dim=_teacher_dim(config, teacher),
            vocabulary_size=tokenizer.vocab_size, num_languages=len(languages or ()) + 1,
        ))  # fmt: skip
        progress = tf.Variable(0.0, trainable=False, name="budget_progress")
        elapsed = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="elapsed_seconds")
        optimizer = make_optimizer(config, progress if config.trainer.train_minutes else None)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        variables = list(student.trainable_variables) + [
            v for head in heads.values() for v in head.trainable_variables
        ]
        optimizer.build(variables)

    def make_iterator(seed_offset: int):
        index = None if config.teacher.cache else training.index()
        return iter(strategy.distribute_datasets_from_function(
            data.train_dataset_fn(config, packer, seed_offset, languages, index)
        ))  # fmt: skip

    iterator = make_iterator(seed_offset=0)
    # The backbone is `student`; the heads have their own names, so export can restore
    # the encoder alone.
    state = {"student": student, **heads, "optimizer": optimizer, "step": step,
             "elapsed": elapsed}  # fmt: skip
    checkpoint, iterator_saved = _training_checkpoint(config, strategy, state, iterator)
    manager = folder.checkpoint_manager(checkpoint, config.trainer.keep_checkpoints)
    resumed_from = None
    if manager.latest_checkpoint:
        run_layout.restore_newest_intact(checkpoint, manager)
        resumed_from = int(step.numpy())
        if not iterator_saved:
            iterator = make_iterator(seed_offset=resumed_from)
    elif config.student.init_from:
        student_setup.restore_from_run(config.student.init_from, student, heads)
    elif config.student.init_from_teacher and teacher is not None:
        if student_config.kind == "static":
            student_setup.init_static_from_teacher(
                student, teacher, tokenizer, vocabulary.token_counts
            )
        else:
            student_setup.init_from_teacher(
                student, teacher, vocabulary.old_ids, tokenizer, config.student.token_init
            )
    # Cached teacher embeddings of other sentences as extra negatives (cache-fed runs;
    # with the teacher in the loop the term uses the batch's teacher embeddings only).
    bank_size = objective.bank_size(config.objective.settings)
    bank = (
        tf.constant(data.teacher_bank(config, bank_size))
        if bank_size and config.teacher.cache
        else None
    )
    return TrainingState(
        teacher, tokenizer, languages, packer, student_config, student, heads, optimizer,
        variables, step, progress, elapsed, iterator, manager, resumed_from, bank,
    )  # fmt: skip


def _training_checkpoint(
    config: DistillConfig, strategy, state: dict, iterator
) -> tuple[tf.train.Checkpoint, bool]:
    """The training checkpoint of `state`, with the input iterator when it can hold it;
    returns it and whether the iterator is in it."""
    if config.teacher.cache:
        # The iterator's state holds its shuffle buffers: with cached teacher embeddings
        # that is most of a checkpoint, several times the weights, so it is not saved; a
        # resumed run reshuffles with seed + step.
        return tf.train.Checkpoint(**state), False
    try:
        return tf.train.Checkpoint(**state, iterator=iterator), True
    except ValueError:  # MirroredStrategy's distributed iterators are not trackable
        logging.warning(
            "%s cannot checkpoint its input iterator: a resumed run reshuffles its data "
            "with seed + step instead of continuing the exact stream",
            type(strategy).__name__,
        )
        return tf.train.Checkpoint(**state), False


def check_inputs(config: DistillConfig) -> None:
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
        embedding_cache.check_corpus(
            config.teacher.cache, corpus.resolve_sources(config.data.train_data)
        )


def needs_teacher(config: DistillConfig, folder: RunFolder) -> bool:
    """Whether this start needs the teacher loaded.

    It does for distillation without a cache (embeddings in the step), and on a first
    start for a vocabulary borrowed from it and the token-embedding init. A run from a
    teacher cache that resumes reads its vocabulary from the folder and the teacher's
    width from the cache manifest: no teacher is loaded.
    """
    if not config.teacher.name:
        return False
    if config.uses_teacher_embeddings and not config.teacher.cache:
        return True
    if dev_agreement.needs_teacher(config.data.dev_mono_data, folder.path):
        return True
    if config.student.init_from:
        return False  # vocabulary and weights come from that run
    if folder.has_checkpoint() and os.path.isdir(folder.file(run_layout.TOKENIZER_DIR)):
        return False
    return config.uses_teacher_embeddings or config.student.vocab in ("teacher", "pruned")


def _initializes_static_student(config: DistillConfig, folder: RunFolder, teacher) -> bool:
    """Whether this start initializes a static student from the teacher (SIF counts)."""
    return (
        config.student.init_from_teacher
        and not config.student.init_from
        and teacher is not None
        and student_setup.student_config_for(config, vocabulary_size=1).kind == "static"
        and not folder.has_checkpoint()
    )


def _teacher_dim(config: DistillConfig, teacher) -> int | None:
    """The teacher's embedding width: from the loaded teacher, else the cache manifest."""
    if teacher is not None:
        return teacher.embedding_dim
    if config.teacher.cache:
        manifest = embedding_cache.read_cache_set(config.teacher.cache)[0]
        return int(manifest["identity"]["embedding_dim"])
    return None
