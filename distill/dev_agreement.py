"""The out-of-domain dev signal: how well the student keeps the teacher's neighbourhoods
on `--data.dev_mono_data` (any sentences of the domains the student is for; no translations).

The teacher embeds the dev sentences once, on the first start; the embeddings are kept
in model_dir (`run_layout.DEV_MONO_TEACHER`), so a resumed run needs no teacher.
`dev_evaluation` scores it with the retrieval accuracy and keeps the best checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from collections.abc import Callable, Sequence

import numpy as np

from lealla.data import corpus
from lealla.evaluation import agreement
from lealla.files import atomic
from lealla.records import run_layout

NEIGHBOURS = 10
_TEACHER_BATCH = 256


@dataclasses.dataclass(frozen=True)
class DevAgreement:
    """Dev sentences and the teacher's embeddings of them."""

    texts: tuple[str, ...]
    teacher_embeddings: np.ndarray  # float32 [len(texts), teacher_dim]

    def score(self, encode: Callable[[Sequence[str]], np.ndarray]) -> float:
        """kNN@10 agreement of `encode` (strings -> [n, d]) with the teacher, in [0, 1]."""
        return agreement.knn_agreement(
            encode(list(self.texts)), self.teacher_embeddings, NEIGHBOURS
        )


def needs_teacher(specs: Sequence[str], model_dir: str) -> bool:
    """Whether preparing the signal needs the teacher (its embeddings not saved yet)."""
    return bool(specs) and not os.path.isfile(os.path.join(model_dir, run_layout.DEV_MONO_TEACHER))


def prepare(specs: Sequence[str], on_bad_line: str, model_dir: str, teacher) -> DevAgreement | None:
    """Reads the dev sentences; the teacher's embeddings from model_dir, else from `teacher`.

    Raises:
      ValueError: fewer sentences than the kNN needs, or saved embeddings that do not
        match the sentences (a changed file) and no teacher to embed them again.
    """
    if not specs:
        return None
    texts = corpus.distinct_sentences(specs, on_bad_line)
    if len(texts) <= NEIGHBOURS:
        raise ValueError(
            f"dev_mono_data {', '.join(specs)}: {len(texts)} distinct sentences; the "
            f"agreement signal needs more than {NEIGHBOURS}"
        )
    path = os.path.join(model_dir, run_layout.DEV_MONO_TEACHER)
    # The sentences' digest is kept with their embeddings: an edited dev file of the same
    # length must not be scored against the old sentences' embeddings.
    digest = np.frombuffer(hashlib.sha256("\n".join(texts).encode()).digest(), np.uint8)
    if os.path.isfile(path):
        with np.load(path, allow_pickle=False) as saved:
            embeddings, saved_digest = saved["embeddings"], saved["texts_sha256"]
        if np.array_equal(saved_digest, digest):
            return DevAgreement(tuple(texts), embeddings)
        if teacher is None:
            raise ValueError(
                f"{path} holds the teacher's embeddings of {len(embeddings)} sentences that "
                f"are not dev_mono_data's {len(texts)} (changed since the run started); "
                f"remove {path} to have the teacher embed them again"
            )
    if teacher is None:
        raise ValueError("dev_mono_data needs the teacher on the run's first start")
    from lealla.models.teachers import embedding_cache  # distill may use teachers

    embeddings = embedding_cache.embed_all(teacher.embed, texts, _TEACHER_BATCH)
    buffer = io.BytesIO()
    np.savez(buffer, embeddings=embeddings, texts_sha256=digest)
    atomic.atomic_write_bytes(path, buffer.getvalue())
    return DevAgreement(tuple(texts), embeddings)
