"""`lealla.evaluate_tatoeba`, `evaluate_bucc`, `evaluate_un`: the evaluations of
`lealla.evaluation`, for an encoder or an encoder spec."""

from __future__ import annotations

from collections.abc import Sequence

from lealla.api.encoders import loader
from lealla.embeddings.text_encoder import DEFAULT_BATCH_SIZE, TextEncoder
from lealla.evaluation import bucc, tatoeba, un
from lealla.evaluation.report import EvalReport
from lealla.mining import mine


def evaluate_tatoeba(
    encoder: TextEncoder | str, data_dir: str, languages: Sequence[str] | None = None, *,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: bool | str = False,
) -> EvalReport:  # fmt: skip
    """Tatoeba retrieval accuracy per language, xx -> eng and eng -> xx.

    `encoder` is a `TextEncoder` or a spec for `lealla.load_encoder`, loaded once every
    requested file is valid. See `lealla.evaluation.tatoeba.evaluate_tatoeba` for the rest.

    Example:
      >>> import lealla
      >>> report = lealla.evaluate_tatoeba(  # tatoeba/ holds tatoeba.deu-eng.{deu,eng}, ...
      ...     "use-multilingual", "tatoeba", languages=["deu", "fra"])
      >>> [r.language for r in report.results], report.average > 0.9
      (['deu', 'fra'], True)
    """
    return tatoeba.evaluate_tatoeba(
        loader(encoder), data_dir, languages, batch_size=batch_size, progress=progress
    )


def evaluate_bucc(
    encoder: TextEncoder | str,
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
    """BUCC mining F1 per language pair found in `data_dir`.

    `encoder` is a `TextEncoder` or a spec for `lealla.load_encoder`, loaded once every
    file is valid. See `lealla.evaluation.bucc.evaluate_bucc` for the rest.

    Example:
      >>> import lealla
      >>> report = lealla.evaluate_bucc("use-multilingual", "bucc")  # bucc/de-en.sample.*
      >>> report.results[0].language, report.average > 0.8
      ('de', True)
    """
    return bucc.evaluate_bucc(
        loader(encoder), data_dir, split=split, languages=languages, threshold=threshold, k=k,
        search=search, batch_size=batch_size, progress=progress,
    )  # fmt: skip


def evaluate_un(
    encoder: TextEncoder | str, data_dir: str, languages: Sequence[str] | None = None, **kwargs
) -> EvalReport:
    """UN-corpus P@1 per language (the English pool searched for each sentence).

    `encoder` is a `TextEncoder` or a spec for `lealla.load_encoder`, loaded once the
    folder's files are found; `kwargs` go to `lealla.evaluation.un.evaluate_un_files`
    (method, scann_config, batch_size, work_dir).

    Example:
      >>> import lealla
      >>> report = lealla.evaluate_un(  # un/ holds UNv1.0.testset.{en,es,...}
      ...     "use-multilingual", "un", ["es"], method="exact")
      >>> report.metric, report.average > 0.9
      ('P@1', True)
    """
    return un.evaluate_un(loader(encoder), data_dir, languages, **kwargs)
