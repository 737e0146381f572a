"""`lealla.align`, `lealla.mine`, `lealla.embed`: bitext mining and sharded embedding
(`lealla.mining`, `lealla.embeddings`) for an encoder spec."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lealla.api.encoders import load_encoder, loader
from lealla.embeddings import embedding_shards
from lealla.embeddings.embedding_shards import EmbedConfig
from lealla.embeddings.text_encoder import TextEncoder
from lealla.mining import align as align_lib
from lealla.mining import mine_run
from lealla.mining.align import AlignConfig
from lealla.mining.mine_run import MineConfig
from lealla.shards import shard_runner


def align(
    encoder: TextEncoder | str, src: str, tgt: str, out: str, config: AlignConfig = AlignConfig()
) -> dict:
    """Mines the translation pairs of two sentence files into the TSV `out` (atomic).

    `encoder` is a `TextEncoder` or a spec for `lealla.load_encoder`, loaded once both
    files are valid. See `lealla.mining.align.align` for the rest.

    Example:
      >>> import lealla
      >>> from lealla.data import demo_corpus
      >>> de, en = demo_corpus.split_path("test", "de"), demo_corpus.split_path("test", "en")
      >>> summary = lealla.align("use-multilingual", de, en, "pairs.tsv")
      >>> summary["pairs"] > 40  # of the 50 German-English translations
      True
      >>> len(open("pairs.tsv", encoding="utf-8").readlines()) == summary["pairs"]
      True
    """
    return align_lib.align(loader(encoder), src, tgt, out, config)


def mine(
    out: str,
    *,
    encoder: str | None = None,
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

    `encoder` is an encoder spec, loaded by each worker that embeds (needed unless both
    sides' embeddings are given). See `lealla.mining.mine_run.mine` for the rest.

    Example:
      >>> import lealla
      >>> from lealla.data import demo_corpus
      >>> summary = lealla.mine(
      ...     "mined", encoder="use-multilingual", src=[demo_corpus.split_path("test", "de")],
      ...     tgt=[demo_corpus.split_path("test", "en")])
      >>> summary["pairs"] > 40  # of the 50 German-English translations
      True
    """
    return mine_run.mine(
        out, encoder=functools.partial(load_encoder, encoder) if encoder else None,
        src=src, tgt=tgt, src_embeddings=src_embeddings, tgt_embeddings=tgt_embeddings,
        config=config, work_dir=work_dir, overwrite=overwrite, runner=runner,
    )  # fmt: skip


def embed(
    encoder: str,
    inputs: Sequence[str],
    out: str,
    config: EmbedConfig = EmbedConfig(),
    *,
    checkpoint: str = "best",
    runner: shard_runner.RunnerConfig = shard_runner.IN_THIS_PROCESS,
    overwrite: bool = False,
) -> dict:
    """`lealla embed`: every line of the `inputs` files (or globs) into the folder `out`.

    `encoder` is an encoder spec that each worker loads once (`checkpoint`: best or
    latest, for a training `--model_dir`). See
    `lealla.embeddings.embedding_shards.embed` for the rest.

    Example:
      >>> import lealla
      >>> from lealla.data import demo_corpus
      >>> manifest = lealla.embed("use-multilingual", [demo_corpus.split_path("test", "de")],
      ...                         "embeddings_de")
      >>> manifest["num_sentences"], manifest["identity"]["embedding_dim"]
      (50, 512)
    """
    load = functools.partial(load_encoder, encoder, checkpoint)  # picklable, for workers
    return embedding_shards.embed(load, inputs, out, config, runner=runner, overwrite=overwrite)
