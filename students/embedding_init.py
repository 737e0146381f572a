"""Starting a student's token embeddings from its teacher's (PCA to the student's width)."""

from __future__ import annotations

import numpy as np

from lealla.models.students.transformer_block import INITIALIZER_STDDEV


def pca_project(
    table: np.ndarray, width: int, *, target_std: float = INITIALIZER_STDDEV
) -> np.ndarray:
    """Projects a teacher's token table onto its top principal directions.

        X_c = X - mean(X);  X_c^T X_c = V diag(lambda) V^T (eigenvalues descending)
        Y   = X_c V[:, :width] * (target_std / std(X_c V[:, :width]))

    Keeping the directions of largest variance keeps as much of the teacher's
    token geometry as `width` dimensions can hold; the global rescale brings the
    table to the scale of a freshly initialized one (BERT: std 0.02), so the rest
    of the network starts in its usual regime.

    Args:
      table: float [vocab, teacher_dim], e.g. USE-m's [128000, 512].
      width: the student's hidden size (<= teacher_dim).
      target_std: standard deviation of the result.

    Returns:
      float32 [vocab, width].

    Raises:
      ValueError: width larger than the teacher's dimension or not positive.
    """
    vocab, dim = table.shape
    if not 0 < width <= dim:
        raise ValueError(f"width must be in [1, teacher dim {dim}], got {width}")
    mean = table.mean(axis=0, dtype=np.float64)
    # The [dim, dim] covariance is cheap even for 501k x 768; no [vocab, vocab] matrix.
    cov = np.zeros((dim, dim), np.float64)
    for start in range(0, vocab, 65_536):
        block = table[start : start + 65_536].astype(np.float64) - mean
        cov += block.T @ block
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    top = eigenvectors[:, np.argsort(eigenvalues)[::-1][:width]]
    projected = np.empty((vocab, width), np.float32)
    for start in range(0, vocab, 65_536):
        block = table[start : start + 65_536].astype(np.float64) - mean
        projected[start : start + 65_536] = block @ top
    std = projected.std()
    return projected * np.float32(target_std / std) if std > 0 else projected


def set_token_embeddings(backbone, table: np.ndarray) -> None:
    """Assigns [vocabulary_size, hidden_dim] rows to a backbone's token embedding.

    Raises:
      ValueError: naming both shapes when they differ.
    """
    variable = backbone.token_embedding.embeddings
    expected = tuple(variable.shape)
    if tuple(table.shape) != expected:
        raise ValueError(
            f"token embedding table has shape {tuple(table.shape)}; the student needs "
            f"{expected} (vocabulary_size, hidden_dim)"
        )
    variable.assign(table.astype(np.float32))


# SIF's smoothing constant (Arora et al. 2017 use 1e-3..1e-4; Model2Vec 1e-4).
SIF_COEFFICIENT = 1e-4


def sif_weights(counts: np.ndarray, coefficient: float = SIF_COEFFICIENT) -> np.ndarray:
    """Smooth inverse frequency weight of every token: w = a / (a + p), p = count / total.

    Frequent tokens ("the", punctuation) weigh little in a mean, rare ones close to 1;
    tokens never seen get 1.

    Args:
      counts: int [vocab] token counts over a corpus.
      coefficient: a.

    Returns:
      float32 [vocab] in (0, 1].
    """
    total = max(float(np.sum(counts)), 1.0)
    return (coefficient / (coefficient + counts / total)).astype(np.float32)


def piece_surface(piece: str) -> str:
    """A vocabulary piece as the text it stands for: "▁house" -> "house", "##ing" -> "ing"."""
    if piece.startswith("##"):
        return piece[2:]
    return piece.replace("\u2581", " ").strip()


def set_static_init(backbone, table: np.ndarray, weights: np.ndarray) -> None:
    """Token vectors and token weights of a `StaticBackbone`.

    Raises:
      ValueError: naming the shapes when they do not fit.
    """
    set_token_embeddings(backbone, table)
    variable = backbone.token_weight.embeddings
    if tuple(variable.shape) != (len(weights), 1):
        raise ValueError(
            f"token weights have {len(weights)} rows; the student needs {variable.shape[0]}"
        )
    variable.assign(np.asarray(weights, np.float32)[:, None])
