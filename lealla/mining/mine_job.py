"""Bitext mining of two embedded corpora in blocks: what each pipeline step does.

`lealla mine` runs `mine.mine_pairs` on corpora that do not fit one machine. Each side
is a `lealla embed` folder cut into blocks (`embedding_blocks`); the steps below each
touch one block, and `beam_mine` wires them into an Apache Beam pipeline:

  0. Repeated sentences (`hash_shard`, `bucket_duplicates`, `write_dropped`): text
     hashes grouped by bucket across shards; all but the first occurrence are dropped.
  1. kNN, both directions: every index block is searched by every query block of the
     other side (`search_index_block`), the partial top-k lists are merged per query
     block by a combine (`block_math.merge_top_k`) and published (`publish_knn`).
  2. Margins: each query's candidates need the candidates' own neighbourhood means,
     which live with the other side's kNN lists; they are fetched block to block
     (`requests`, `answer`), then each query keeps its best candidate (`best`).
  3. Selection per target block (`select_and_write`): mutual / union / forward /
     backward and the threshold as `mine_pairs` does, then the pair filters, then one
     TSV shard and its statistics.

Work folder (resumable; a rerun with other --mode/--threshold/filters reuses 0 and 1):
  dedupe/{src,tgt}-SSSSS.rows.npy + .json  rows dropped from embedding shard S;
                                   done.json marks the step complete
  knn/manifest.json                what the lists were computed from (k, search, inputs)
  knn/{fwd,bwd}-QQQQQ.{scores,ids}.npy + .json   merged lists of query block Q
  knn/part/{fwd,bwd}-QQQQQ-IIIII.*               Q against index block I (a killed run
                                                  resumes from these)
  pairs/pairs-TTTTT.tsv + .json    the pairs whose target is in block T (staged, then
                                   moved to the output folder with summary.json)
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterator

import numpy as np

from lealla.embeddings import embedding_shards
from lealla.files import atomic, fileio
from lealla.mining import block_math, dedupe, mine, pair_filters
from lealla.mining.embedding_blocks import EmbeddingSet
from lealla.mining.scann_search import ScannConfig, ScannIndex
from lealla.shards import output

DIRECTIONS = ("fwd", "bwd")  # fwd: source queries, target index; bwd: the reverse
KNN_FORMAT, PAIRS_FORMAT = "lealla-knn", "lealla-mined-pairs"
# Score histogram bins of the summary (0.5-2.5): real pairs of large corpora score
# about 1.0-1.4, of small ones up to 2.
HISTOGRAM_EDGES = tuple(round(0.5 + 0.01 * i, 2) for i in range(201))


@dataclasses.dataclass(frozen=True)
class MineJob:
    """Everything a worker needs to run one step on one block (it pickles).

    Attributes:
      src, tgt: the two sides.
      work: the work folder.
      k: neighbourhood size.
      method: "scann" or "exact".
      scann: ScaNN settings (automatic fields resolved per index block).
      mode: one of mine.MINING_MODES.
      threshold: minimum margin score, or None.
      filters: pair filters.
      calibration: known (src, tgt) pairs for --threshold=auto: the selection step
        records the score of every pair touching them, and whether it is one of them.
    """

    src: EmbeddingSet
    tgt: EmbeddingSet
    work: str
    k: int = mine.DEFAULT_K
    method: str = "scann"
    scann: ScannConfig = dataclasses.field(default_factory=ScannConfig)
    mode: str = "mutual"
    threshold: float | None = None
    filters: pair_filters.PairFilter = dataclasses.field(default_factory=pair_filters.PairFilter)
    calibration: tuple[tuple[str, str], ...] = ()

    # --- sides and files -------------------------------------------------------------

    def queries(self, direction: str) -> EmbeddingSet:
        return self.src if direction == "fwd" else self.tgt

    def index_side(self, direction: str) -> EmbeddingSet:
        return self.tgt if direction == "fwd" else self.src

    @property
    def knn_dir(self) -> str:
        return fileio.join(self.work, "knn")

    @property
    def pairs_dir(self) -> str:
        return fileio.join(self.work, "pairs")

    def knn_name(self, direction: str, block: int) -> str:
        return f"{direction}-{block:05d}"

    def part_name(self, direction: str, qblock: int, iblock: int) -> str:
        return f"part/{direction}-{qblock:05d}-{iblock:05d}"

    def knn_done(self, direction: str, block: int) -> bool:
        return fileio.exists(fileio.join(self.knn_dir, f"{self.knn_name(direction, block)}.json"))

    def pairs_done(self, block: int) -> bool:
        return fileio.exists(fileio.join(self.pairs_dir, f"pairs-{block:05d}.json"))

    def knn_identity(self) -> dict:
        """What the kNN lists depend on (not the mode, threshold or filters)."""
        return {
            "format": KNN_FORMAT, "k": self.k, "method": self.method,
            "scann": self.scann.to_dict() if self.method == "scann" else None,
            **{side: {"identity": es.identity, "block_size": es.block_size,
                      "shards": [r["sha256"] for r in es.records], "size": es.size,
                      "without_duplicates": es.dropped_prefix is not None}
               for side, es in (("src", self.src), ("tgt", self.tgt))},
        }  # fmt: skip

    def knn_todo(self) -> list[tuple[str, int]]:
        return [(d, q) for d in DIRECTIONS for q in range(self.queries(d).num_blocks)
                if not self.knn_done(d, q)]  # fmt: skip

    # --- step 0: duplicates ----------------------------------------------------------

    @property
    def dedupe_dir(self) -> str:
        return fileio.join(self.work, "dedupe")

    def hash_shard(self, side: str, shard: int) -> Iterator[tuple[tuple[str, int], tuple]]:
        """The text hashes of one embedding shard, spread over buckets by hash."""
        embedded = getattr(self, side)
        values = dedupe.hashes(embedded.shard_texts(shard))
        buckets = np.mod(values, _buckets(embedded))
        rows = np.arange(len(values), dtype=np.int64)
        for bucket in np.unique(buckets):
            picked = buckets == bucket
            yield (side, int(bucket)), (shard, rows[picked], values[picked])

    def bucket_duplicates(self, side: str, parts) -> Iterator[tuple[tuple[str, int], np.ndarray]]:
        """Within one hash bucket: every occurrence after the first (shard, row) order."""
        if not parts:
            return
        shards = np.concatenate([np.full(len(p[1]), p[0], np.int64) for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
        order = np.lexsort((rows, shards))
        drop = order[~dedupe.first_occurrences(values[order])]
        for shard in np.unique(shards[drop]):
            yield (side, int(shard)), rows[drop[shards[drop] == shard]]

    def write_dropped(self, side: str, shard: int, row_lists) -> None:
        rows = np.sort(np.concatenate(list(row_lists)))
        self._save_arrays(self.dedupe_dir, f"{side}-{shard:05d}", {"rows": rows})

    def dropped_counts(self, side: str) -> list[int]:
        """Rows dropped per shard of one side (after the duplicates step)."""
        counts = []
        for shard in range(len(getattr(self, side).records)):
            arrays = self._load_arrays(self.dedupe_dir, f"{side}-{shard:05d}")
            counts.append(0 if arrays is None else len(arrays["rows"]))
        return counts

    # --- step 1: kNN -----------------------------------------------------------------

    def search_index_block(
        self, direction: str, iblock: int
    ) -> Iterator[tuple[tuple[str, int], tuple[np.ndarray, np.ndarray]]]:
        """Searches one index block with every query block still lacking its list.

        Yields ((direction, query block), (scores [n, kk], global ids [n, kk])); each
        result is saved as a part first, so a rerun reads it instead of searching.
        """
        side, queries = self.index_side(direction), self.queries(direction)
        todo = [q for q in range(queries.num_blocks) if not self.knn_done(direction, q)]
        if not todo:
            return
        base_ids, index = None, None
        for qblock in todo:
            name = self.part_name(direction, qblock, iblock)
            part = self._load_arrays(self.knn_dir, name)
            if part is None:
                if base_ids is None:  # built once, only when something is searched
                    start, stop = side.block_range(iblock)
                    base = side.read_block(iblock)
                    base_ids = np.arange(start, stop, dtype=np.int64)
                    if self.method == "scann" and len(base):
                        index = ScannIndex(base, self.scann)
                part = block_math.search_block(
                    queries.read_block(qblock), base, base_ids, self.k, method=self.method,
                    scann_config=self.scann, index=index,
                )  # fmt: skip
                self._save_arrays(self.knn_dir, name, {"scores": part[0], "ids": part[1]})
            else:
                part = (part["scores"], part["ids"])
            yield (direction, qblock), part

    def publish_knn(self, direction: str, qblock: int, lists: tuple[np.ndarray, np.ndarray]):
        scores, ids = lists
        self._save_arrays(self.knn_dir, self.knn_name(direction, qblock),
                          {"scores": scores, "ids": ids})  # fmt: skip

    def load_knn(self, direction: str, qblock: int) -> tuple[np.ndarray, np.ndarray]:
        arrays = self._load_arrays(self.knn_dir, self.knn_name(direction, qblock))
        if arrays is None:
            raise FileNotFoundError(
                f"{fileio.join(self.knn_dir, self.knn_name(direction, qblock))}: missing "
                f"neighbour lists; rerun the same command to compute them"
            )
        return arrays["scores"], arrays["ids"]

    def remove_parts(self) -> None:
        fileio.remove_folder(fileio.join(self.knn_dir, "part"))

    # --- step 2: margins -------------------------------------------------------------

    def requests(self, direction: str, qblock: int) -> Iterator[tuple[tuple[str, int], tuple]]:
        """Asks the blocks holding this block's candidates for their neighbourhood means.

        The mean of a target row (a forward candidate) comes from the backward lists,
        whose queries are the targets, and vice versa.
        """
        _, ids = self.load_knn(direction, qblock)
        other, other_side = _opposite(direction), self.index_side(direction)
        wanted = np.unique(ids)
        blocks = other_side.block_of(wanted)
        for block in np.unique(blocks):
            yield (other, int(block)), (direction, qblock, wanted[blocks == block])

    def answer(self, direction: str, block: int, asks) -> Iterator[tuple[tuple[str, int], tuple]]:
        """The neighbourhood means of this query block's rows, to each block that asked."""
        scores, _ = self.load_knn(direction, block)
        means = scores.astype(np.float32).mean(axis=1)
        start, _ = self.queries(direction).block_range(block)
        for asker_direction, asker_block, ids in asks:
            yield (asker_direction, asker_block), (ids, means[ids - start])

    def best(self, direction: str, qblock: int, answers) -> Iterator[tuple[int, tuple]]:
        """Each query's best candidate by margin, keyed by the target block of the pair."""
        scores, ids = self.load_knn(direction, qblock)
        table_ids = np.concatenate([a[0] for a in answers]) if answers else np.zeros(0, np.int64)
        table_means = (np.concatenate([a[1] for a in answers]) if answers
                       else np.zeros(0, np.float32))  # fmt: skip
        order = np.argsort(table_ids, kind="stable")
        mean_other = block_math.lookup(ids.ravel(), table_ids[order], table_means[order])
        best_ids, margins, cosines = block_math.best_candidates(
            scores, ids, mean_other.reshape(ids.shape)
        )
        start, stop = self.queries(direction).block_range(qblock)
        rows = np.arange(start, stop, dtype=np.int64)
        if direction == "fwd":
            src, tgt = rows, best_ids
        else:
            src, tgt = best_ids, rows
        blocks = self.tgt.block_of(tgt)
        for block in np.unique(blocks):
            picked = blocks == block
            yield int(block), (direction, src[picked], tgt[picked], margins[picked],
                               cosines[picked])  # fmt: skip

    # --- step 3: selection and output --------------------------------------------------

    def select_and_write(self, tblock: int, parts) -> None:
        """Selects the block's pairs, filters them and publishes a TSV shard."""
        found = {d: [p for p in parts if p[0] == d] for d in DIRECTIONS}
        forward, backward = (
            mine.MinedPairs(*(np.concatenate([p[i] for p in found[d]]) if found[d]
                              else np.zeros(0, np.float32 if i > 2 else np.int64)
                              for i in range(1, 5)))
            for d in DIRECTIONS
        )  # fmt: skip
        pairs = block_math.select_pairs(forward, backward, self.mode, self.tgt.size,
                                        self.threshold)  # fmt: skip
        src_texts, tgt_texts = self.src.read_texts(pairs.src), self.tgt.read_texts(pairs.tgt)
        keep, dropped = pair_filters.filter_pairs(src_texts, tgt_texts, self.filters)
        pairs = pairs.take(keep)
        src_loc = self._locations(self.src, pairs.src)
        tgt_loc = self._locations(self.tgt, pairs.tgt)
        lines = []
        kept = np.flatnonzero(keep)
        for n, position in enumerate(kept):
            lines.append(
                f"{pairs.score[n]:.6f}\t{_cell(src_texts[position])}\t"
                f"{_cell(tgt_texts[position])}\t{src_loc[n]}\t{tgt_loc[n]}\n"
            )
        record = {"candidates": len(keep), "dropped": dict(dropped)}
        if self.calibration:
            gold = set(self.calibration)
            sources, targets = {a for a, _ in gold}, {b for _, b in gold}
            record["calibration"] = [
                [float(pairs.score[n]), (src_texts[p], tgt_texts[p]) in gold]
                for n, p in enumerate(kept)
                if src_texts[p] in sources or tgt_texts[p] in targets
            ]  # fmt: skip
        self._write_shard(tblock, lines, pairs.score, record)

    def apply_threshold(self, tblock: int, threshold: float) -> None:
        """Drops the rows of a written shard that score below `threshold` (--threshold=auto)."""
        name = f"pairs-{tblock:05d}"
        record = json.loads(fileio.read_bytes(fileio.join(self.pairs_dir, f"{name}.json")))
        text = fileio.read_bytes(fileio.join(self.pairs_dir, f"{name}.tsv")).decode("utf-8")
        lines = [line for line in text.splitlines(keepends=True)
                 if float(line.split("\t", 1)[0]) >= threshold]  # fmt: skip
        scores = np.asarray([float(line.split("\t", 1)[0]) for line in lines], np.float32)
        self._write_shard(tblock, lines, scores, {**record, "threshold": threshold})

    def _write_shard(self, tblock: int, lines: list[str], scores: np.ndarray, record: dict):
        name = f"pairs-{tblock:05d}"
        atomic.atomic_write_text(fileio.join(self.pairs_dir, f"{name}.tsv"), "".join(lines))
        counts, _ = np.histogram(np.clip(scores, HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1]),
                                 bins=HISTOGRAM_EDGES)  # fmt: skip
        atomic.atomic_write_json(fileio.join(self.pairs_dir, f"{name}.json"), {
            **record, "file": f"{name}.tsv", "pairs": len(lines), "histogram": counts.tolist(),
            "score_sum": float(np.asarray(scores, np.float64).sum()),
        })  # fmt: skip

    def _locations(self, side: EmbeddingSet, rows: np.ndarray) -> list[str]:
        files, lines, _ = side.locate(rows)
        names = [os.path.basename(p) for p in side.inputs]
        return [f"{names[f]}:{line}" for f, line in zip(files.tolist(), lines.tolist(),
                                                        strict=True)]  # fmt: skip

    # --- files ---------------------------------------------------------------------

    def _save_arrays(self, folder: str, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Arrays as .npy files, then a record naming them (the record marks them done)."""
        record = {
            key: output.save_npy(fileio.join(folder, f"{name}.{key}.npy"), array)[0]
            for key, array in arrays.items()
        }
        atomic.atomic_write_json(fileio.join(folder, f"{name}.json"), record)

    def _load_arrays(self, folder: str, name: str) -> dict[str, np.ndarray] | None:
        record_path = fileio.join(folder, f"{name}.json")
        if not fileio.exists(record_path):
            return None
        record = json.loads(fileio.read_bytes(record_path))
        return {key: embedding_shards.load_npy(fileio.join(folder, f"{name}.{key}.npy"), size)
                for key, size in record.items()}  # fmt: skip


def _buckets(embedded: EmbeddingSet) -> int:
    """Hash buckets of the duplicate search: about one per shard (at most 1024)."""
    return max(1, min(1024, len(embedded.records)))


def _opposite(direction: str) -> str:
    return "bwd" if direction == "fwd" else "fwd"


def _cell(text: str) -> str:
    return text.replace("\t", " ")


def shard_records(job: MineJob) -> list[dict]:
    return [json.loads(fileio.read_bytes(fileio.join(job.pairs_dir, f"pairs-{b:05d}.json")))
            for b in range(job.tgt.num_blocks)]  # fmt: skip


def summarize(job: MineJob, threshold: float | None) -> dict:
    """The statistics of all published pair shards."""
    records = shard_records(job)
    dropped: Counter = Counter()
    for r in records:
        dropped.update(r["dropped"])
    pairs = sum(r["pairs"] for r in records)
    histogram = np.sum([r["histogram"] for r in records], axis=0).tolist()
    return {
        "format": PAIRS_FORMAT, "schema_version": 1, "pairs": pairs,
        "candidates": sum(r["candidates"] for r in records),
        "dropped_by_filters": {k: dropped[k] for k in pair_filters.REASONS if dropped[k]},
        "mean_score": sum(r["score_sum"] for r in records) / pairs if pairs else None,
        "src_sentences": job.src.size, "tgt_sentences": job.tgt.size,
        "encoder": job.src.identity["encoder"], "k": job.k, "mode": job.mode,
        "threshold": threshold, "method": job.method, "filters": job.filters.to_dict(),
        "histogram": {"edges": list(HISTOGRAM_EDGES), "counts": histogram},
        "files": [r["file"] for r in records],
    }  # fmt: skip
