"""Bitext mining: streamed embedding, ScaNN or exact kNN, ratio-margin scoring, TSV output."""

from lealla.embeddings.exact_search import exact_knn
from lealla.mining.embed_stream import embed_lines
from lealla.mining.line_file import LineFile
from lealla.mining.margin import neighborhood_mean, ratio_margin
from lealla.mining.mine import MINING_MODES, MinedPairs, mine_pairs
from lealla.mining.neighbors import SEARCH_METHODS, knn_search
from lealla.mining.pairs_tsv import write_pairs_tsv
from lealla.mining.scann_search import ScannConfig, ScannIndex

__all__ = [
    "MINING_MODES",
    "SEARCH_METHODS",
    "LineFile",
    "MinedPairs",
    "ScannConfig",
    "ScannIndex",
    "embed_lines",
    "exact_knn",
    "knn_search",
    "mine_pairs",
    "neighborhood_mean",
    "ratio_margin",
    "write_pairs_tsv",
]
