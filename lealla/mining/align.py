"""`lealla align` as a function: mine translation pairs from two monolingual files into a TSV.

Rows are `score<TAB>src sentence<TAB>tgt sentence`, best first; junk pairs are dropped
by a `PairFilter`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections import Counter
from collections.abc import Callable

from lealla.embeddings import text_encoder
from lealla.embeddings.text_encoder import TextEncoder
from lealla.files import output_dirs, textio
from lealla.mining import embed_stream, mine, neighbors, pair_filters, pairs_tsv, quantized_search
from lealla.mining.line_file import LineFile
from lealla.mining.scann_search import ScannConfig
from lealla.ui import console

# Queries sampled to measure the recall of a quantized search against float32.
RECALL_QUERIES = 1000


@dataclasses.dataclass(frozen=True)
class AlignConfig:
    """How `align` searches and what it keeps.

    Attributes:
      k: margin neighbourhood size (and candidates per side).
      mode: mutual (best for both sides), union (best for either), forward, backward.
      threshold: keep pairs whose margin score is >= this; None keeps all.
      exact: brute-force search instead of ScaNN.
      scann: ScaNN settings (0: sized to the data).
      embedding_dtype: what the search holds in memory: float32, int8 or binary.
      rescore: with binary: candidates re-scored with the float rows.
      batch_size: sentences per encoder batch.
      dtype: storage of the embeddings (float32 or float16).
      work_dir: keep the embeddings as .npy memory maps here (large inputs), else RAM.
      on_bad_line: error (stop naming file and line) or skip.
      dedupe: leave out repeated sentences (the first of each is kept) before search.
      filters: the junk filters applied to each mined pair.

    Example:
      >>> import lealla
      >>> config = lealla.AlignConfig(threshold=1.05, filters=lealla.PairFilter(max_chars=300))
      >>> config.mode, config.filters.max_chars
      ('mutual', 300)
    """

    k: int = mine.DEFAULT_K
    mode: str = "mutual"
    threshold: float | None = None
    exact: bool = False
    scann: ScannConfig = dataclasses.field(default_factory=ScannConfig)
    embedding_dtype: str = "float32"
    rescore: int = 100
    batch_size: int = 256
    dtype: str = "float32"
    work_dir: str | None = None
    on_bad_line: str = "error"
    dedupe: bool = True
    filters: pair_filters.PairFilter = dataclasses.field(default_factory=pair_filters.PairFilter)

    def __post_init__(self):
        if self.k < 1 or self.rescore < 1 or self.batch_size < 1:
            raise ValueError("k, rescore and batch_size must be >= 1")
        if self.mode not in mine.MINING_MODES:
            raise ValueError(f"mode must be one of {', '.join(mine.MINING_MODES)}")
        if self.embedding_dtype not in quantized_search.EMBEDDING_DTYPES:
            raise ValueError(
                f"embedding_dtype must be one of {', '.join(quantized_search.EMBEDDING_DTYPES)}"
            )
        if self.dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be float32 or float16, got {self.dtype!r}")
        if self.on_bad_line not in textio.ON_BAD_LINE_CHOICES:
            raise ValueError(f"on_bad_line must be one of {', '.join(textio.ON_BAD_LINE_CHOICES)}")


def align(
    encoder: TextEncoder | Callable[[], TextEncoder], src: str, tgt: str, out: str,
    config: AlignConfig = AlignConfig(),
) -> dict:  # fmt: skip
    """Mines the translation pairs of two sentence files into the TSV `out` (atomic).

    Both files are validated before the encoder is loaded (a bad line fails fast).

    Args:
      encoder: a `TextEncoder`, or a function that loads one (called once the files
        are valid).
      src: source sentences, one per line (UTF-8).
      tgt: target sentences, one per line (UTF-8).
      out: the output TSV: score<TAB>src<TAB>tgt.
      config: search and filter settings.

    Returns:
      The summary: pairs written, sentences per side, skipped lines, pairs dropped by
      each filter, duplicates left out and, with a quantized search, its memory and
      recall against float32 ("quantized_search").

    Raises:
      textio.CorpusError: a bad line (with on_bad_line="error"), naming file and line.
      output_dirs.UnsafeOutputError: `out` is a folder, or is (in) `src` or `tgt`.
      output_dirs.FolderInUseError: another process writes `out`.
    """
    if os.path.isdir(out):
        raise output_dirs.UnsafeOutputError(
            f"--out={out} is a folder; give the path of the .tsv to write"
        )
    output_dirs.check_target(out, "--out", [("--src", src), ("--tgt", tgt)])
    output_dirs.check_writable(out)
    output_dirs.acquire(out)  # one writer of --out at a time
    report = textio.BadLineReport()
    src_lines, tgt_lines = (
        LineFile(path, on_bad_line=config.on_bad_line, report=report, dedupe=config.dedupe)
        for path in (src, tgt)
    )
    console.stage(
        f"align: {len(src_lines)} source and {len(tgt_lines)} target sentences "
        f"({src_lines.duplicates} and {tgt_lines.duplicates} duplicates left out); "
        f"{report.summary()}"
    )
    encoder = text_encoder.resolve(encoder)
    quantized: dict = {}
    # A failed align leaves no folder it created behind.
    made = output_dirs.created(config.work_dir) if config.work_dir else contextlib.nullcontext()
    with made, tempfile.TemporaryDirectory(dir=config.work_dir) as scratch:
        work = scratch if config.work_dir else None
        emb = [
            embed_stream.embed_lines(
                lines,
                encoder,
                batch_size=config.batch_size,
                dtype=config.dtype,
                out_path=os.path.join(work, f"{side}.npy") if work else None,
                progress=f"embedding {lines.path}",
            )
            for side, lines in (("src", src_lines), ("tgt", tgt_lines))
        ]
        pairs = mine.mine_pairs(
            emb[0], emb[1], k=config.k, mode=config.mode, threshold=config.threshold,
            search=_search_fn(config, quantized),
        )  # fmt: skip
    dropped: Counter = Counter()
    written = pairs_tsv.write_pairs_tsv(out, pairs, src_lines, tgt_lines, config.filters, dropped)
    return {
        "pairs": written,
        "src_sentences": len(src_lines),
        "tgt_sentences": len(tgt_lines),
        "skipped": dict(report.counts),
        "dropped_by_filters": dict(dropped),
        "duplicates": {"src": src_lines.duplicates, "tgt": tgt_lines.duplicates},
        **({"quantized_search": quantized} if quantized else {}),
    }


def _search_fn(config: AlignConfig, quantized: dict) -> mine.SearchFn:
    """The kNN search of align; with a quantized `embedding_dtype`, fills `quantized`
    with the memory held and the recall against float32 (measured on the forward
    direction, on up to RECALL_QUERIES queries)."""
    if config.embedding_dtype != "float32":
        dtype = config.embedding_dtype

        def search_codes(queries, base, k):
            index = quantized_search.QuantizedIndex.build(base, dtype)
            if not quantized:
                sample = queries[:: max(1, len(queries) // RECALL_QUERIES)][:RECALL_QUERIES]
                quantized.update(
                    embedding_dtype=dtype, index_bytes=index.nbytes,
                    float32_bytes=int(base.shape[0] * base.shape[1] * 4),
                    recall_queries=len(sample),
                    recall_against_float32=quantized_search.recall_against_float(
                        sample, base, index, k, config.rescore),
                )  # fmt: skip
            return index.search(queries, k, config.rescore, progress=f"{dtype} search")

        return search_codes
    method = "exact" if config.exact else "scann"

    def search(queries, base, k):
        return neighbors.knn_search(
            queries, base, k, method=method, scann_config=config.scann,
            progress=f"{method} search",
        )  # fmt: skip

    return search
