"""Sentence embeddings of monolingual text as sharded .npy files (`lealla embed`).

Layout of an embeddings folder:
  manifest.json            format, schema_version, identity (encoder, dim, dtype, input
                           files' fingerprints, shard size, bad-line policy), the shards
                           (input file, first line, count, size, sha256), complete,
                           skipped-line counts
  NNN-SSSSS.npy            [n, d] float16/float32 unit-length embeddings of shard SSSSS
                           of input file NNN (the lines that passed validation, in order);
                           int8 codes [n, d] or packed sign bits uint8 [n, d/8] with
                           --dtype=int8|binary (`embedding_codec`)
  NNN-SSSSS.scales.npy     int8 only: float32 [d] per-dimension scales of the shard
  NNN-SSSSS.index.npy      int64 [n, 2]: each row's 1-based line number and the byte
                           offset of that line in the input file (to fetch the text)

Built like the teacher cache: line-range shards (`line_shards`) embedded by this process
or a Beam pipeline (`shard_runner`), each published by rename with a record beside it,
the manifest written last (`lealla.shards.output`); every runner writes the same bytes.
The input of bitext mining at scale and of users' own pipelines.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from lealla.config import json_config
from lealla.embeddings import embedding_codec
from lealla.files import fileio, json_shape, output_dirs, textio
from lealla.shards import contract, line_shards, output, shard_runner

MANIFEST = output.MANIFEST
# What the readers use (lealla.files.json_shape): a damaged manifest is named, not a TypeError.
MANIFEST_SHAPE = {
    "schema_version?": int,
    "identity": {
        "encoder": str, "embedding_dim": int, "dtype": str,
        "inputs": [{"path": str, "bytes": int, "sha256": str}],
    },
    "shards": [{
        "file": str, "index": str, "input": int, "first_line": int, "count": int, "bytes": int,
        "scales?": str, "scales_bytes?": int,
    }],
    "complete?": bool,
}  # fmt: skip
UNFINISHED_SHAPE = {"schema_version?": int, "identity": dict, "shards": list, "complete?": bool}
FORMAT = "lealla-embeddings"
SCHEMA_VERSION = 1
DTYPES = ("float16", "float32")  # what the teacher cache stores; embed also quantizes


class EmbeddingsMismatchError(ValueError):
    """An existing embeddings folder was made with another encoder, input or setting."""


@dataclasses.dataclass(frozen=True)
class EmbedConfig(json_config.ConfigMixin):
    """How sentences are embedded.

    Attributes:
      shard_size: input lines per shard (the unit of work and resumption).
      batch_size: sentences per encoder call (sorted by length within a shard).
      dtype: stored precision: float16 halves the size; int8 (per-dimension scales) and
        binary (sign bits) are 4x and 32x smaller than float32, and the manifest records
        the recall they keep (`embedding_codec`).
      on_bad_line: "error" or "skip" (invalid UTF-8, control characters, empty lines).

    Example:
      >>> import lealla
      >>> lealla.EmbedConfig(dtype="int8", shard_size=10_000).batch_size
      256
    """

    shard_size: int = 100_000
    batch_size: int = 256
    dtype: str = "float16"
    on_bad_line: str = "error"

    def __post_init__(self):
        check_settings(
            self.shard_size, self.batch_size, self.dtype, self.on_bad_line,
            embedding_codec.STORAGE_DTYPES,
        )  # fmt: skip


def check_settings(
    shard_size: int, batch_size: int, dtype: str, on_bad_line: str, dtypes=DTYPES
) -> None:
    """The settings every sharded embedding job shares (also the teacher cache's).

    Raises:
      ValueError: naming the bad setting.
    """
    if shard_size < 1 or batch_size < 1:
        raise ValueError(f"shard_size and batch_size must be >= 1, got {shard_size}, {batch_size}")
    if dtype not in dtypes:
        raise ValueError(f"dtype must be one of {tuple(dtypes)}, got {dtype!r}")
    textio.check_on_bad_line(on_bad_line)


@dataclasses.dataclass(frozen=True)
class Shard:
    """One published shard, as a reader sees it."""

    input: str
    first_line: int
    lines: np.ndarray  # int64 [n]: 1-based line numbers
    offsets: np.ndarray  # int64 [n]: byte offsets of those lines
    embeddings: np.ndarray  # [n, d] float16/float32 as stored, or int8/binary decoded


def embed_files(
    encoder_name: str,
    embedding_dim: int,
    load_encoder: Callable[[], Any],
    inputs: Sequence[str],
    out_dir: str,
    config: EmbedConfig = EmbedConfig(),
    *,
    runner: contract.RunnerConfig = contract.IN_THIS_PROCESS,
    overwrite: bool = False,
    replace_mismatch: bool = False,
) -> dict:
    """Embeds every line of `inputs` into `out_dir` (resumable).

    Args:
      encoder_name: what the encoder was loaded from (the identity of the output).
      embedding_dim: its output width.
      load_encoder: a picklable function returning a `lealla.embeddings.text_encoder.TextEncoder`
        (e.g. `functools.partial(lealla.load_encoder, spec)`); called once per worker.
      inputs: text files, one sentence per line.
      out_dir: the output folder.
      config: shard size, batch size, dtype, bad-line policy.
      runner: where shards are embedded.
      overwrite: start over, whatever `out_dir` holds.
      replace_mismatch: resume an output of the same identity, replace one of another
        (a folder this toolkit owns, e.g. `lealla mine`'s work folder).

    Returns:
      The final manifest.

    Raises:
      EmbeddingsMismatchError: `out_dir` holds embeddings of another identity.
      CorpusError: a bad line with on_bad_line="error", naming file and line; an
        empty input file (0 bytes: a wrong path or a failed export upstream, more
        likely than a wish for no embeddings).
      UnsafeOutputError: `out_dir` is, holds or is inside an input (`output_dirs`).
      NotOursError: `out_dir` holds files `lealla embed` did not write (and no
        manifest of ours), or anything else when it is to be replaced.
      FolderInUseError: another process is writing `out_dir`.
    """
    for path in inputs:
        textio.require_file(path, "input file")
        if fileio.size(path) == 0:
            raise textio.CorpusError(path, None, "empty file, nothing to embed; leave it out")
    output_dirs.check_target(out_dir, "--out", [("--input", p) for p in inputs])
    with output_dirs.locked(out_dir):
        if overwrite:
            output_dirs.check_replaceable(out_dir, output_dirs.EMBEDDINGS)
        else:
            output_dirs.check_fillable(out_dir, output_dirs.EMBEDDINGS)
        return _embed_locked(
            encoder_name, embedding_dim, load_encoder, inputs, out_dir, config, runner,
            overwrite, replace_mismatch,
        )  # fmt: skip


def _embed_locked(
    encoder_name, embedding_dim, load_encoder, inputs, out_dir, config, runner, overwrite,
    replace_mismatch,
) -> dict:  # fmt: skip
    shards = line_shards.plan([(p,) for p in inputs], config.shard_size)
    identity = {
        "encoder": encoder_name,
        "embedding_dim": int(embedding_dim),
        "dtype": config.dtype,
        "inputs": [_fingerprint(p) for p in inputs],
        "shard_size": config.shard_size,
        "on_bad_line": config.on_bad_line,
    }
    created = not fileio.exists(out_dir)
    manifest = output.open_output(
        out_dir, identity, EMBEDDINGS, overwrite=overwrite, replace_mismatch=replace_mismatch
    )
    if manifest.get("complete"):
        return manifest
    job = _EmbedShards(load_encoder, tuple(inputs), out_dir, config)
    with output.removed_if_nothing_published(
        out_dir, created, lambda: any(job.is_done(s) for s in shards)
    ):
        shard_runner.run(job, shards, runner, label="embedding sentences")
    manifest = output.completed(manifest, [job.record(s) for s in shards], "num_sentences")
    records, num_sentences = manifest["shards"], manifest["num_sentences"]
    manifest["storage"] = {
        "bytes": sum(r["bytes"] + r.get("scales_bytes", 0) for r in records),
        "float32_bytes": 4 * num_sentences * int(embedding_dim),
    }
    if config.dtype in embedding_codec.QUANTIZED:
        measured = [r for r in records if r.get("recall_queries")]
        queries = sum(r["recall_queries"] for r in measured)
        manifest["storage"]["recall_at_10"] = (
            sum(r["recall_at_10"] * r["recall_queries"] for r in measured) / queries
            if queries else None
        )  # fmt: skip
    output.finish(out_dir, manifest, shards)
    return manifest


def embed(
    encoder: Callable[[], Any],
    inputs: Sequence[str],
    out: str,
    config: EmbedConfig = EmbedConfig(),
    *,
    runner: shard_runner.RunnerConfig = shard_runner.IN_THIS_PROCESS,
    overwrite: bool = False,
) -> dict:
    """`lealla embed`: every line of the `inputs` files (or globs) into the folder `out`.

    Args:
      encoder: a picklable function returning a `TextEncoder`; each worker calls it once
        (`lealla.embed` passes one for an encoder spec).
      inputs: text files or globs, one sentence per line.
      out: the output folder (resumed if it holds the same identity).
      config: shard size, batch size, dtype, bad-line policy.
      runner: where shards are embedded.
      overwrite: start over, whatever `out` holds.

    Returns:
      The manifest: identity, shards, num_sentences, storage (bytes vs float32).
    """
    output_dirs.check_writable(out)
    files = [path for spec in inputs for path in fileio.expand(spec, "--input file")]
    loaded = encoder()
    return embed_files(
        loaded.name, loaded.dim, encoder, files, out, config, runner=runner, overwrite=overwrite
    )


def read_manifest(folder: str) -> dict:
    path = fileio.join(folder, MANIFEST)
    if not fileio.exists(path):
        raise FileNotFoundError(f"no embeddings at {folder} (no {MANIFEST}); make them with "
                                f"`lealla embed`")  # fmt: skip
    try:
        manifest = json.loads(fileio.read_bytes(path))
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); rerun `lealla embed` with the same "
                         f"flags and --overwrite") from None  # fmt: skip
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: not a `lealla embed` manifest")
    # An unfinished manifest is only compared and resumed; a finished one is read.
    shape = MANIFEST_SHAPE if manifest.get("complete") is True else UNFINISHED_SHAPE
    json_shape.check(path, manifest, shape, advice="; the folder is damaged: rerun "
                     "`lealla embed` with the same flags and --overwrite")  # fmt: skip
    if manifest.get("schema_version", 0) > SCHEMA_VERSION:
        raise ValueError(
            f"{path}: written by a newer version (schema {manifest['schema_version']}, this "
            f"one reads up to {SCHEMA_VERSION}); upgrade lealla"
        )
    return manifest


def iter_shards(folder: str) -> Iterator[Shard]:
    """The shards of a finished embeddings folder, in input and line order."""
    manifest = read_manifest(folder)
    if not manifest.get("complete"):
        raise ValueError(f"the embeddings at {folder} are unfinished; rerun `lealla embed` "
                         f"with the same flags to finish them")  # fmt: skip
    inputs = [i["path"] for i in manifest["identity"]["inputs"]]
    for record in manifest["shards"]:
        embeddings = load_embeddings(folder, record, manifest["identity"])
        index = load_npy(fileio.join(folder, record["index"]), None)
        yield Shard(inputs[record["input"]], record["first_line"], index[:, 0], index[:, 1],
                    embeddings)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _EmbedShards(output.RecordedShards):
    """`lealla embed` as a sharded job (see `contract.ShardJob`)."""

    load_encoder: Callable[[], Any]
    inputs: tuple[str, ...]
    out_dir: str
    config: EmbedConfig

    def setup(self):
        return self.load_encoder()

    def process(self, encoder, shard: line_shards.LineShard) -> None:
        path = self.inputs[shard.source]
        report = textio.BadLineReport()
        texts, index = [], []
        offset = shard.offsets[0]
        for line_no, (raw,) in line_shards.read_rows((path,), shard):
            try:
                text = textio.split_fields(path, line_no, textio.decode_line(path, line_no, raw),
                                           None)[0]  # fmt: skip
            except textio.CorpusError as e:
                if self.config.on_bad_line == "error":
                    raise
                report.add(e)
            else:
                texts.append(text)
                index.append((line_no, offset))
            offset += len(raw) + 1
        # Length-ordered batches of the shard's texts: the same on every runner and worker.
        embeddings = (
            encoder.encode(texts, batch_size=self.config.batch_size)
            if texts
            else np.zeros((0, encoder.dim), np.float32)  # a shard of bad lines only
        )
        files = {"file": f"{shard.name}.npy", "index": f"{shard.name}.index.npy"}
        stored, scales = embedding_codec.encode(embeddings, self.config.dtype)
        arrays = {"file": stored, "index": np.asarray(index, np.int64).reshape(-1, 2)}
        extra = {}
        if scales is not None:
            files["scales"], arrays["scales"] = f"{shard.name}.scales.npy", scales
        if self.config.dtype in embedding_codec.QUANTIZED:
            extra = {
                "recall_at_10": embedding_codec.recall_against_float(
                    embeddings, stored, self.config.dtype, scales),
                "recall_queries": min(len(texts), embedding_codec.RECALL_QUERIES),
            }  # fmt: skip
        digests = {
            key: output.save_npy(fileio.join(self.out_dir, files[key]), array)
            for key, array in arrays.items()
        }
        self.write_record(shard, {
            **files, "input": shard.source, "first_line": shard.first_line + 1,
            "count": len(texts), "bytes": digests["file"][0], "sha256": digests["file"][1],
            **({"scales_bytes": digests["scales"][0]} if "scales" in digests else {}),
            **extra, "skipped": dict(report.counts),
        })  # fmt: skip


def _mismatch(out_dir: str, old: dict, new: dict) -> EmbeddingsMismatchError:
    keys = output.differing_keys(old, new)
    return EmbeddingsMismatchError(
        f"the embeddings at {out_dir} were made differently ({', '.join(keys)} differ: "
        f"{ {k: old.get(k) for k in keys if k != 'inputs'} } vs "
        f"{ {k: new.get(k) for k in keys if k != 'inputs'} }); use another --out "
        f"or pass --overwrite"
    )


def load_embeddings(folder: str, record: dict, identity: dict) -> np.ndarray:
    """One shard's embeddings: float16/float32 as stored; int8/binary decoded to float32."""
    stored = load_npy(fileio.join(folder, record["file"]), record["bytes"])
    dtype = identity["dtype"]
    if dtype not in embedding_codec.QUANTIZED:
        return stored
    scales = (
        load_npy(fileio.join(folder, record["scales"]), record["scales_bytes"])
        if dtype == "int8"
        else None
    )
    return embedding_codec.decode(stored, dtype, int(identity["embedding_dim"]), scales)


def load_npy(path: str, expected_bytes: int | None) -> np.ndarray:
    """One shard file, checked against the size its record gives (when given)."""
    data = fileio.read_bytes(path)
    if expected_bytes is not None and len(data) != expected_bytes:
        raise ValueError(f"{path}: {len(data)} bytes, the manifest says {expected_bytes}; the "
                         f"file is damaged: rerun `lealla embed` with --overwrite")  # fmt: skip
    return np.load(io.BytesIO(data), allow_pickle=False)


def _fingerprint(path: str) -> dict:
    size, sha256 = fileio.sha256(path)
    return {"path": path, "bytes": size, "sha256": sha256}


EMBEDDINGS = output.OutputKind(
    "embeddings", read_manifest, _mismatch,
    header=(("format", FORMAT), ("schema_version", SCHEMA_VERSION)),
)  # fmt: skip
