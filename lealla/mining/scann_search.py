"""Approximate k-nearest-neighbour search with ScaNN: tree + asymmetric hashing + reordering."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lealla.config import json_config
from lealla.ui import quiet
from lealla.ui.progress import Progress

# Below this many points (unless num_leaves is set) every point is scored with AH and
# no tree is built: it is fast at this size, and a tree this small, searched in few
# leaves, misses many true nearest neighbours.
MIN_POINTS_FOR_TREE = 20_000
# About 2 * sqrt(n) leaves and 1/50 of them searched (at least 32): the configuration
# tuned by benchmarks/mining.py
# (benchmarks/RESULTS.md#mining-scann-vs-exact-nearest-neighbour-search).
LEAVES_PER_SQRT_N = 2.0
LEAVES_SEARCHED_FRACTION = 1 / 50
MIN_LEAVES_TO_SEARCH = 32
SEARCH_BATCH = 256  # queries per ScaNN worker task


@dataclasses.dataclass(frozen=True)
class ScannConfig(json_config.ConfigMixin):
    """How the ScaNN index is built and searched.

    Attributes:
      num_leaves: k-means tree leaves; 0 picks about 2 * sqrt(n), and no tree below
        MIN_POINTS_FOR_TREE points.
      leaves_to_search: leaves scored per query; 0 picks num_leaves / 50 (at least 32).
      dimensions_per_block: dims per asymmetric-hashing block (2 is ScaNN's advice for
        recall; 4 is faster and coarser).
      anisotropic_threshold: the anisotropic quantization threshold eta (ScaNN paper,
        arXiv 1908.10396); 0.2 is its recommendation for unit vectors.
      reorder: candidates re-scored exactly (float32) before the final top k.
      training_sample_size: points sampled to train the tree and the quantizer. About
        125 per leaf at 1M points: fewer (ScaNN's default is 100k) lower recall
        (benchmarks/mining.py).
      num_threads: search threads (0 = all cores).
    """

    num_leaves: int = 0
    leaves_to_search: int = 0
    dimensions_per_block: int = 2
    anisotropic_threshold: float = 0.2
    reorder: int = 100
    training_sample_size: int = 250_000
    num_threads: int = 0

    def __post_init__(self):
        for name in ("num_leaves", "leaves_to_search", "num_threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"ScannConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("dimensions_per_block", "reorder", "training_sample_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"ScannConfig.{name} must be >= 1, got {getattr(self, name)}")

    def resolved(self, num_points: int) -> ScannConfig:
        """This config with the automatic (0) fields filled in for `num_points` points."""
        if not self.num_leaves and num_points < MIN_POINTS_FOR_TREE:
            return dataclasses.replace(self, leaves_to_search=0)
        leaves = self.num_leaves or max(1, round(LEAVES_PER_SQRT_N * math.sqrt(num_points)))
        search = self.leaves_to_search or max(
            MIN_LEAVES_TO_SEARCH, round(leaves * LEAVES_SEARCHED_FRACTION)
        )
        return dataclasses.replace(self, num_leaves=leaves, leaves_to_search=min(search, leaves))


class ScannIndex:
    """A ScaNN searcher over unit-length rows, scored by inner product (= cosine).

    Args:
      base: float [m, d]; copied into the index as float32.
      config: build and search settings (automatic fields resolved for m).

    Example:
      >>> index = ScannIndex(target_embeddings, ScannConfig())
      >>> scores, ids = index.search(source_embeddings, k=4)
    """

    def __init__(self, base: np.ndarray, config: ScannConfig | None = None):
        if base.ndim != 2 or len(base) == 0:
            raise ValueError(f"expected a non-empty [m, d] base, got shape {base.shape}")
        from scann.scann_ops.py import scann_ops_pybind

        self.size = len(base)
        self.config = (config or ScannConfig()).resolved(self.size)
        cfg = self.config
        data = np.ascontiguousarray(base, dtype=np.float32)
        # The builder's k is only a default; search() always passes its own.
        builder = scann_ops_pybind.builder(data, 10, "dot_product")
        if cfg.num_leaves:
            builder = builder.tree(
                num_leaves=cfg.num_leaves,
                num_leaves_to_search=cfg.leaves_to_search,
                training_sample_size=min(cfg.training_sample_size, self.size),
            )
        builder = builder.score_ah(
            cfg.dimensions_per_block,
            anisotropic_quantization_threshold=cfg.anisotropic_threshold,
            training_sample_size=min(cfg.training_sample_size, self.size),
        )
        with quiet.native_stderr_silenced():  # ScaNN's C++ training log lines
            self._searcher = builder.reorder(cfg.reorder).build()
        if cfg.num_threads:
            self._searcher.set_num_threads(cfg.num_threads)

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        leaves_to_search: int | None = None,
        chunk: int = 65_536,
        progress: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The approximate `k` nearest rows of the base for each query.

        Args:
          queries: float [n, d].
          k: neighbours per query, 1 <= k <= m.
          leaves_to_search: overrides the config's value for this call (recall/speed).
          chunk: queries handed to ScaNN at a time (bounds the float32 copy).
          progress: a description to show progress, or None.

        Returns:
          (scores float32 [n, k], indices int64 [n, k]), rows by descending score; the
          scores are exact inner products of the returned rows (float32 reordering).
        """
        if not 1 <= k <= self.size:
            raise ValueError(f"k must be in [1, {self.size}] (the index size), got {k}")
        leaves = self.config.leaves_to_search if leaves_to_search is None else leaves_to_search
        n = len(queries)
        scores = np.empty((n, k), np.float32)
        indices = np.empty((n, k), np.int64)
        bar = Progress(progress, total=n, unit="queries") if progress else None
        for start in range(0, n, chunk):
            block = np.ascontiguousarray(queries[start : start + chunk], dtype=np.float32)
            idx, dist = self._searcher.search_batched_parallel(
                block,
                final_num_neighbors=k,
                pre_reorder_num_neighbors=max(self.config.reorder, k),
                leaves_to_search=leaves or None,
                batch_size=SEARCH_BATCH,
            )
            if idx.shape != (len(block), k):
                raise RuntimeError(
                    f"ScaNN returned {idx.shape} neighbours for {len(block)} queries and k={k}; "
                    "raise ScannConfig.leaves_to_search"
                )
            scores[start : start + len(block)] = dist
            indices[start : start + len(block)] = idx
            if bar is not None:
                bar.update(len(block))
        if bar is not None:
            bar.close()
        return scores, indices
