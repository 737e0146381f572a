"""The student's vocabulary and shape for a run: chosen once, saved in model_dir, reused."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
from absl import logging

from lealla.files import atomic
from lealla.models.distill.config_sections import StudentSection
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.training_corpus import TrainingCorpus
from lealla.models.students import embedding_init
from lealla.models.students.student_config import StudentConfig
from lealla.records import run_layout
from lealla.records.run_layout import LANGUAGES_FILE, STUDENT_CONFIG, TOKENIZER_DIR
from lealla.tokenization import loading as tokenizer_loading
from lealla.tokenization import tokenizer as tokenizer_lib
from lealla.tokenization import vocab_pruning

# A static student's SIF weights count tokens in this many training sentences at most.
STATIC_COUNT_SENTENCES = 2_000_000
# Vocabulary pieces per teacher call when embedding each piece alone.
_PIECE_BATCH = 512
# Student fields a run started with --student.init_from may set (--student.overrides):
# the rest are the shape its weights fix (check_init_from refuses a change).
INIT_FROM_OVERRIDES = ("dropout",)


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """The run's tokenizer and what the student's init needs to know about it.

    Attributes:
      tokenizer: the student's tokenizer.
      old_ids: the teacher's id of each student token (None when the vocabulary is
        not the teacher's).
      token_counts: uses of each student token id in the training data (only when
        asked for: a static student's SIF weights).
    """

    tokenizer: tokenizer_lib.Tokenizer
    old_ids: np.ndarray | None
    token_counts: np.ndarray | None = None


def prepare_vocabulary(
    config: DistillConfig,
    teacher,
    model_dir: str,
    training: TrainingCorpus,
    with_counts: bool = False,
) -> Vocabulary:
    """Loads the run's tokenizer from model_dir, or creates and saves it there.

    A pruned vocabulary and the token counts come from the same pass over the training
    data (`training`), which also indexes it for the language table and the input
    pipeline.
    """
    path = os.path.join(model_dir, TOKENIZER_DIR)
    if not os.path.isdir(path) and config.student.init_from:
        with atomic.folder_built_aside(path) as tmp:
            shutil.copytree(os.path.join(config.student.init_from, TOKENIZER_DIR), tmp,
                            dirs_exist_ok=True)  # fmt: skip
    if os.path.isdir(path):
        tok, old_ids = run_layout.load_tokenizer(model_dir)
        return Vocabulary(tok, old_ids, _token_counts(training, tok) if with_counts else None)
    vocab = config.student.vocab
    if vocab in ("teacher", "pruned"):
        if teacher is None:
            raise ValueError(
                f"--student.vocab={vocab} is the teacher's vocabulary, but the run has no "
                f"teacher; pass --student.vocab=PATH to a vocab.txt or SentencePiece .model"
            )
        if teacher.tokenizer is None:
            raise ValueError(
                f"--student.vocab={vocab}: the teacher {teacher.handle} has no known "
                f"vocabulary; pass --student.vocab=PATH to a vocab.txt or SentencePiece .model"
            )
        if vocab == "teacher":
            tok = teacher.tokenizer
            vocab_pruning.save_pruned(
                path, tok, vocab_pruning.PrunedVocab(
                    tuple(tok.vocabulary()), tuple(range(tok.vocab_size)), tok.vocab_size
                ),
            )  # fmt: skip
            counts = _token_counts(training, tok) if with_counts else None
            return Vocabulary(tok, np.arange(tok.vocab_size), counts)
        used = training.count_tokens(teacher.tokenizer)
        tok, pruned = vocab_pruning.prune_to_corpus(teacher.tokenizer, used)
        logging.info(
            "student vocabulary: teacher's pruned to the training data: %s", pruned.describe()
        )
        vocab_pruning.save_pruned(path, tok, pruned)
        old_ids = np.asarray(pruned.old_ids)
        # The pruned tokenizer segments the corpus exactly as the teacher's did.
        return Vocabulary(tok, old_ids, used.counts[old_ids] if with_counts else None)
    if vocab.endswith(".model"):
        tok = tokenizer_loading.tokenizer_from_files(sp_model=vocab)
    else:
        tok = tokenizer_loading.tokenizer_from_files(vocab=vocab)
    tok.save(path)
    return Vocabulary(tok, None, _token_counts(training, tok) if with_counts else None)


def check_init_from(config: DistillConfig) -> None:
    """Refuses a --student.init_from that is no trained run, or a run of another student preset.

    Raises:
      ValueError: naming the folder and what is missing or different.
    """
    source = config.student.init_from
    if not run_layout.is_model_dir(source):
        raise ValueError(
            f"--student.init_from={source} is not a training run's --model_dir (expected "
            f"{run_layout.RUN_CONFIG}, {STUDENT_CONFIG} and {TOKENIZER_DIR}/ in it)"
        )
    run_layout.checkpoint_path(source, "best")  # raises naming the folder if untrained
    student = StudentConfig.from_json_file(os.path.join(source, STUDENT_CONFIG))
    wanted = student_config_for(config, vocabulary_size=1).preset
    if student.preset != wanted:
        raise ValueError(
            f"--student.init_from={source} holds a {student.preset} student, but this run "
            f"asks for --student={config.student.name}; pass --student={student.preset} (the "
            f"shape comes from the run started from)"
        )
    # The weights fix the shape: an override of it would be dropped without a word.
    fixed = {k: v for k, v in config.student.overrides.items()
             if k not in INIT_FROM_OVERRIDES and getattr(student, k, None) != v}  # fmt: skip
    if fixed:
        raise ValueError(
            f"--student.init_from={source}: --student.overrides {fixed} would change the student "
            f"it holds ({', '.join(f'{k}={getattr(student, k, None)}' for k in fixed)}); "
            f"only {', '.join(INIT_FROM_OVERRIDES)} can change when starting from a run"
        )
    source_vocab = run_layout.run_setting(run_layout.read_run_config(source), "student.vocab")
    if config.student.vocab not in (source_vocab, StudentSection.vocab):
        raise ValueError(
            f"--student.init_from={source}: --student.vocab={config.student.vocab} does not "
            f"apply, the tokenizer is the run's (--student.vocab={source_vocab}); drop "
            f"--student.vocab"
        )


def restore_from_run(source: str, student, heads: dict) -> str:
    """Loads the student and the heads the checkpoint has from `source`'s best checkpoint.

    The student must match exactly; a head the source run did not train (another
    objective) keeps its fresh weights. Returns the checkpoint read.

    Raises:
      ValueError: the checkpoint does not fit this student or a head's shape.
    """
    import tensorflow as tf

    path = run_layout.checkpoint_path(source, "best")
    try:
        tf.train.Checkpoint(student=student).read(path).assert_existing_objects_matched()
        for name, head in heads.items():
            tf.train.Checkpoint(**{name: head}).read(path).expect_partial()
    except (AssertionError, ValueError, tf.errors.OpError) as e:
        message = str(e).strip().splitlines()[0]
        raise ValueError(f"--student.init_from: {path} does not fit this run ({message})") from None
    logging.info("started from %s", path)
    return path


def _token_counts(training: TrainingCorpus, tokenizer) -> np.ndarray:
    return training.count_tokens(tokenizer, max_sentences=STATIC_COUNT_SENTENCES).counts


def student_config_for(config: DistillConfig, vocabulary_size: int) -> StudentConfig:
    """The preset with the run's overrides (raises ValueError naming a bad key or value)."""
    values = {
        "vocabulary_size": vocabulary_size,
        "dtype_policy": config.runtime.dtype_policy,
        **config.student.overrides,
    }
    return StudentConfig.from_preset(config.student.name, **values)


def student_config(config: DistillConfig, vocabulary_size: int, model_dir: str) -> StudentConfig:
    """The student's shape: read from model_dir when resuming, else from the --student.init_from
    run or the preset."""
    path = os.path.join(model_dir, STUDENT_CONFIG)
    if os.path.isfile(path):
        return StudentConfig.from_json_file(path)
    if config.student.init_from:
        source = StudentConfig.from_json_file(
            os.path.join(config.student.init_from, STUDENT_CONFIG)
        )
        kept = {k: v for k, v in config.student.overrides.items() if k in INIT_FROM_OVERRIDES}
        student = StudentConfig.from_dict(
            {**source.to_dict(), "dtype_policy": config.runtime.dtype_policy, **kept}
        )
    else:
        student = student_config_for(config, vocabulary_size)
    if student.max_sequence_length < config.data.seq_length:
        raise ValueError(
            f"seq_length={config.data.seq_length} exceeds the student's max_sequence_length="
            f"{student.max_sequence_length}"
        )
    student.to_json_file(path)
    return student


def prepare_languages(
    config: DistillConfig, model_dir: str, training: TrainingCorpus
) -> tuple[str, ...]:
    """The run's language table (for the XTR language embedding), fixed in model_dir.

    Created once from the languages of the training data (sorted codes, both sides
    of every pair) and read back on resume, so ids never shift. Language id
    `1 + index`; 0 is reserved for an unknown or empty language.
    """
    path = os.path.join(model_dir, LANGUAGES_FILE)
    source = os.path.join(config.student.init_from or "", LANGUAGES_FILE)
    if not os.path.isfile(path) and config.student.init_from and os.path.isfile(source):
        # The restored language embedding's rows follow the source run's table.
        with open(source, encoding="utf-8") as f:
            atomic.atomic_write_text(path, f.read())
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return tuple(json.load(f)["languages"])
    groups = training.index().group_counts
    languages = tuple(sorted({lang for group in groups for lang in group.split("-")}))
    logging.info("language table (%d): %s", len(languages), ", ".join(languages))
    atomic.atomic_write_text(path, json.dumps({"languages": list(languages)}, indent=2))
    return languages


def init_from_teacher(
    backbone, teacher, old_ids: np.ndarray | None, tokenizer=None, source: str = "table"
) -> bool:
    """Starts a transformer student's token embeddings from the teacher, PCA to its width.

    Args:
      backbone: a ThinDeepBackbone.
      teacher: the run's teacher.
      old_ids: each student id's row in the teacher's token table (None: the
        student's vocabulary is not the teacher's).
      tokenizer: the student's tokenizer (for source "pieces").
      source: "table" (the teacher's token embedding table; needs old_ids) or
        "pieces" (`piece_embeddings`: any vocabulary).

    Returns:
      Whether the embeddings were initialized from the teacher.
    """
    width = backbone.hidden_dim
    if source == "pieces":
        if width > (teacher.embedding_dim or width):
            logging.info("token embeddings: random (student wider than the teacher's embedding)")
            return False
        rows = piece_embeddings(teacher, tokenizer)
        embedding_init.set_token_embeddings(backbone, embedding_init.pca_project(rows, width))
        logging.info(
            "token embeddings: the teacher's embedding of each of %d vocabulary pieces, PCA to "
            "%d dims", len(rows), width,
        )  # fmt: skip
        return True
    if old_ids is None:
        logging.info("token embeddings: random (the student's vocabulary is not the teacher's)")
        return False
    table = teacher.token_embeddings()
    if table is None:
        logging.info("token embeddings: random (the teacher's token table was not found)")
        return False
    rows = table[old_ids]
    if width > rows.shape[1]:
        logging.info("token embeddings: random (student wider than the teacher's table)")
        return False
    embedding_init.set_token_embeddings(backbone, embedding_init.pca_project(rows, width))
    logging.info("token embeddings: PCA of the teacher's %s table to %d dims", table.shape, width)
    return True


def piece_embeddings(teacher, tokenizer) -> np.ndarray:
    """The teacher's embedding of each vocabulary piece alone ("##ing" as "ing"): [V, d].

    Pieces that stand for no text (special tokens, a bare "▁") get the teacher's
    embedding of the empty string.
    """
    import tensorflow as tf

    surfaces = [embedding_init.piece_surface(p) for p in tokenizer.vocabulary()]
    rows = []
    for start in range(0, len(surfaces), _PIECE_BATCH):
        rows.append(teacher.embed(tf.constant(surfaces[start : start + _PIECE_BATCH])).numpy())
    return np.concatenate(rows)


def init_static_from_teacher(backbone, teacher, tokenizer, counts: np.ndarray) -> None:
    """The Model2Vec recipe: each vocabulary piece embedded alone by the teacher, PCA to
    the student's width, weighted by SIF weights from the training data's token counts.

    Special tokens ([CLS], [SEP], padding, unknown) get weight 0, so only real
    pieces make up the mean.

    Args:
      backbone: a StaticBackbone.
      teacher: embeds strings (`teacher.embed`).
      tokenizer: the student's tokenizer.
      counts: uses of each of its ids in the training data (`Vocabulary.token_counts`).
    """
    vocabulary = tokenizer.vocabulary()
    if len(counts) != len(vocabulary):
        raise ValueError(f"{len(counts)} token counts for a vocabulary of {len(vocabulary)}")
    surfaces = [embedding_init.piece_surface(p) for p in vocabulary]
    table = embedding_init.pca_project(piece_embeddings(teacher, tokenizer), backbone.hidden_dim)
    weights = embedding_init.sif_weights(np.asarray(counts, np.int64))
    special = tokenizer.special_ids
    weights[[special.cls, special.sep, special.pad, special.unk]] = 0.0
    weights[[i for i, s in enumerate(surfaces) if not s]] = 0.0
    embedding_init.set_static_init(backbone, table, weights)
    logging.info(
        "static student: %d pieces embedded by the teacher, PCA to %d dims, SIF weights from "
        "%d token(s)", len(vocabulary), backbone.hidden_dim, int(np.sum(counts)),
    )  # fmt: skip
