"""A `lealla embed` folder seen as one numbered array of rows, cut into search blocks.

Mining at scale numbers every embedded sentence of one side globally (the shards in
manifest order, the rows of each shard in line order) and cuts that sequence into
blocks of `block_size` rows: a block is what one worker indexes (the target side) or
streams as queries (the source side). Only the shards a block overlaps are read, so
a worker's memory is bounded by the block size, never by the corpus.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence

import numpy as np

from lealla.embeddings import embedding_shards
from lealla.files import fileio, textio


class EmbeddingsTextMismatchError(ValueError):
    """Embeddings that do not belong to the text they claim (edited input, bad shard)."""


@dataclasses.dataclass(frozen=True)
class EmbeddingSet:
    """The rows of one finished embeddings folder.

    Attributes:
      folder: the `lealla embed` output folder.
      block_size: rows per search block.
      identity: the manifest's identity (encoder, embedding_dim, inputs, ...).
      records: the manifest's shard records (file, index, input, count, ...).
      starts: int64 [num_shards + 1], the first global row of each shard (and the total).
      dropped_prefix: with duplicates dropped (`without_duplicates`), where each shard's
        dropped rows are (`PREFIX-SSSSS.rows.npy`, local rows; no file: none dropped); global
        rows then number the kept sentences only.
    """

    folder: str
    block_size: int
    identity: dict
    records: tuple[dict, ...]
    starts: tuple[int, ...]
    dropped_prefix: str | None = None

    @classmethod
    def open(cls, folder: str, block_size: int) -> EmbeddingSet:
        """Reads the manifest of a finished folder.

        Raises:
          FileNotFoundError, ValueError: no manifest, an unfinished or newer one.
        """
        if block_size < 1:
            raise ValueError(f"block size must be >= 1, got {block_size}")
        manifest = embedding_shards.read_manifest(folder)
        if not manifest.get("complete"):
            raise ValueError(f"the embeddings at {folder} are unfinished; rerun `lealla embed` "
                             f"with the same flags to finish them")  # fmt: skip
        records = tuple(manifest["shards"])
        starts = np.concatenate([[0], np.cumsum([r["count"] for r in records])]).astype(np.int64)
        return cls(folder, block_size, manifest["identity"], records, tuple(int(s) for s in starts))

    def without_duplicates(self, dropped_prefix: str, dropped: list[int]) -> EmbeddingSet:
        """This set without the rows listed in `dropped_prefix` files (`dropped`: how many
        per shard)."""
        kept = [r["count"] - n for r, n in zip(self.records, dropped, strict=True)]
        starts = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
        return dataclasses.replace(self, starts=tuple(int(s) for s in starts),
                                   dropped_prefix=dropped_prefix)  # fmt: skip

    def shard_texts(self, shard: int) -> list[str]:
        """Every embedded sentence of one shard, duplicates included, in row order."""
        index = self._index(shard)
        path = self.inputs[self.records[shard]["input"]]
        out = []
        with fileio.open_read(path) as f:
            for line_no, offset in index.tolist():
                f.seek(offset)
                raw = f.readline().rstrip(b"\n")
                text = textio.decode_line(path, line_no, raw)
                out.append(textio.split_fields(path, line_no, text, None)[0])
        return out

    @property
    def size(self) -> int:
        return self.starts[-1]

    @property
    def dim(self) -> int:
        return int(self.identity["embedding_dim"])

    @property
    def num_blocks(self) -> int:
        return -(-self.size // self.block_size)

    @property
    def inputs(self) -> list[str]:
        return [i["path"] for i in self.identity["inputs"]]

    def block_range(self, block: int) -> tuple[int, int]:
        start = block * self.block_size
        return start, min(start + self.block_size, self.size)

    def block_of(self, rows: np.ndarray) -> np.ndarray:
        """The block of each global row."""
        return np.asarray(rows, np.int64) // self.block_size

    def read_block(self, block: int) -> np.ndarray:
        """float32 [n, d]: the embeddings of the block's rows, in row order."""
        start, stop = self.block_range(block)
        parts = []
        for shard in self._shards_between(start, stop):
            embeddings = self._embeddings(shard)
            kept = self._kept(shard)
            if kept is not None:
                embeddings = embeddings[kept]
            lo, hi = max(start, self.starts[shard]), min(stop, self.starts[shard + 1])
            parts.append(embeddings[lo - self.starts[shard] : hi - self.starts[shard]])
        if not parts:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input file number, 1-based line number, byte offset) of each global row."""
        rows = np.asarray(rows, np.int64)
        shards = np.searchsorted(np.asarray(self.starts), rows, side="right") - 1
        files = np.empty(len(rows), np.int64)
        lines = np.empty(len(rows), np.int64)
        offsets = np.empty(len(rows), np.int64)
        for shard in np.unique(shards):
            picked = shards == shard
            index = self._index(int(shard))
            local = rows[picked] - self.starts[shard]
            kept = self._kept(int(shard))
            if kept is not None:
                local = kept[local]
            files[picked] = self.records[shard]["input"]
            lines[picked] = index[local, 0]
            offsets[picked] = index[local, 1]
        return files, lines, offsets

    def read_texts(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        """The sentences of the given global rows (any order), read by byte offset."""
        files, lines, offsets = self.locate(np.asarray(rows, np.int64))
        out: list[str] = [""] * len(files)
        for number in np.unique(files):
            path = self.inputs[int(number)]
            with fileio.open_read(path) as f:
                for position in np.flatnonzero(files == number):
                    f.seek(int(offsets[position]))
                    raw = f.readline().rstrip(b"\n")
                    line_no = int(lines[position])
                    out[position] = textio.split_fields(
                        path, line_no, textio.decode_line(path, line_no, raw), None
                    )[0]
        return out

    def check_text(self, expected_inputs: Sequence[str] | None = None) -> None:
        """Refuses embeddings whose text changed or whose shards disagree with it.

        Raises:
          EmbeddingsTextMismatchError: an input file differs from the one embedded
            (size or checksum), the inputs are not `expected_inputs`, or a shard's
            row count differs from its line index.
        """
        if expected_inputs is not None and list(expected_inputs) != self.inputs:
            raise EmbeddingsTextMismatchError(
                f"the embeddings at {self.folder} are of {self.inputs}, not of "
                f"{list(expected_inputs)}"
            )
        for recorded in self.identity["inputs"]:
            path = recorded["path"]
            textio.require_file(path, "embedded input file")
            size, sha = fileio.sha256(path)
            if (size, sha) != (recorded["bytes"], recorded["sha256"]):
                raise EmbeddingsTextMismatchError(
                    f"{path} changed since it was embedded into {self.folder} ({size} bytes, "
                    f"{recorded['bytes']} when embedded); embed it again with `lealla embed "
                    f"--overwrite`"
                )
        for shard, record in enumerate(self.records):
            rows, index_rows = len(self._embeddings(shard)), len(self._index(shard))
            if not rows == index_rows == record["count"]:
                raise EmbeddingsTextMismatchError(
                    f"{fileio.join(self.folder, record['file'])}: {rows} embeddings for "
                    f"{index_rows} lines of text (the manifest says {record['count']}); embed "
                    f"the input again with `lealla embed --overwrite`"
                )

    def _shards_between(self, start: int, stop: int) -> range:
        starts = np.asarray(self.starts)
        first = int(np.searchsorted(starts, start, side="right") - 1)
        last = int(np.searchsorted(starts, stop, side="left"))
        return range(max(first, 0), min(last, len(self.records)))

    def _embeddings(self, shard: int) -> np.ndarray:
        record = self.records[shard]
        if not record["count"]:
            return np.zeros((0, self.dim), np.float32)
        return _load_embeddings(self.folder, shard, self.records, self.identity)

    def _kept(self, shard: int) -> np.ndarray | None:
        """Local rows kept in a shard, or None when nothing was dropped there."""
        if self.dropped_prefix is None:
            return None
        path = f"{self.dropped_prefix}-{shard:05d}.rows.npy"
        if not fileio.exists(path):
            return None
        dropped = _load(os.path.dirname(path), os.path.basename(path), None)
        return np.setdiff1d(np.arange(self.records[shard]["count"]), dropped)

    def _index(self, shard: int) -> np.ndarray:
        return _load(self.folder, self.records[shard]["index"], None).reshape(-1, 2)


@functools.lru_cache(maxsize=8)
def _load(folder: str, name: str, size: int | None) -> np.ndarray:
    """One shard file (a few recent ones are kept: neighbouring blocks share shards)."""
    return embedding_shards.load_npy(fileio.join(folder, name), size)


@functools.lru_cache(maxsize=8)
def _decoded(folder: str, file: str, size: int, scales: str | None, scales_size: int | None,
             dtype: str, dim: int) -> np.ndarray:  # fmt: skip
    record = {"file": file, "bytes": size, "scales": scales, "scales_bytes": scales_size}
    return embedding_shards.load_embeddings(folder, record, {"dtype": dtype, "embedding_dim": dim})


def _load_embeddings(folder: str, shard: int, records: tuple, identity: dict) -> np.ndarray:
    """One shard's float32 embeddings (decoded when stored as int8 or binary), cached."""
    r = records[shard]
    return _decoded(folder, r["file"], r["bytes"], r.get("scales"), r.get("scales_bytes"),
                    identity["dtype"], int(identity["embedding_dim"]))  # fmt: skip
