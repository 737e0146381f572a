"""UN-style retrieval: P@1 of finding each translation when the pool is the whole other side.

Files are read with `LineFile` and embedded batch by batch (optionally into .npy
memory maps), so pools of millions of sentences need only their embeddings in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence

import numpy as np
from absl import logging

from lealla.data import languages as languages_lib
from lealla.embeddings import text_encoder
from lealla.embeddings.text_encoder import TextEncoder
from lealla.evaluation.report import EvalReport, LanguageResult
from lealla.files import textio
from lealla.mining import embed_stream, neighbors
from lealla.mining.line_file import LineFile
from lealla.mining.scann_search import ScannConfig

PIVOT = "en"
# The UN Parallel Corpus v1.0 test sets: UNv1.0.testset.{ar,en,es,fr,ru,zh}, aligned.
_FILE_RE = re.compile(r"^UNv1\.0\.testset\.([a-z]{2,3})$")


def find_un_languages(data_dir: str) -> dict[str, tuple[str, str]]:
    """Language -> (xx file, en file) for the UNv1.0.testset.* files in `data_dir`.

    Raises:
      FileNotFoundError: the folder, the English side or every other language is missing.
    """
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"UN folder not found: {data_dir}")
    langs = sorted(m.group(1) for m in map(_FILE_RE.match, os.listdir(data_dir)) if m)
    en_path = os.path.join(data_dir, f"UNv1.0.testset.{PIVOT}")
    if PIVOT not in langs:
        raise FileNotFoundError(f"UN test set: missing the English side {en_path}")
    others = [lang for lang in langs if lang != PIVOT]
    if not others:
        raise FileNotFoundError(
            f"UN test set: no UNv1.0.testset.xx file besides English in {data_dir}"
        )
    return {lang: (os.path.join(data_dir, f"UNv1.0.testset.{lang}"), en_path) for lang in others}


def line_keys(lines: LineFile, batch_size: int = 10_000) -> np.ndarray:
    """A 64-bit hash of every sentence, so a retrieved exact duplicate of the gold
    sentence counts as correct without keeping the strings (uint64 [n])."""
    keys = np.empty(len(lines), np.uint64)
    row = 0
    for batch in lines.batches(batch_size):
        for text in batch:
            digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
            keys[row] = int.from_bytes(digest, "little")
            row += 1
    return keys


def pool_precision_at_1(
    queries: np.ndarray,
    pool: np.ndarray,
    pool_keys: np.ndarray | None = None,
    *,
    method: str = "scann",
    scann_config: ScannConfig | None = None,
    progress: str | None = None,
) -> float:
    """P@1 of retrieving row i of `pool` for query i, searching the whole pool.

        P@1 = 1/n sum_i [key(NN_1(q_i)) == key(p_i)]

    Args:
      queries: float [n, d]; query i's translation is pool row i.
      pool: float [m, d], m >= n (extra rows are distractors).
      pool_keys: uint64 [m] sentence hashes: a retrieved row with the same text as the
        gold row counts as correct; None compares row indices only.
      method: "scann" or "exact".
      scann_config: ScaNN settings.
      progress: a description for the progress display, or None.
    """
    if len(queries) > len(pool):
        raise ValueError(f"{len(queries)} queries but only {len(pool)} pool rows")
    _, idx = neighbors.knn_search(
        queries, pool, 1, method=method, scann_config=scann_config, progress=progress
    )
    gold = np.arange(len(queries))
    if pool_keys is None:
        return float(np.mean(idx[:, 0] == gold))
    return float(np.mean(pool_keys[idx[:, 0]] == pool_keys[gold]))


def evaluate_un_files(
    encoder: TextEncoder,
    xx_path: str,
    en_path: str,
    language: str,
    *,
    method: str = "scann",
    scann_config: ScannConfig | None = None,
    batch_size: int = embed_stream.DEFAULT_BATCH_SIZE,
    work_dir: str | None = None,
) -> LanguageResult:
    """P@1 in both directions for one pair of aligned files (score = their mean).

    Raises:
      textio.CorpusError: a bad line, or the files differ in line count.
    """
    xx, en = LineFile(xx_path), LineFile(en_path)
    if len(xx) != len(en):
        raise textio.CorpusError(
            xx_path, None, f"has {len(xx)} lines but {en_path} has {len(en)}; must be aligned"
        )
    logging.info(
        "un %s-en: %d pairs, pool = all %d sentences of each side", language, len(xx), len(en)
    )
    if work_dir:
        os.makedirs(work_dir, exist_ok=True)
    emb = {}
    for name, lines in (("xx", xx), ("en", en)):
        out = os.path.join(work_dir, f"un.{language}.{name}.npy") if work_dir else None
        emb[name] = embed_stream.embed_lines(
            lines,
            encoder,
            batch_size=batch_size,
            out_path=out,
            progress=f"embedding {lines.path}",
        )
    x2e = pool_precision_at_1(
        emb["xx"],
        emb["en"],
        pool_keys=line_keys(en),
        method=method,
        scann_config=scann_config,
        progress=f"un {language}->en",
    )
    e2x = pool_precision_at_1(
        emb["en"],
        emb["xx"],
        pool_keys=line_keys(xx),
        method=method,
        scann_config=scann_config,
        progress=f"un en->{language}",
    )
    return LanguageResult(
        language, (x2e + e2x) / 2, {"xx_to_en": x2e, "en_to_xx": e2x, "pairs": len(xx)}
    )


def evaluate_un(
    encoder: TextEncoder | Callable[[], TextEncoder],
    data_dir: str,
    languages: Sequence[str] | None = None,
    **kwargs,
) -> EvalReport:
    """`evaluate_un_files` for every (or each requested) language of a UN test-set folder.

    Args:
      encoder: a `TextEncoder`, or a function that loads one (called once the
        folder's files are found).
      data_dir: the folder of UNv1.0.testset.* files.
      languages: codes to evaluate, or None for every language found.
      **kwargs: passed on to `evaluate_un_files` (method, scann_config, batch_size,
        work_dir).
    """
    found = find_un_languages(data_dir)
    chosen = languages_lib.select_available(
        list(found), languages,
        lambda code, _: f"no UN test file for {code!r}; found: {', '.join(found)}",
    )  # fmt: skip
    encoder = text_encoder.resolve(encoder)
    results = tuple(evaluate_un_files(encoder, *found[lang], lang, **kwargs) for lang in chosen)
    return EvalReport("un", "P@1", encoder.name, results)
