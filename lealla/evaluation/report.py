"""Evaluation results: per-language scores, console table, JSON, PNG bar chart."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from lealla.ui import plots


@dataclasses.dataclass(frozen=True)
class LanguageResult:
    """One language's result.

    Attributes:
      language: the code as the data names it (Tatoeba: "deu"; BUCC/UN: "de").
      score: the headline number in [0, 1] (Tatoeba: mean accuracy of both
        directions; BUCC: F1; UN: mean P@1 of both directions).
      details: the numbers behind it, e.g. {"xx_to_en": 0.98, "en_to_xx": 0.97, "pairs": 1000}.
    """

    language: str
    score: float
    details: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class EvalReport:
    """All languages of one task for one encoder.

    Attributes:
      task: "tatoeba", "bucc" or "un".
      metric: what `LanguageResult.score` is, e.g. "accuracy", "F1", "P@1".
      encoder: the encoder's name.
      results: per-language results, in evaluation order.

    Example:
      >>> import lealla
      >>> from lealla.evaluation.report import LanguageResult
      >>> report = lealla.EvalReport("tatoeba", "accuracy", "my-encoder", (
      ...     LanguageResult("deu", 0.9, {}), LanguageResult("fra", 0.8, {})))
      >>> round(report.average, 2), report.to_dict()["per_language"]
      (0.85, {'deu': 0.9, 'fra': 0.8})
    """

    task: str
    metric: str
    encoder: str
    results: tuple[LanguageResult, ...]

    @property
    def average(self) -> float:
        """Unweighted mean of the per-language scores (as the papers report it)."""
        if not self.results:
            return float("nan")
        return sum(r.score for r in self.results) / len(self.results)

    def to_dict(self) -> dict[str, Any]:
        """{"task", "metric", "encoder", "average", "per_language": {lang: score}, "details"}."""
        return {
            "task": self.task,
            "metric": self.metric,
            "encoder": self.encoder,
            "average": round(self.average, 6),
            "per_language": {r.language: round(r.score, 6) for r in self.results},
            "details": {r.language: dict(r.details) for r in self.results},
        }


def combined_dict(reports: Sequence[EvalReport]) -> dict[str, Any]:
    """The first report's dict; a second one (the reference encoder) under "reference"."""
    out = reports[0].to_dict()
    if len(reports) > 1:
        out["reference"] = reports[1].to_dict()
    return out


def format_table(reports: Sequence[EvalReport]) -> str:
    """A plain-text table: one row per language, the first report's details, then one
    score column per encoder, and an average row."""
    first = reports[0]
    detail_keys = list(dict.fromkeys(k for r in first.results for k in r.details))
    header = ["language", *detail_keys, *(f"{first.metric} {r.encoder}" for r in reports)]
    rows = []
    by_lang = [{r.language: r for r in report.results} for report in reports]
    for result in first.results:
        cells = [result.language, *(_fmt(result.details.get(k)) for k in detail_keys)]
        cells += [
            _fmt(lookup[result.language].score) if result.language in lookup else "-"
            for lookup in by_lang
        ]
        rows.append(cells)
    rows.append(["average", *([""] * len(detail_keys)), *(_fmt(r.average) for r in reports)])
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_chart(path: str, reports: Sequence[EvalReport]) -> None:
    """A PNG bar chart per language; one bar per encoder (side by side when two)."""
    languages = [r.language for r in reports[0].results]
    series = {}
    for i, report in enumerate(reports):
        scores = {r.language: r.score for r in report.results}
        label = report.encoder if report.encoder not in series else f"{report.encoder} ({i + 1})"
        series[label] = [scores.get(lang, 0.0) for lang in languages]
    plots.grouped_bar_chart(
        path,
        languages,
        series,
        title=f"{reports[0].task}: {reports[0].metric} per language",
        ylabel=reports[0].metric,
        percent=True,
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):  # counts, e.g. "pairs"
        return str(value)
    return f"{value:.4f}"
