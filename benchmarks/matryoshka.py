"""Truncatable embeddings: accuracy by width with and without Matryoshka training.

Command: `python -m benchmarks.run_all --only=matryoshka` (LEALLA_BENCH_MATRYOSHKA_STEPS
sets the steps of both rows; default 800). Both rows train the default recipe on the
demo_small shape (4 x 128) from the news-parallel + ud-mono teacher cache at an equal
number of steps; one adds `matryoshka_dims=(32, 64, 96)`. Each is evaluated at the first
m = 32, 64, 96 and 128 dimensions, renormalized: PUD dev (lines 0-199), PUD test (lines
200-998, 799-way) and demo-400 (out of domain). See benchmarks/quality_common.py.
"""

from __future__ import annotations

import json
import os

from benchmarks import quality_common as qc
from lealla.embeddings.truncation import truncate_embeddings

STEPS = int(os.environ.get("LEALLA_BENCH_MATRYOSHKA_STEPS", "800"))
DIMS = (32, 64, 96, 128)
PREFIXES = (32, 64, 96)
# The prefix weight is chosen on dev: at weight 1 the three prefixes' terms outweigh the
# full width's three to one.
ROWS = (
    ("ordinary", {}),
    ("matryoshka 32,64,96", {"objective.lealla.matryoshka_dims": PREFIXES}),
    (
        "matryoshka 32,64,96, weight 0.25",
        {"objective.lealla.matryoshka_dims": PREFIXES, "objective.lealla.matryoshka_weight": 0.25},
    ),
    (
        "matryoshka 32,64,96, weight 0.1",
        {"objective.lealla.matryoshka_dims": PREFIXES, "objective.lealla.matryoshka_weight": 0.1},
    ),
)
CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "matryoshka_dims.png")
SETS = ("pud_dev", "pud_test", "demo400")


def accuracy_by_dims(embed, data: qc.Data, rotation=None) -> dict[str, dict[str, float]]:
    """{set: {m: mean xx <-> en accuracy at the first m dimensions}}, each set embedded
    once (rotated first by `rotation` when given)."""
    sets = {"pud_dev": qc.dev_sets(data), "pud_test": data.pud_test, "demo400": data.demo400}
    out: dict[str, dict[str, float]] = {}
    for name, by_lang in sets.items():
        full = {lang: embed(texts) for lang, texts in by_lang.items()}
        if rotation is not None:
            full = {lang: x @ rotation for lang, x in full.items()}
        out[name] = {
            str(m): qc.mean(qc.retrieval_from_embeddings(
                {lang: truncate_embeddings(x, m) for lang, x in full.items()}))
            for m in DIMS
        }  # fmt: skip
    return out


def _row(name: str, overrides: dict, data: qc.Data, cache: str) -> dict:
    slug = f"matryoshka_{qc.slug(name)}_{STEPS}"
    path = qc.result_path(slug)
    model_dir, metrics = qc.train(
        slug,
        train_data=data.news + data.mono,
        cache=cache,
        data=data,
        steps=STEPS,
        **overrides,
    )  # (reads the finished run back when it exists)
    result = {"name": name}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    embed = qc.student_embed(model_dir)
    if "pud_dev" not in result:
        result.update(steps=metrics["step"], train_seconds=metrics["train_seconds"],
                      **accuracy_by_dims(embed, data))  # fmt: skip
    if "rotated" not in result:
        result["rotated"] = accuracy_by_dims(embed, data, _rotation(model_dir, embed, data))
    qc.save_json(path, result)
    return result


def _rotation(model_dir: str, embed, data: qc.Data):
    """The rotation `lealla export --dims` applies: PCA of the student's embeddings of
    the first sentences of its training data."""
    from lealla.embeddings.truncation import pca_rotation
    from lealla.models.export import export_dims, exporter, restore

    tokenizer = restore.restore_sentence_encoder(model_dir).tokenizer
    texts = exporter.representative_sentences(
        data.news + data.mono, tokenizer, "skip", export_dims.ROTATION_SENTENCES
    )
    return pca_rotation(embed(texts))


def exporter_sentences() -> int:
    from lealla.models.export import export_dims

    return export_dims.ROTATION_SENTENCES


def run() -> str:
    title = "## Truncatable (Matryoshka) embeddings: accuracy by width"
    if not qc.available():
        return qc.skipped(title)
    from lealla.ui import plots

    data = qc.prepare()
    cache, _ = qc.build_cache("news_mono", data.news + data.mono)
    rows = [_row(name, overrides, data, cache) for name, overrides in ROWS]
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=matryoshka`. Both rows: the default "
        f"recipe, demo_small (4 x 128), news-parallel + ud-mono teacher cache, batch 64, "
        f"{STEPS} steps; the second adds `--matryoshka_dims=32,64,96`. Accuracy: xx <-> en "
        f"retrieval with the first m dimensions renormalized, mean of both directions and "
        f'of 13 languages; "PCA-rotated": the same student with its embeddings first rotated '
        f"by the PCA of its embeddings of {exporter_sentences()} training sentences (what "
        f"`lealla export --dims` does). Dev: PUD 0-199; test: PUD 200-998 and demo-400. Chart: "
        f"`benchmarks/{os.path.basename(CHART)}`.",
        "",
        "| training | set | " + " | ".join(f"{m} d" for m in DIMS) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in DIMS) + " |",
    ]
    for r in rows:
        for s in SETS:
            lines.append(f"| {r['name']} | {s} | "
                         + " | ".join(f"{r[s][str(m)]:.3f}" for m in DIMS) + " |")  # fmt: skip
        for s in SETS:
            cells = " | ".join(f"{r['rotated'][s][str(m)]:.3f}" for m in DIMS)
            lines.append(f"| {r['name']}, PCA-rotated | {s} | {cells} |")
    ordinary = rows[0]
    lines.append("")
    for nested in rows[1:]:
        gains = ", ".join(
            f"{m} d {nested['pud_dev'][str(m)] - ordinary['pud_dev'][str(m)]:+.3f}" for m in DIMS
        )
        lines.append(
            f"- {nested['name']}: dev difference to ordinary {gains}; training time at equal "
            f"steps {nested['train_seconds'] or 0:.0f} s vs {ordinary['train_seconds'] or 0:.0f} s "
            f"(the prefixes add loss terms and projections, not encoder passes)."
        )
    variants = [(r["name"], r) for r in rows] + [(f"{r['name']}, PCA-rotated", r["rotated"])
                                                 for r in rows]  # fmt: skip
    best = ", ".join(
        f"{m} d: {max(variants, key=lambda v: v[1]['pud_dev'][str(m)])[0]}" for m in DIMS
    )
    lines += ["", f"Best on dev at each width: {best}.", ""]
    series = {
        f"{r['name']}: {s}": ([int(m) for m in DIMS], [r[s][str(m)] for m in DIMS])
        for r in rows
        for s in ("pud_test", "demo400")
    }
    series.update({
        f"{r['name']}, PCA-rotated: pud_test": (
            [int(m) for m in DIMS], [r["rotated"]["pud_test"][str(m)] for m in DIMS])
        for r in rows[:2]
    })  # fmt: skip
    plots.line_chart(
        CHART, series, title="Accuracy by embedding width (first m dimensions, renormalized)",
        xlabel="dimensions", ylabel="xx <-> en retrieval accuracy",
    )  # fmt: skip
    return "\n".join(lines)
