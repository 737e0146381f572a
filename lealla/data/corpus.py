"""Corpus sources (parallel TSV, aligned file pairs, monolingual text): discovery and streaming."""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import NamedTuple, TypeVar

from lealla.data import demo_corpus, languages
from lealla.files import fileio, textio
from lealla.shards import line_shards

T = TypeVar("T")
TSV = "tsv"
ALIGNED = "aligned"
MONOLINGUAL = "monolingual"
KINDS = (TSV, ALIGNED, MONOLINGUAL)
# A TSV row with language columns: src_lang <TAB> tgt_lang <TAB> src <TAB> tgt.
_TSV_LANG_COLUMNS = 4
_TSV_PLAIN_COLUMNS = 2
_PAIR_RE = re.compile(r"^(?P<a>[A-Za-z_-]+?)-(?P<b>[A-Za-z_]+)$")


class Example(NamedTuple):
    """One training example; `tgt` and `tgt_lang` are "" for monolingual text."""

    src: str
    tgt: str
    src_lang: str
    tgt_lang: str


@dataclasses.dataclass(frozen=True)
class CorpusSource:
    """One corpus input.

    Attributes:
      kind: "tsv" (src<TAB>tgt rows, optionally led by two language columns),
        "aligned" (two line-aligned files, Moses style) or "monolingual".
      paths: one path, or (src_path, tgt_path) for "aligned".
      src_lang: canonical language of the source side; None for a TSV whose rows
        carry language columns.
      tgt_lang: canonical language of the target side; "" for monolingual text and
        None for a TSV with language columns.
      share: the share of training examples drawn from this source's share group
        (`--train_data=chat.ko.txt@0.05`), whatever its size; None: the source joins
        its language groups.
      share_group: the argument that gave the share (all files of `chat/*.txt@0.1`
        share one group and its 0.1); "" without a share.
    """

    kind: str
    paths: tuple[str, ...]
    src_lang: str | None
    tgt_lang: str | None
    share: float | None = None
    share_group: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        expected = 2 if self.kind == ALIGNED else 1
        if len(self.paths) != expected:
            raise ValueError(f"a {self.kind} source needs {expected} path(s), got {self.paths}")

    @property
    def is_parallel(self) -> bool:
        return self.kind != MONOLINGUAL

    @property
    def has_language_columns(self) -> bool:
        return self.kind == TSV and self.src_lang is None

    def describe(self) -> str:
        langs = (
            "per-row languages"
            if self.has_language_columns
            else group_key(self.src_lang, self.tgt_lang)
        )
        share = f", share {self.share:g}" if self.share is not None else ""
        return f"{self.kind} {' + '.join(self.paths)} ({langs}{share})"


@dataclasses.dataclass(frozen=True)
class SourceScan:
    """What one validating pass over a source found.

    Attributes:
      source: the scanned source.
      num_lines: physical lines (of each file, for aligned sources).
      bad_line_indices: 0-based indices of lines skipped as bad (empty unless
        on_bad_line="skip"); the tf.data pipeline filters exactly these.
      group_counts: good examples per language group ("de-en", or "de" for
        monolingual text), the counts that temperature sampling uses.
    """

    source: CorpusSource
    num_lines: int
    bad_line_indices: tuple[int, ...]
    group_counts: dict[str, int]


def group_key(src_lang: str | None, tgt_lang: str | None) -> str:
    """The sampling group of an example: "de-en" for a pair, "de" for monolingual text."""
    return f"{src_lang}-{tgt_lang}" if tgt_lang else str(src_lang)


def share_group_key(source: CorpusSource) -> str:
    """The sampling group of a source given a share ("@" + its spec); "" without one."""
    return f"@{source.share_group}" if source.share is not None else ""


def source_shares(sources: Sequence[CorpusSource]) -> dict[str, float]:
    """Share group -> share, for the sources given one (`sampling.mixture_weights`'s fixed)."""
    return {share_group_key(s): s.share for s in sources if s.share is not None}


def resolve_sources(specs: str | Iterable[str]) -> list[CorpusSource]:
    """Turns user paths (comma-separated, globs allowed) into corpus sources.

    The language comes from the file name: `de-en.tsv` / `news.de-en.tsv` (TSV),
    `corpus.de-en.de` + `corpus.de-en.en` or the prefix `corpus.de-en` (aligned),
    `de.txt` / `news.de.txt` / `news.de` (monolingual). A TSV whose rows have four
    fields `src_lang<TAB>tgt_lang<TAB>src<TAB>tgt` needs no languages in its name.
    `demo:train`, `demo:dev`, `demo:test` name the shipped demo corpus's xx-en pairs.

    A spec may end in `@SHARE` (`chat.ko.txt@0.05`, `chat/*.txt@0.1`): its files form a
    sampling group of their own, drawn for that share of the training examples
    whatever their size (see `sampling.mixture_weights`); the shares must add up to
    less than 1 unless every spec has one (then they are relative).

    Raises:
      FileNotFoundError: a path or glob matches nothing.
      ValueError: the languages of a file cannot be told or are unknown; a share is
        not a number in (0, 1), the shares add up to 1 or more, or a file is given
        twice with different shares.
    """
    if isinstance(specs, str):
        specs = [specs]
    sources: list[CorpusSource] = []
    seen: dict[tuple[str, ...], CorpusSource] = {}
    for spec in itertools.chain.from_iterable(s.split(",") for s in specs):
        spec, share = split_share(spec.strip())
        if not spec:
            continue
        if spec.startswith(demo_corpus.PREFIX):
            found = _demo_sources(spec)
        else:
            found = [source_from_path(path) for path in fileio.expand(spec, "corpus file")]
        for source in found:
            if share is not None:
                source = dataclasses.replace(source, share=share, share_group=spec)
            key = tuple(sorted(source.paths))
            if key not in seen:
                seen[key] = source
                sources.append(source)
            elif seen[key].share_group != source.share_group:
                raise ValueError(
                    f"{' + '.join(source.paths)} is given twice with different shares "
                    f"({_share_text(seen[key])} and {_share_text(source)}); give it once"
                )
    if not sources:
        raise ValueError(f"no corpus files given (got {list(specs)!r})")
    _check_share_total(sources)
    return sources


def split_share(spec: str) -> tuple[str, float | None]:
    """Splits a trailing share: `chat.ko.txt@0.05` -> ("chat.ko.txt", 0.05), else (spec, None).

    Raises:
      ValueError: the text after the last "@" is a number outside (0, 1).
    """
    path, sep, tail = spec.rpartition("@")
    if not sep:
        return spec, None
    try:
        share = float(tail)
    except ValueError:
        return spec, None  # an "@" in a file name
    if not 0.0 < share < 1.0:
        raise ValueError(
            f"the share in {spec!r} must be a number in (0, 1): the part of the training "
            f"examples drawn from {path}, e.g. {path}@0.05"
        )
    return path.strip(), share


def _share_text(source: CorpusSource) -> str:
    return f"{source.share_group}@{source.share:g}" if source.share is not None else "no share"


def _check_share_total(sources: Sequence[CorpusSource]) -> None:
    shares = {s.share_group: s.share for s in sources if s.share is not None}
    total = sum(shares.values())
    if shares and total >= 1.0 and any(s.share is None for s in sources):
        given = ", ".join(f"{g}@{v:g}" for g, v in shares.items())
        raise ValueError(
            f"the shares of the training data ({given}) add up to {total:g}, leaving "
            f"nothing for the files without one; they must add up to less than 1"
        )


def source_from_path(path: str) -> CorpusSource:
    """Classifies one path (see `resolve_sources` for the naming rules)."""
    name = os.path.basename(path)
    parts = name.split(".")
    if name.endswith(".tsv"):
        textio.require_file(path, "parallel TSV file")
        return _tsv_source(path, parts[-2] if len(parts) >= 2 else "")
    if not fileio.exists(path) and _PAIR_RE.match(parts[-1]):
        return _aligned_source(path, parts[-1])
    textio.require_file(path, "corpus file")
    if len(parts) >= 3 and _PAIR_RE.match(parts[-2]):
        return _aligned_source(os.path.join(os.path.dirname(path), ".".join(parts[:-1])), parts[-2])
    lang_part = parts[-2] if name.endswith(".txt") and len(parts) >= 2 else parts[-1]
    if len(parts) < 2 or not languages.is_language(lang_part, exact=True):
        raise ValueError(
            f"cannot tell the language of {path}: name monolingual files like de.txt or "
            f"news.de.txt, parallel TSV files like de-en.tsv, aligned files like "
            f"corpus.de-en.de + corpus.de-en.en"
        )
    lang = languages.normalize_language(lang_part, context=f"file name {path}")
    return CorpusSource(MONOLINGUAL, (path,), lang, "")


def scan_source(
    source: CorpusSource,
    *,
    on_bad_line: str = "error",
    report: textio.BadLineReport | None = None,
) -> SourceScan:
    """Validates a whole source in one streaming pass and counts examples per group.

    Raises:
      CorpusError: a bad line (with on_bad_line="error"), aligned files of different
        lengths, or an unknown language in a language column.
    """
    return drain(scan_source_examples(source, on_bad_line=on_bad_line, report=report))


def scan_source_examples(
    source: CorpusSource,
    *,
    on_bad_line: str = "error",
    report: textio.BadLineReport | None = None,
) -> Generator[Example, None, SourceScan]:
    """`scan_source` that also yields each valid example as it goes; the generator's
    return value is the scan (`yield from` hands it on), so a caller that needs both
    the sentences and the counts reads the source once."""
    bad: list[int] = []
    counts: dict[str, int] = {}
    num_lines = 0
    for index, example in _iter_indexed(source, on_bad_line, report, bad):
        num_lines = index + 1
        if example is not None:
            key = group_key(example.src_lang, example.tgt_lang)
            counts[key] = counts.get(key, 0) + 1
            yield example
    return SourceScan(source, num_lines, tuple(bad), counts)


def drain(generator: Generator[object, None, T]) -> T:
    """Runs a generator to its end; returns its return value."""
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return done.value


def read_examples(
    sources: Sequence[CorpusSource],
    *,
    on_bad_line: str = "error",
    report: textio.BadLineReport | None = None,
) -> Iterator[Example]:
    """Streams validated examples from several sources, in file order."""
    for source in sources:
        for _, example in _iter_indexed(source, on_bad_line, report, bad=None):
            if example is not None:
                yield example


def read_shard(
    source: CorpusSource,
    shard: line_shards.LineShard,
    *,
    on_bad_line: str = "error",
    report: textio.BadLineReport | None = None,
) -> list[Example]:
    """The validated examples of one planned shard of `source` (see `line_shards.plan`),
    bad lines handled as `read_examples` does, named by their line number in the file."""
    textio.check_on_bad_line(on_bad_line)
    report = report if report is not None else textio.BadLineReport()
    examples = []
    for line_no, raws in line_shards.read_rows(source.paths, shard):
        try:
            examples.append(_parse_row(source, line_no, raws))
        except textio.CorpusError as e:
            if on_bad_line == "error":
                raise
            report.add(e)
    return examples


def _iter_indexed(source, on_bad_line, report, bad):
    """Yields (0-based line index, Example, or None for a skipped bad line)."""
    textio.check_on_bad_line(on_bad_line)
    report = report if report is not None else textio.BadLineReport()
    for index, raws in enumerate(_iter_raw_rows(source)):
        try:
            example = _parse_row(source, index + 1, raws)
        except textio.CorpusError as e:
            if on_bad_line == "error":
                raise
            report.add(e)
            if bad is not None:
                bad.append(index)
            yield index, None
            continue
        yield index, example


def _iter_raw_rows(source: CorpusSource) -> Iterator[tuple[bytes, ...]]:
    """Yields the raw line(s) of each row: one per file, aligned files in lockstep."""
    if source.kind != ALIGNED:
        for raw in textio.iter_raw_lines(source.paths[0]):
            yield (raw,)
        return
    src_path, tgt_path = source.paths
    src_iter = textio.iter_raw_lines(src_path)
    tgt_iter = textio.iter_raw_lines(tgt_path)
    for index, (src_raw, tgt_raw) in enumerate(itertools.zip_longest(src_iter, tgt_iter)):
        if src_raw is None or tgt_raw is None:
            n_src = index + sum(1 for _ in src_iter) + (src_raw is not None)
            n_tgt = index + sum(1 for _ in tgt_iter) + (tgt_raw is not None)
            raise textio.CorpusError(
                src_path,
                None,
                f"line count mismatch with its aligned file {tgt_path}: "
                f"{n_src} lines vs {n_tgt} lines",
            )
        yield src_raw, tgt_raw


def _parse_row(source: CorpusSource, line_no: int, raws: tuple[bytes, ...]) -> Example:
    if source.kind == ALIGNED:
        src, tgt = (
            textio.split_fields(path, line_no, textio.decode_line(path, line_no, raw), None)[0]
            for path, raw in zip(source.paths, raws, strict=True)
        )
        return Example(src, tgt, source.src_lang, source.tgt_lang)
    path = source.paths[0]
    num_fields = None if source.kind == MONOLINGUAL else _tsv_num_fields(source)
    fields = textio.split_fields(
        path, line_no, textio.decode_line(path, line_no, raws[0]), num_fields
    )
    return _example(source, path, line_no, fields)


def _example(source: CorpusSource, path: str, line_no: int, fields: tuple[str, ...]) -> Example:
    if source.kind == MONOLINGUAL:
        return Example(fields[0], "", source.src_lang, "")
    if source.has_language_columns:
        try:
            src_lang = languages.normalize_language(fields[0], context=f"{path}:{line_no} column 1")
            tgt_lang = languages.normalize_language(fields[1], context=f"{path}:{line_no} column 2")
        except ValueError as e:
            raise textio.CorpusError(path, line_no, str(e)) from None
        return Example(fields[2], fields[3], src_lang, tgt_lang)
    return Example(fields[0], fields[1], source.src_lang, source.tgt_lang)


def _tsv_num_fields(source: CorpusSource) -> int:
    return _TSV_LANG_COLUMNS if source.has_language_columns else _TSV_PLAIN_COLUMNS


def _demo_sources(spec: str) -> list[CorpusSource]:
    files = demo_corpus.aligned_files(spec[len(demo_corpus.PREFIX) :])
    return [CorpusSource(ALIGNED, (src, tgt), lang, pivot) for src, tgt, lang, pivot in files]


def _tsv_source(path: str, name_pair: str) -> CorpusSource:
    first = _first_line_fields(path)
    if (
        len(first) == _TSV_LANG_COLUMNS
        and languages.is_language(first[0])
        and languages.is_language(first[1])
    ):
        return CorpusSource(TSV, (path,), None, None)
    match = _PAIR_RE.match(name_pair)
    if not match:
        raise ValueError(
            f"cannot tell the languages of {path}: name it like de-en.tsv, or give each "
            f"row four fields src_lang<TAB>tgt_lang<TAB>src<TAB>tgt"
        )
    context = f"file name {path}"
    return CorpusSource(
        TSV,
        (path,),
        languages.normalize_language(match["a"], context=context),
        languages.normalize_language(match["b"], context=context),
    )


def _aligned_source(prefix: str, pair: str) -> CorpusSource:
    a, b = _PAIR_RE.match(pair).group("a", "b")
    src_path, tgt_path = f"{prefix}.{a}", f"{prefix}.{b}"
    textio.require_file(src_path, "aligned source file")
    textio.require_file(tgt_path, "aligned target file")
    context = f"file name {src_path}"
    return CorpusSource(
        ALIGNED,
        (src_path, tgt_path),
        languages.normalize_language(a, context=context),
        languages.normalize_language(b, context=context),
    )


def _first_line_fields(path: str) -> list[str]:
    for raw in textio.iter_raw_lines(path):
        return raw.decode("utf-8", errors="replace").removeprefix(textio.BOM).split("\t")
    raise textio.CorpusError(path, None, "file is empty")


def iter_sentences(
    sources: Sequence[CorpusSource],
    *,
    on_bad_line: str = "error",
    report: textio.BadLineReport | None = None,
) -> Iterator[tuple[str, str]]:
    """Streams (language, sentence) for both sides of every example."""
    for example in read_examples(sources, on_bad_line=on_bad_line, report=report):
        yield example.src_lang, example.src
        if example.tgt_lang:
            yield example.tgt_lang, example.tgt


def parallel_groups(
    specs: Sequence[str], on_bad_line: str = "error"
) -> dict[str, tuple[list[str], list[str]]]:
    """Language pair (`group_key`) -> (sources, targets) of the parallel examples of `specs`.

    Small sets only (dev/test splits): everything is read into memory.

    Raises:
      ValueError: `specs` holds no parallel pairs.
    """
    if not specs:
        return {}
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    report = textio.BadLineReport()
    for example in read_examples(resolve_sources(specs), on_bad_line=on_bad_line, report=report):
        if example.tgt_lang:
            src, tgt = pairs.setdefault(group_key(example.src_lang, example.tgt_lang), ([], []))
            src.append(example.src)
            tgt.append(example.tgt)
    if not pairs:
        raise ValueError(f"{', '.join(specs)}: no parallel pairs (xx<TAB>en rows) in it")
    return pairs


def distinct_sentences(specs: Sequence[str], on_bad_line: str = "error") -> list[str]:
    """Every distinct sentence of `specs` (both sides of pairs), in file order.

    Small sets only (dev splits): everything is read into memory.

    Raises:
      ValueError: `specs` holds no sentences.
    """
    if not specs:
        return []
    seen: dict[str, None] = {}
    for _, sentence in iter_sentences(resolve_sources(specs), on_bad_line=on_bad_line):
        seen.setdefault(sentence, None)
    if not seen:
        raise ValueError(f"{', '.join(specs)}: no sentences in it")
    return list(seen)
