"""tf.data input pipelines: validated corpora, temperature mixing, sharding, length buckets.

The Python scan (`scan_corpus`) validates every line once and counts examples per
language group; the pipeline itself is pure tf.data (TextLineDataset and TF ops), so
it runs without the GIL, and its iterator can be saved in a tf.train.Checkpoint so a
resumed run continues from the same data position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence

import tensorflow as tf
from absl import logging

from lealla.config.json_config import ConfigMixin
from lealla.data import corpus, languages, sampling
from lealla.files import textio

# alpha = 0.3 in the LaBSE/XLM vocabulary (see sampling.temperature_weights).
DEFAULT_TEMPERATURE = 1.0 / 0.3
# Dataset functions here use no Python control flow on tensors: skipping AutoGraph
# avoids re-parsing their source at trace time (and its warnings).
_graph_only = tf.autograph.experimental.do_not_convert


@dataclasses.dataclass(frozen=True)
class InputConfig(ConfigMixin):
    """How examples are drawn from a corpus.

    Attributes:
      temperature: language sampling temperature T >= 1 (1 = proportional to the
        data, larger = flatter); see `sampling.temperature_weights`.
      shuffle_buffer: examples held per language group for shuffling.
      seed: seeds shuffling and group sampling; same seed, same order.
      num_shards: input pipelines (workers) reading the corpus.
      shard_index: which of them this is, in [0, num_shards).
      repeat: loop over the data forever (training) or make one pass (evaluation).
      on_bad_line: "error" stops at the first bad line; "skip" drops bad lines and
        counts them in the scan report.
      mono_share: the share of monolingual examples in the mix (None: monolingual
        groups are weighted by temperature like language pairs).
      min_share: a sampling floor per group (languages with little data).
      pair_monolingual: with `repeat`, each monolingual example holds two sentences
        of its language, the second as "tgt" (with "tgt_lang" still ""), so a
        training row never has an empty side; the monolingual share then counts
        rows, each worth two sentences (`pair_monolingual_rows`).
    """

    temperature: float = DEFAULT_TEMPERATURE
    shuffle_buffer: int = 10_000
    seed: int = 0
    num_shards: int = 1
    shard_index: int = 0
    repeat: bool = True
    on_bad_line: str = "error"
    mono_share: float | None = None
    min_share: float = 0.0
    pair_monolingual: bool = False

    def __post_init__(self):
        sampling.check_shares(self.mono_share, self.min_share)
        if self.temperature < 1.0:
            raise ValueError(f"temperature must be >= 1, got {self.temperature}")
        if self.shuffle_buffer < 0:
            raise ValueError(f"shuffle_buffer must be >= 0, got {self.shuffle_buffer}")
        if not 0 <= self.shard_index < self.num_shards:
            raise ValueError(
                f"shard_index must be in [0, num_shards={self.num_shards}), got {self.shard_index}"
            )
        textio.check_on_bad_line(self.on_bad_line)


@dataclasses.dataclass(frozen=True)
class CorpusIndex:
    """The result of validating a corpus: per-source scans and the bad-line summary."""

    scans: tuple[corpus.SourceScan, ...]
    report: textio.BadLineReport

    @property
    def group_counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for scan in self.scans:
            for group, n in scan.group_counts.items():
                totals[group] = totals.get(group, 0) + n
        return dict(sorted(totals.items()))

    @property
    def num_examples(self) -> int:
        return sum(self.group_counts.values())


def scan_corpus(
    sources: Sequence[corpus.CorpusSource], *, on_bad_line: str = "error"
) -> CorpusIndex:
    """Validates every source in one streaming pass (see `corpus.scan_source`).

    Raises:
      CorpusError: the first bad line (with on_bad_line="error").
      ValueError: the corpus holds no usable example.
    """
    return corpus.drain(scan_corpus_examples(sources, on_bad_line=on_bad_line))


def scan_corpus_examples(
    sources: Sequence[corpus.CorpusSource], *, on_bad_line: str = "error"
) -> Generator[corpus.Example, None, CorpusIndex]:
    """`scan_corpus` that yields every valid example on the way; returns the index.

    For callers that need the sentences too (vocabulary pruning, token counts): one
    pass over the files gives both.
    """
    report = textio.BadLineReport()
    scans = []
    for source in sources:
        examples = corpus.scan_source_examples(source, on_bad_line=on_bad_line, report=report)
        scans.append((yield from examples))
    index = CorpusIndex(tuple(scans), report)
    if index.num_examples == 0:
        names = ", ".join(p for s in sources for p in s.paths)
        raise ValueError(f"no usable example in {names} ({report.summary()})")
    return index


def make_example_dataset(index: CorpusIndex, config: InputConfig) -> tf.data.Dataset:
    """Mixes all language groups of a scanned corpus into one stream of examples.

    Each group (all files of "de-en", say) is sharded, shuffled and repeated on its
    own, then groups are drawn with `sampling.mixture_weights`. The sources given a
    share (`chat.ko.txt@0.05`) form groups of their own, drawn for that share.

    Returns:
      A dataset of dicts {"src", "tgt", "src_lang", "tgt_lang"}: scalar tf.string;
      "tgt" and "tgt_lang" are "" for monolingual text.
    """
    parts: dict[str, list[tf.data.Dataset]] = {}
    counts: dict[str, int] = {}
    for scan in index.scans:
        shared = corpus.share_group_key(scan.source)
        for group, n in scan.group_counts.items():
            if n:
                key = shared or group
                parts.setdefault(key, []).append(_source_dataset(scan, group))
                counts[key] = counts.get(key, 0) + n
    datasets = {group: _concatenate(parts[group]) for group in sorted(parts)}
    shares = corpus.source_shares([scan.source for scan in index.scans])
    return mix_groups(datasets, counts, config, shares=shares)


def mix_groups(
    datasets: dict[str, tf.data.Dataset],
    counts: dict[str, int],
    config: InputConfig,
    shares: dict[str, float] | None = None,
) -> tf.data.Dataset:
    """Shards, shuffles and repeats each group's dataset, then draws groups by temperature.

    Args:
      datasets: group -> its examples (e.g. "de-en" -> all de-en files).
      counts: group -> number of examples (sets the temperature weights).
      config: sharding, shuffling, repetition and temperature.
      shares: groups drawn with a share of their own (the sources given one,
        `corpus.source_shares`); the others share the rest.

    Returns:
      One dataset; with `config.repeat=False`, every example exactly once.
    """
    groups = sorted(datasets)
    shares = shares or {}
    monolingual = {g for g in groups if "-" not in g and g not in shares}
    weights = sampling.mixture_weights(
        {g: counts[g] for g in groups}, config.temperature, monolingual=monolingual,
        mono_share=config.mono_share, min_share=config.min_share, fixed=shares,
    )  # fmt: skip
    _log_mix(weights, shares, config)
    prepared = []
    for group in groups:
        ds = datasets[group].shard(config.num_shards, config.shard_index)
        if config.shuffle_buffer > 1:
            ds = ds.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
        if config.repeat:
            ds = ds.repeat()
            if config.pair_monolingual and group in monolingual:
                ds = pair_monolingual_rows(ds)
        prepared.append(ds)
    if len(prepared) == 1:
        return prepared[0]
    if not config.repeat:
        # One pass over everything: plain concatenation keeps every example exactly once.
        return _concatenate(prepared)
    return tf.data.Dataset.sample_from_datasets(
        prepared, weights=[weights[g] for g in groups], seed=config.seed
    )


def pair_monolingual_rows(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Two monolingual examples of one group per row: the second's sentence as "tgt".

    A monolingual row's target side is otherwise empty, yet the student encodes it
    padded to the row's bucket like a real one: with half the rows monolingual, a
    quarter of the student's positions teach nothing. Paired, both sides carry a
    sentence and its teacher target ("src_emb" of the second as "tgt_emb" when the
    examples have one); "tgt_lang" stays "", so the row is still monolingual for
    every pair term (AMS, logit, cross-lingual targets, EMS) and only its feature and
    contrastive terms read the target side. Other features are the first example's.
    """

    @_graph_only
    def merge(two: dict) -> dict:
        row = {key: value[0] for key, value in two.items()}
        row["tgt"] = two["src"][1]
        if "src_emb" in two:
            row["tgt_emb"] = two["src_emb"][1]
        return row

    return dataset.batch(2, drop_remainder=True).map(merge)


_logged_mixes: set[str] = set()


def mix_summary(weights: dict[str, float], shares: dict[str, float]) -> str:
    """One line for people: the groups given a share, then the others by weight."""
    order = sorted(weights, key=lambda g: (g not in shares, -weights[g], g))
    return ", ".join(f"{g} {weights[g]:.1%}" for g in order)


def _log_mix(weights: dict[str, float], shares: dict[str, float], config: InputConfig) -> None:
    # Once per process and mix: every input pipeline and the bank draw the same one.
    line = mix_summary(weights, shares)
    if config.repeat and line not in _logged_mixes:
        _logged_mixes.add(line)
        logging.info("sampling %d group(s): %s", len(weights), line)


def group_of(example: dict) -> tf.Tensor:
    """The sampling group of an example dict, in graph: "de-en", or "de" when monolingual.

    The tensor twin of `corpus.group_key`.
    """
    pair = tf.strings.join([example["src_lang"], example["tgt_lang"]], separator="-")
    return tf.where(tf.equal(example["tgt_lang"], ""), example["src_lang"], pair)


def bucket_by_length(
    dataset: tf.data.Dataset,
    *,
    lengths: Sequence[int],
    batch_size: int,
    length_keys: Sequence[str] = ("src_ids", "tgt_ids"),
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches examples of similar length, padding each batch to its bucket's length.

    Padding to a fixed set of lengths keeps shapes static (XLA and TPUs compile one
    program per bucket); equal batch sizes keep the in-batch negative pool constant.

    Args:
      dataset: dicts holding 1-D int token ids under `length_keys` (each at most
        `lengths[-1]` long) plus any scalar features.
      lengths: increasing padded lengths, e.g. (16, 32, 64, 128).
      batch_size: examples per batch, the same for every bucket.
      length_keys: the id features whose longest decides the bucket.
      drop_remainder: drop partial batches so every batch has `batch_size` rows.

    Returns:
      Batches with the id features padded (with 0) to one of `lengths`.
    """
    if list(lengths) != sorted(set(lengths)) or lengths[0] < 1:
        raise ValueError(f"lengths must be increasing positive ints, got {list(lengths)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    @_graph_only
    def element_length(example):
        return tf.reduce_max(tf.stack([tf.size(example[k]) for k in length_keys]))

    boundaries = [n + 1 for n in lengths]  # bucket i holds lengths <= lengths[i]
    return dataset.bucket_by_sequence_length(
        element_length,
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        pad_to_bucket_boundary=True,
        drop_remainder=drop_remainder,
    )


def tokenize_examples(
    dataset: tf.data.Dataset,
    tokenize: Callable[[tf.Tensor], tf.RaggedTensor],
    *,
    chunk_size: int = 256,
) -> tf.data.Dataset:
    """Adds "src_ids"/"tgt_ids" (1-D int32) and their lengths, tokenizing in chunks.

    Args:
      dataset: example dicts as made by `make_example_dataset`.
      tokenize: maps a [n] tf.string tensor to int32 ids [n, (tokens)], e.g. a
        `Packer` that adds special tokens and truncates.
      chunk_size: examples tokenized per call (vectorized), then unbatched.
    """

    @_graph_only
    def add_ids(batch):
        out = dict(batch)
        for side in ("src", "tgt"):
            ids = tokenize(batch[side])
            out[f"{side}_ids"] = ids
            # Lengths travel with the ids: the mask must not be derived from a pad id
            # that may also be a real token (SentencePiece pads with <unk>).
            out[f"{side}_length"] = tf.cast(ids.row_lengths(), tf.int32)
        return out

    @_graph_only
    def densify(example):
        # Unbatched rows of a ragged batch arrive as rank-1 ragged values.
        return {
            k: v.to_tensor() if isinstance(v, tf.RaggedTensor) else v for k, v in example.items()
        }

    return (
        dataset.batch(chunk_size)
        .map(add_ids, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .unbatch()
        .map(densify)
    )


def _concatenate(datasets: list[tf.data.Dataset]) -> tf.data.Dataset:
    out = datasets[0]
    for ds in datasets[1:]:
        out = out.concatenate(ds)
    return out


def _source_dataset(scan: corpus.SourceScan, group: str) -> tf.data.Dataset:
    """The examples of one group in one source, bad lines filtered by index."""
    source = scan.source
    if source.kind == corpus.ALIGNED:
        lines = tf.data.Dataset.zip(tuple(tf.data.TextLineDataset(p) for p in source.paths))
    else:
        lines = tf.data.TextLineDataset(source.paths[0]).map(_graph_only(lambda line: (line,)))
    ds = lines.enumerate()
    if scan.bad_line_indices:
        bad = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(scan.bad_line_indices, tf.int64),
                tf.ones(len(scan.bad_line_indices), tf.int64),
            ),
            default_value=0,
        )
        ds = ds.filter(_graph_only(lambda i, row: tf.equal(bad.lookup(i), 0)))
    # Resources (lookup tables) are built outside the map functions that capture them.
    table = _language_table() if source.has_language_columns else None
    ds = ds.map(_graph_only(lambda i, row: _row_to_example(source, row, table)))
    if source.has_language_columns:
        ds = ds.filter(_graph_only(lambda ex: tf.equal(group_of(ex), group)))
    return ds


def _row_to_example(
    source: corpus.CorpusSource,
    row: tuple[tf.Tensor, ...],
    table: tf.lookup.StaticHashTable | None,
) -> dict:
    strip = tf.strings.strip
    # The Python scan drops a byte-order mark at the start of a file; so does the graph.
    row = tuple(tf.strings.regex_replace(r, "^\ufeff", "") for r in row)
    if source.kind == corpus.ALIGNED:
        return _example(strip(row[0]), strip(row[1]), source.src_lang, source.tgt_lang)
    if source.kind == corpus.MONOLINGUAL:
        return _example(strip(row[0]), tf.constant(""), source.src_lang, "")
    fields = tf.strings.split(row[0], "\t")
    if source.has_language_columns:
        src_lang = lookup_language(table, fields[0])
        tgt_lang = lookup_language(table, fields[1])
        return _example(strip(fields[2]), strip(fields[3]), src_lang, tgt_lang)
    return _example(strip(fields[0]), strip(fields[1]), source.src_lang, source.tgt_lang)


def _example(src, tgt, src_lang, tgt_lang) -> dict:
    return {
        "src": src,
        "tgt": tgt,
        "src_lang": tf.convert_to_tensor(src_lang, tf.string),
        "tgt_lang": tf.convert_to_tensor(tgt_lang, tf.string),
    }


def lookup_language(table: tf.lookup.StaticHashTable, tag: tf.Tensor) -> tf.Tensor:
    """A language tag -> its canonical code in graph ("" if unknown): the twin of
    `languages.normalize_language` (lower case, "_" -> "-", full tag else primary subtag)."""
    key = tf.strings.regex_replace(tf.strings.lower(tf.strings.strip(tag)), "_", "-")
    full = table.lookup(key)
    primary = table.lookup(tf.strings.regex_replace(key, "-.*$", ""))
    return tf.where(tf.equal(full, ""), primary, full)


def _language_table() -> tf.lookup.StaticHashTable:
    keys = list(languages.ALIASES)
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(keys, [languages.ALIASES[k] for k in keys]),
        default_value="",
    )
