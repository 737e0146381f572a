"""Bidirectional nearest-neighbour retrieval accuracy between aligned embedding sets."""

from __future__ import annotations

import numpy as np

from lealla.embeddings.truncation import truncate_embeddings


def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray) -> tuple[float, float]:
    """Accuracy of finding each sentence's translation by cosine nearest neighbour.

        acc_s2t = 1/n sum_i [argmax_j cos(x_i, y_j) == i],  acc_t2s likewise.

    Args:
      src: float [n, d] embeddings; row i translates row i of `tgt`.
      tgt: float [n, d] embeddings.

    Returns:
      (source -> target accuracy, target -> source accuracy).

    Raises:
      ValueError: the two sets differ in size or width, or are empty.
    """
    if src.shape != tgt.shape or src.ndim != 2 or len(src) == 0:
        raise ValueError(
            f"expected two equal non-empty [n, d] arrays, got {src.shape} and {tgt.shape}"
        )
    src = src / np.maximum(np.linalg.norm(src, axis=1, keepdims=True), 1e-12)
    tgt = tgt / np.maximum(np.linalg.norm(tgt, axis=1, keepdims=True), 1e-12)
    sim = src @ tgt.T
    gold = np.arange(len(src))
    return float(np.mean(sim.argmax(1) == gold)), float(np.mean(sim.argmax(0) == gold))


def pair_accuracies(encode, groups: dict) -> dict[str, float]:
    """Language pair -> bidirectional retrieval accuracy (mean of both directions).

    Args:
      encode: strings -> float [n, d] unit embeddings.
      groups: pair -> (sources, targets), aligned (e.g. `corpus.parallel_groups`).
    """
    out = {}
    for group, (src, tgt) in groups.items():
        s2t, t2s = retrieval_accuracy(encode(src), encode(tgt))
        out[group] = (s2t + t2s) / 2
    return out


def pair_accuracies_by_width(
    encode, groups: dict, widths, rotation: np.ndarray | None = None
) -> dict[int | None, dict[str, float]]:
    """`pair_accuracies` at several embedding widths, each text list encoded once.

    Args:
      encode: strings -> float [n, d] unit embeddings.
      groups: pair -> (sources, targets), as `pair_accuracies`.
      widths: the widths m to keep (first m dimensions, renormalized); None = as encoded.
      rotation: optional [d, d] applied to the embeddings before they are cut.
    """
    encoded: dict[tuple[str, ...], np.ndarray] = {}

    def cut(texts, m):
        key = tuple(texts)
        if key not in encoded:
            x = encode(list(texts))
            encoded[key] = x if rotation is None else x @ rotation
        return encoded[key] if m is None else truncate_embeddings(encoded[key], m)

    return {m: pair_accuracies(lambda texts, m=m: cut(texts, m), groups) for m in widths}
