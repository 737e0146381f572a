"""Tatoeba (LASER release format): bidirectional retrieval accuracy per language."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from absl import logging

from lealla.data import languages as languages_lib
from lealla.embeddings import text_encoder
from lealla.embeddings.text_encoder import DEFAULT_BATCH_SIZE, TextEncoder
from lealla.evaluation.report import EvalReport, LanguageResult
from lealla.evaluation.retrieval import retrieval_accuracy
from lealla.files import textio

PIVOT = "eng"
# tatoeba.deu-eng.deu / tatoeba.deu-eng.eng
_FILE_RE = re.compile(r"^tatoeba\.([a-z]{2,3})-eng\.([a-z]{2,3})$")

# strings -> float [n, d] unit-length embeddings


def find_languages(data_dir: str) -> dict[str, tuple[str, str]]:
    """Language code -> (xx file, eng file) for every complete pair in `data_dir`.

    Raises:
      FileNotFoundError: the folder is missing, holds no Tatoeba file, or one side
        of a pair is missing (the message names the missing file).
    """
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"Tatoeba folder not found: {data_dir}")
    found: dict[str, set[str]] = {}
    for name in os.listdir(data_dir):
        match = _FILE_RE.match(name)
        if match and match.group(2) in (match.group(1), PIVOT):
            found.setdefault(match.group(1), set()).add(match.group(2))
    if not found:
        raise FileNotFoundError(
            f"no Tatoeba files (tatoeba.xxx-eng.xxx + tatoeba.xxx-eng.eng) in {data_dir}"
        )
    pairs = {}
    for code, sides in sorted(found.items()):
        xx, en = _paths(data_dir, code)
        missing = [p for p, side in ((xx, code), (en, PIVOT)) if side not in sides]
        if missing:
            raise FileNotFoundError(f"Tatoeba pair {code}-eng is incomplete: missing {missing[0]}")
        pairs[code] = (xx, en)
    return pairs


def select_languages(available: Sequence[str], requested: Sequence[str] | None) -> list[str]:
    """The available codes matching `requested` ("de" or "deu" alike), or all of them.

    Raises:
      ValueError: a requested code is no known language.
      FileNotFoundError: a requested language has no files (the message lists those found).
    """

    def missing(code: str, lang: str) -> str:
        return (
            f"no Tatoeba files for {code!r} ({languages_lib.iso3(lang)}); "
            f"found: {', '.join(available)}"
        )

    return languages_lib.select_available(list(available), requested, missing)


def read_pairs(xx_path: str, en_path: str) -> tuple[list[str], list[str]]:
    """Both sides of one language, checked: strict UTF-8, no empty line, equal counts.

    Raises:
      textio.CorpusError: a bad line (path:line) or mismatched line counts.
    """
    xx = [fields[0] for _, fields in textio.iter_records(xx_path)]
    en = [fields[0] for _, fields in textio.iter_records(en_path)]
    if len(xx) != len(en):
        raise textio.CorpusError(
            xx_path,
            None,
            f"has {len(xx)} lines but {en_path} has {len(en)}; Tatoeba files must be "
            "aligned line by line",
        )
    if not xx:
        raise textio.CorpusError(xx_path, None, "no sentences (the file is empty)")
    return xx, en


def evaluate_tatoeba(
    encoder: TextEncoder | Callable[[], TextEncoder], data_dir: str,
    languages: Sequence[str] | None = None, *,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: bool | str = False,
) -> EvalReport:  # fmt: skip
    """Accuracy of retrieving each sentence's translation among all of its language's
    sentences, xx -> eng and eng -> xx (`retrieval_accuracy`), per language.

    Every requested file is validated before anything is embedded.

    Args:
      encoder: a `TextEncoder`, or a function that loads one (called once the files
        are valid).
      data_dir: a folder with tatoeba.xxx-eng.xxx / tatoeba.xxx-eng.eng files.
      languages: codes to evaluate ("deu" or "de"); None for every pair found.
      batch_size: sentences per encoder batch.
      progress: show a progress bar (a str names it).

    Returns:
      EvalReport with score = mean of the two directions' accuracies.
    """
    pairs = find_languages(data_dir)
    chosen = select_languages(list(pairs), languages)
    texts = {code: read_pairs(*pairs[code]) for code in chosen}
    encoder = text_encoder.resolve(encoder)
    results = []
    for code in chosen:
        xx, en = texts[code]
        logging.info("tatoeba %s: %d pairs", code, len(xx))
        x2e, e2x = retrieval_accuracy(
            encoder.encode(xx, batch_size, progress), encoder.encode(en, batch_size, progress)
        )
        results.append(
            LanguageResult(
                code, (x2e + e2x) / 2, {"xx_to_en": x2e, "en_to_xx": e2x, "pairs": len(xx)}
            )
        )
    return EvalReport("tatoeba", "accuracy", encoder.name, tuple(results))


def _paths(data_dir: str, code: str) -> tuple[str, str]:
    stem = os.path.join(data_dir, f"tatoeba.{code}-{PIVOT}")
    return f"{stem}.{code}", f"{stem}.{PIVOT}"
