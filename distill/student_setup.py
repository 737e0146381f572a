"""The student's vocabulary and shape for a run: chosen once, saved in model_dir, reused."""

from __future__ import annotations

import json
import os

import numpy as np
from absl import logging

from distill.distill_config import DistillConfig
from lealla import configs, corpus, pipeline, run_layout
from lealla.run_layout import LANGUAGES_FILE, STUDENT_CONFIG, TOKENIZER_DIR
from lealla.tokenization import tokenizer as tokenizer_lib
from lealla.tokenization import vocab_pruning
from students import embedding_init
from students.student_config import StudentConfig


def prepare_tokenizer(config: DistillConfig, teacher, model_dir: str):
    """Loads the run's tokenizer from model_dir, or creates and saves it there.

    Returns:
      (tokenizer, old_ids): old_ids maps the student's token ids to the teacher's
      (None when the vocabulary is not the teacher's).
    """
    path = os.path.join(model_dir, TOKENIZER_DIR)
    if os.path.isdir(path):
        return run_layout.load_tokenizer(model_dir)
    if config.vocab in ("teacher", "pruned"):
        if teacher is None:
            raise ValueError(
                f"--vocab={config.vocab} is the teacher's vocabulary, but the run has no "
                f"teacher; pass --vocab=PATH to a vocab.txt or SentencePiece .model"
            )
        if teacher.tokenizer is None:
            raise ValueError(
                f"--vocab={config.vocab}: the teacher {teacher.handle} has no known vocabulary; "
                f"pass --vocab=PATH to a vocab.txt or SentencePiece .model"
            )
        if config.vocab == "teacher":
            tok, old_ids = teacher.tokenizer, np.arange(teacher.tokenizer.vocab_size)
            vocab_pruning.save_pruned(
                path, tok, vocab_pruning.PrunedVocab(
                    tuple(tok.vocabulary()), tuple(range(tok.vocab_size)), tok.vocab_size
                ),
            )  # fmt: skip
            return tok, old_ids
        texts = (t for _, t in _sentences(config))
        tok, pruned = vocab_pruning.prune_tokenizer(teacher.tokenizer, texts)
        logging.info(
            "student vocabulary: teacher's pruned to the training data: %s", pruned.describe()
        )
        vocab_pruning.save_pruned(path, tok, pruned)
        return tok, np.asarray(pruned.old_ids)
    if config.vocab.endswith(".model"):
        tok = tokenizer_lib.tokenizer_from_files(sp_model=config.vocab)
    else:
        tok = tokenizer_lib.tokenizer_from_files(vocab=config.vocab)
    tok.save(path)
    return tok, None


def student_config_for(config: DistillConfig, vocabulary_size: int) -> StudentConfig:
    """The preset with the run's overrides (raises ValueError naming a bad key or value)."""
    values = {
        "vocabulary_size": vocabulary_size,
        "dtype_policy": config.dtype_policy,
        **config.student_overrides,
    }
    return StudentConfig.from_preset(config.student, **values)


def student_config(config: DistillConfig, vocabulary_size: int, model_dir: str) -> StudentConfig:
    """The student's shape: read from model_dir when resuming, else from the preset."""
    path = os.path.join(model_dir, STUDENT_CONFIG)
    if os.path.isfile(path):
        return StudentConfig.from_json_file(path)
    student = student_config_for(config, vocabulary_size)
    if student.max_sequence_length < config.seq_length:
        raise ValueError(
            f"seq_length={config.seq_length} exceeds the student's max_sequence_length="
            f"{student.max_sequence_length}"
        )
    student.to_json_file(path)
    return student


def prepare_languages(config: DistillConfig, model_dir: str) -> tuple[str, ...]:
    """The run's language table (for the XTR language embedding), fixed in model_dir.

    Created once from the languages of the training data (sorted codes, both sides
    of every pair) and read back on resume, so ids never shift. Language id
    `1 + index`; 0 is reserved for an unknown or empty language.
    """
    path = os.path.join(model_dir, LANGUAGES_FILE)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return tuple(json.load(f)["languages"])
    index = pipeline.scan_corpus(
        corpus.resolve_sources(config.train_data), on_bad_line=config.on_bad_line
    )
    languages = tuple(sorted({lang for group in index.group_counts for lang in group.split("-")}))
    logging.info("language table (%d): %s", len(languages), ", ".join(languages))
    configs.atomic_write_text(path, json.dumps({"languages": list(languages)}, indent=2))
    return languages


def init_from_teacher(backbone, teacher, old_ids: np.ndarray | None) -> bool:
    """Starts the token embeddings from the teacher's (PCA), when the vocab is shared.

    Returns:
      Whether the embeddings were initialized from the teacher.
    """
    if old_ids is None:
        logging.info("token embeddings: random (the student's vocabulary is not the teacher's)")
        return False
    table = teacher.token_embeddings()
    if table is None:
        logging.info("token embeddings: random (the teacher's token table was not found)")
        return False
    rows = table[old_ids]
    width = backbone.hidden_dim
    if width > rows.shape[1]:
        logging.info("token embeddings: random (student wider than the teacher's table)")
        return False
    embedding_init.set_token_embeddings(backbone, embedding_init.pca_project(rows, width))
    logging.info("token embeddings: PCA of the teacher's %s table to %d dims", table.shape, width)
    return True


def init_static_from_teacher(backbone, teacher, tokenizer, texts, max_texts: int = 2_000_000):
    """The Model2Vec recipe: each vocabulary piece embedded alone by the teacher, PCA to
    the student's width, weighted by SIF weights from the training data's token counts.

    Special tokens ([CLS], [SEP], padding, unknown) get weight 0, so only real
    pieces make up the mean.

    Args:
      backbone: a StaticBackbone.
      teacher: embeds strings (`teacher.embed`).
      tokenizer: the student's tokenizer.
      texts: training sentences (the first `max_texts` are counted).
    """
    import itertools

    import tensorflow as tf

    vocabulary = tokenizer.vocabulary()
    surfaces = [embedding_init.piece_surface(p) for p in vocabulary]
    rows = []
    for start in range(0, len(surfaces), 512):
        rows.append(teacher.embed(tf.constant(surfaces[start : start + 512])).numpy())
    table = embedding_init.pca_project(np.concatenate(rows), backbone.hidden_dim)
    counts = np.zeros(len(vocabulary), np.int64)
    batch: list[str] = []
    for text in itertools.chain(itertools.islice(texts, max_texts), [None]):
        if text is not None:
            batch.append(text)
        if batch and (text is None or len(batch) == 4096):
            ids = tokenizer.tokenize(tf.constant(batch)).flat_values.numpy()
            counts += np.bincount(ids, minlength=len(vocabulary))[: len(vocabulary)]
            batch = []
    weights = embedding_init.sif_weights(counts)
    special = tokenizer.special_ids
    weights[[special.cls, special.sep, special.pad, special.unk]] = 0.0
    weights[[i for i, s in enumerate(surfaces) if not s]] = 0.0
    embedding_init.set_static_init(backbone, table, weights)
    logging.info(
        "static student: %d pieces embedded by the teacher, PCA to %d dims, SIF weights from "
        "%d token(s)", len(vocabulary), backbone.hidden_dim, int(counts.sum()),
    )  # fmt: skip


def _sentences(config: DistillConfig):
    """(language, sentence) of the training data, honouring --on_bad_line."""
    from lealla import textio

    return corpus.iter_sentences(
        corpus.resolve_sources(config.train_data), on_bad_line=config.on_bad_line,
        report=textio.BadLineReport(),
    )  # fmt: skip


def training_sentences(config: DistillConfig):
    """The training data's sentences (both sides), honouring --on_bad_line."""
    return (t for _, t in _sentences(config))
