"""`lealla mine` as a function: embed both sides (unless given), mine into a folder.

The work folder keeps the embeddings and neighbour lists: a rerun resumes, and another
mode or threshold reuses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from lealla.embeddings import embedding_shards
from lealla.embeddings.text_encoder import TextEncoder
from lealla.files import fileio, output_dirs
from lealla.mining import mine as mine_lib
from lealla.mining import mine_corpus, mine_job, pair_filters
from lealla.mining.embedding_blocks import EmbeddingSet
from lealla.mining.scann_search import ScannConfig
from lealla.shards import shard_runner
from lealla.ui import console


@dataclasses.dataclass(frozen=True)
class MineConfig:
    """How `mine` embeds, searches and selects.

    Attributes:
      k: margin neighbourhood size (and candidates per side).
      mode: mutual, union, forward or backward.
      threshold: keep pairs whose margin score is >= this; None keeps all, or with
        `calibration` chooses the F1-optimal threshold on those known pairs.
      calibration: known translation pairs (src, tgt) that occur in the inputs.
      exact: brute-force search instead of ScaNN.
      scann: ScaNN settings per block.
      index_shard_size: rows per block (each target block gets its own index).
      embed: how each side is embedded (shard size, batch size, dtype, bad lines).
      filters: junk filters applied to each mined pair.
      dedupe: leave out repeated sentences (the first of each is kept) before search.

    Example:
      >>> import lealla
      >>> config = lealla.MineConfig(mode="union", threshold=1.05, exact=True)
      >>> config.k, config.embed.dtype
      (4, 'float16')
    """

    k: int = mine_lib.DEFAULT_K
    mode: str = "mutual"
    threshold: float | None = None
    calibration: tuple[tuple[str, str], ...] = ()
    exact: bool = False
    scann: ScannConfig = dataclasses.field(default_factory=ScannConfig)
    index_shard_size: int = 1_000_000
    embed: embedding_shards.EmbedConfig = dataclasses.field(
        default_factory=embedding_shards.EmbedConfig
    )
    filters: pair_filters.PairFilter = dataclasses.field(default_factory=pair_filters.PairFilter)
    dedupe: bool = True

    def __post_init__(self):
        if self.k < 1 or self.index_shard_size < 1:
            raise ValueError("k and index_shard_size must be >= 1")
        if self.mode not in mine_lib.MINING_MODES:
            raise ValueError(f"mode must be one of {', '.join(mine_lib.MINING_MODES)}")


def mine(
    out: str,
    *,
    encoder: Callable[[], TextEncoder] | None = None,
    src: Sequence[str] = (),
    tgt: Sequence[str] = (),
    src_embeddings: str | None = None,
    tgt_embeddings: str | None = None,
    config: MineConfig = MineConfig(),
    work_dir: str | None = None,
    overwrite: bool = False,
    runner: shard_runner.RunnerConfig = shard_runner.IN_THIS_PROCESS,
) -> dict:
    """Mines translation pairs of two corpora of any size into the folder `out`.

    Args:
      out: the output folder (pairs-TTTTT.tsv, summary.json, scores.png); refused if
        it exists, unless `overwrite`.
      encoder: a picklable function returning a `TextEncoder` (Beam workers call it
        themselves; `lealla.mine` passes one for an encoder spec); needed unless both
        sides' embeddings are given.
      src: source sentence files or globs, one sentence per line.
      tgt: target sentence files or globs.
      src_embeddings: a `lealla embed` folder of the source side (instead of embedding).
      tgt_embeddings: the same for the target side.
      config: search, selection and filter settings.
      work_dir: embeddings and neighbour lists; default `out` + ".work".
      overwrite: replace an existing output folder.
      runner: where the embedding and mining pipelines run.

    Returns:
      The summary (also `out`/summary.json): pairs, files, sentences per side,
      duplicates left out, pairs dropped by each filter, the threshold, settings.
    """
    for side, files, folder in (("src", src, src_embeddings), ("tgt", tgt, tgt_embeddings)):
        if not files and not folder:
            raise ValueError(f"give {side} files or {side}_embeddings")
    if not (src_embeddings and tgt_embeddings) and not encoder:
        raise ValueError("an encoder is needed to embed the src/tgt files")
    mine_corpus.check_output(out, overwrite)
    output_dirs.check_writable(out)
    work = work_dir or out.rstrip("/") + ".work"
    output_dirs.check_writable(work, "--work_dir")
    files = {
        side: [p for spec in specs for p in fileio.expand(spec, f"--{side} file")]
        for side, specs in (("src", src), ("tgt", tgt))
    }
    folders = {"src": src_embeddings, "tgt": tgt_embeddings}
    missing = [side for side in ("src", "tgt") if not folders[side]]
    if missing:
        loaded = encoder()
        for side in missing:
            folders[side] = fileio.join(work, f"{side}_embeddings")
            console.stage(f"embedding the {side} side ({len(files[side])} file(s)) into "
                          f"{folders[side]}")  # fmt: skip
            embedding_shards.embed_files(
                loaded.name, loaded.dim, encoder, files[side], folders[side], config.embed,
                runner=runner, replace_mismatch=True,
            )  # fmt: skip
    sides = {side: EmbeddingSet.open(folders[side], config.index_shard_size)
             for side in ("src", "tgt")}  # fmt: skip
    for side, embedded in sides.items():
        embedded.check_text(files[side] or None)
    _check_same_encoder(sides["src"], sides["tgt"])
    job = mine_job.MineJob(
        sides["src"], sides["tgt"], work, k=config.k,
        method="exact" if config.exact else "scann", scann=config.scann, mode=config.mode,
        threshold=config.threshold, filters=config.filters, calibration=config.calibration,
    )  # fmt: skip
    return mine_corpus.mine_to_folder(job, out, runner, overwrite=overwrite, dedupe=config.dedupe)


def _check_same_encoder(src: EmbeddingSet, tgt: EmbeddingSet) -> None:
    a, b = src.identity, tgt.identity
    if (a["encoder"], a["embedding_dim"]) != (b["encoder"], b["embedding_dim"]):
        raise ValueError(
            f"the two sides were embedded differently: {src.folder} by {a['encoder']} "
            f"({a['embedding_dim']} dims), {tgt.folder} by {b['encoder']} "
            f"({b['embedding_dim']} dims); embed both with the same encoder"
        )
