"""BUCC-style parallel sentence mining: margin candidates, F1-optimal threshold, P/R/F1."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

import numpy as np
from absl import logging

from lealla.data import languages as languages_lib
from lealla.embeddings import text_encoder
from lealla.embeddings.text_encoder import DEFAULT_BATCH_SIZE, TextEncoder
from lealla.evaluation.report import EvalReport, LanguageResult
from lealla.files import textio
from lealla.mining import mine
from lealla.mining.threshold import ThresholdResult, evaluate_at_threshold, optimize_threshold

PIVOT = "en"
SPLITS = ("sample", "training", "test")
# de-en.sample.de / de-en.sample.en / de-en.sample.gold
_FILE_RE = re.compile(r"^([a-z]{2,3})-en\.([a-z]+)\.([a-z]{2,3}|gold)$")


def find_language_pairs(data_dir: str, split: str) -> dict[str, tuple[str, str, str]]:
    """Language -> (xx file, en file, gold file) for every pair of `split` in `data_dir`.

    Raises:
      ValueError: an unknown split.
      FileNotFoundError: the folder is missing, holds no BUCC file of the split, or a
        pair lacks one of its three files (the message names it).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"BUCC folder not found: {data_dir}")
    langs = sorted(
        {m.group(1) for m in map(_FILE_RE.match, os.listdir(data_dir)) if m and m.group(2) == split}
    )
    if not langs:
        raise FileNotFoundError(
            f"no BUCC files of split {split!r} (xx-en.{split}.xx/.en/.gold) in {data_dir}"
        )
    out = {}
    for lang in langs:
        paths = tuple(
            os.path.join(data_dir, f"{lang}-en.{split}.{s}") for s in (lang, PIVOT, "gold")
        )
        for path in paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"BUCC pair {lang}-en ({split}) is incomplete: missing {path}"
                )
        out[lang] = paths
    return out


def read_sentences(path: str) -> tuple[list[str], list[str]]:
    """(ids, sentences) of a BUCC file of `id<TAB>sentence` lines.

    Raises:
      textio.CorpusError: a malformed line or a duplicate id (path:line).
    """
    ids, sentences, seen = [], [], set()
    for line_no, (sid, sentence) in textio.iter_records(path, 2):
        if sid in seen:
            raise textio.CorpusError(path, line_no, f"duplicate id {sid!r}")
        seen.add(sid)
        ids.append(sid)
        sentences.append(sentence)
    if not ids:
        raise textio.CorpusError(path, None, "no sentences (the file is empty)")
    return ids, sentences


def read_gold(path: str, src_ids: Sequence[str], tgt_ids: Sequence[str]) -> set[tuple[int, int]]:
    """Gold pairs as (source row, target row) from `src_id<TAB>tgt_id` lines.

    Raises:
      textio.CorpusError: a malformed line or an id absent from the sentence files.
    """
    src_row = {sid: i for i, sid in enumerate(src_ids)}
    tgt_row = {tid: i for i, tid in enumerate(tgt_ids)}
    gold = set()
    for line_no, (sid, tid) in textio.iter_records(path, 2):
        for name, ident, rows in (("source", sid, src_row), ("target", tid, tgt_row)):
            if ident not in rows:
                raise textio.CorpusError(
                    path, line_no, f"{name} id {ident!r} is not in the {name} file"
                )
        gold.add((src_row[sid], tgt_row[tid]))
    if not gold:
        raise textio.CorpusError(path, None, "no gold pairs (the file is empty)")
    return gold


def mine_and_score(
    src_emb: np.ndarray,
    tgt_emb: np.ndarray,
    gold: set[tuple[int, int]],
    *,
    k: int = mine.DEFAULT_K,
    threshold: float | None = None,
    search: mine.SearchFn | None = None,
) -> ThresholdResult:
    """Mines candidates (best of each side, both directions: LASER's "max" retrieval,
    union mode) and scores them against `gold`, at `threshold` or at the F1-optimal one."""
    pairs = mine.mine_pairs(src_emb, tgt_emb, k=k, mode="union", search=search)
    is_gold = np.fromiter(
        ((s, t) in gold for s, t in zip(pairs.src.tolist(), pairs.tgt.tolist(), strict=True)),
        bool,
        count=len(pairs),
    )
    if threshold is None:
        return optimize_threshold(pairs.score, is_gold, len(gold))
    return evaluate_at_threshold(pairs.score, is_gold, len(gold), threshold)


def evaluate_bucc(
    encoder: TextEncoder | Callable[[], TextEncoder],
    data_dir: str,
    *,
    split: str = "sample",
    languages: Sequence[str] | None = None,
    threshold: float | None = None,
    k: int = mine.DEFAULT_K,
    search: mine.SearchFn | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool | str = False,
) -> EvalReport:
    """BUCC mining F1 per language pair found in `data_dir` (all files validated first).

    Args:
      encoder: a `TextEncoder`, or a function that loads one (called once the files
        are valid).
      data_dir: folder with xx-en.{split}.xx / .en / .gold files.
      split: which files ("sample" or "training" have gold pairs).
      languages: codes to evaluate, or None for every pair found.
      threshold: a fixed margin threshold (e.g. tuned on another split), or None to
        choose the F1-optimal one on this split's gold, as LASER and LaBSE do.
      k: margin neighbourhood size.
      search: the kNN function (default exact).
      batch_size: sentences per encoder batch.
      progress: show a progress bar (a str names it).
    """
    found = find_language_pairs(data_dir, split)
    chosen = languages_lib.select_available(
        list(found), languages,
        lambda code, _: f"no BUCC files for {code!r} in {data_dir}; found: {', '.join(found)}",
    )  # fmt: skip
    data = {}
    for lang in chosen:
        xx_path, en_path, gold_path = found[lang]
        src_ids, src = read_sentences(xx_path)
        tgt_ids, tgt = read_sentences(en_path)
        data[lang] = (src, tgt, read_gold(gold_path, src_ids, tgt_ids))
    encoder = text_encoder.resolve(encoder)
    results = []
    for lang in chosen:
        src, tgt, gold = data[lang]
        logging.info(
            "bucc %s-en: %d x %d sentences, %d gold pairs", lang, len(src), len(tgt), len(gold)
        )
        r = mine_and_score(
            encoder.encode(src, batch_size, progress),
            encoder.encode(tgt, batch_size, progress),
            gold,
            k=k,
            threshold=threshold,
            search=search,
        )
        details = {
            "precision": r.precision,
            "recall": r.recall,
            "threshold": r.threshold,
            "extracted": r.extracted,
            "gold": len(gold),
        }
        results.append(LanguageResult(lang, r.f1, details))
    return EvalReport("bucc", "F1", encoder.name, tuple(results))
