"""Quality per compute: our student against its teacher and the peers, at a time budget.

Commands: `python -m benchmarks.run_all --only=quality` (LEALLA_BENCH_MINUTES, 30 by
default) and `--only=quality_120` (LEALLA_BENCH_MINUTES_LONG, 120 by default). Every
trained row is one recipe of RECIPES: a name, DistillConfig overrides of today's
defaults (`quality_common.settings`: demo_small 4 x 128, batch 64, learning rate 1e-3)
and a budget, all on the same data (news-parallel + ud-mono), teacher (USE-m) and
machine. Besides them:
  teacher            USE-m v3
  peer               sentence-transformers' multilingual distillation (MSE + MNRL),
                     same shape, its own WordPiece vocabulary, same budget
                     (benchmarks/peer_sentence_transformers.py, own environment)
  static, untrained  each vocabulary piece embedded by the teacher, PCA to 128,
                     SIF-weighted mean (the Model2Vec recipe)
Dev: PUD lines 0-199 + kNN agreement on held-out ud-mono lines (chooses checkpoints and,
between rows of one table, the recipe); test: PUD 200-998 (in domain) and the 400 demo
sentences of each language (out of domain). See quality_common.py. The levers measured
once and decided are in benchmarks/RESULTS.md, "Ablations and decisions".
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys

import numpy as np
from absl import logging

from benchmarks import common
from benchmarks import quality_common as qc
from lealla.ui import plots

PEER_ENV = os.path.join(os.path.dirname(qc.WORK), "peer-venv")
PEER_PACKAGES = ("torch==2.13.0", "sentence-transformers==6.2.0")  # 2.13.0: the CPU build
PEER_NAME = "peer: sentence-transformers (MSE + MNRL)"
STATIC_UNTRAINED = "static, untrained (Model2Vec recipe)"
STATIC_TRAINED = "static, trained"
DEFAULT = "ours: default recipe, 4 x 128"
LONG_MINUTES = float(os.environ.get("LEALLA_BENCH_MINUTES_LONG", "120"))


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One trained row: its name, DistillConfig overrides (by path) of today's defaults, its
    budget."""

    name: str
    overrides: dict
    minutes: float


_EIGHT_LAYERS = {"student.overrides": {"num_layers": 8}}
# Every trained row of both tables. A row's scores are kept in benchmarks/results/ under
# its name and budget; change a recipe and rename it, so the old row is trained again.
RECIPES = (
    Recipe(DEFAULT, {}, qc.MINUTES),
    Recipe("ours: 8 layers x 128", _EIGHT_LAYERS, qc.MINUTES),
    Recipe("ours: 24 layers x 128", {"student.name": "lealla_small"}, qc.MINUTES),
    Recipe(STATIC_TRAINED, {"student.name": "static_128"}, qc.MINUTES),
    Recipe(DEFAULT, {}, LONG_MINUTES),
    Recipe("ours: default recipe, 8 x 128", _EIGHT_LAYERS, LONG_MINUTES),
)


def _peer_python() -> str:
    python = os.path.join(PEER_ENV, "bin", "python")
    # Written after the install: an install that was killed midway is redone.
    done = os.path.join(PEER_ENV, "installed.json")
    if not os.path.isfile(done):
        subprocess.run([sys.executable, "-m", "venv", "--clear", PEER_ENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        qc.save_json(done, {"packages": list(PEER_PACKAGES)})
    return python


def peer_row(data: qc.Data, cache: str, minutes: float) -> dict:
    """Trains and evaluates the sentence-transformers recipe in its own environment."""
    from lealla.models.teachers import embedding_cache

    work = os.path.join(qc.WORK, "peer", f"{minutes:g}min")
    result_file = os.path.join(work, "result.json")
    sets = {"pud_dev": qc.dev_sets(data), "pud_test": data.pud_test, "demo400": data.demo400}
    if qc.DONE_ONLY and not os.path.isfile(result_file):
        return {"name": PEER_NAME, "missing": True}
    if not os.path.isfile(result_file):
        os.makedirs(work, exist_ok=True)
        text = {"src": [], "tgt": [], "mono": []}
        emb = {"src": [], "tgt": [], "mono": []}
        for ex in embedding_cache.iter_cache(cache):
            if ex["tgt_lang"]:
                text["src"].append(ex["src"]), text["tgt"].append(ex["tgt"])
                emb["src"].append(ex["src_emb"]), emb["tgt"].append(ex["tgt_emb"])
            else:
                text["mono"].append(ex["src"]), emb["mono"].append(ex["src_emb"])
        paths = {k: os.path.join(work, f"train.{k}") for k in text if text[k]}
        for key in paths:
            with open(paths[key], "w", encoding="utf-8") as f:
                f.writelines(f"{t}\n" for t in text[key])
            np.save(os.path.join(work, f"{key}_emb.npy"), np.stack(emb[key]))
        encode = {}
        for set_name, by_lang in sets.items():
            for lang, texts in by_lang.items():
                path = os.path.join(work, f"{set_name}.{lang}.txt")
                with open(path, "w", encoding="utf-8") as f:
                    f.writelines(f"{t}\n" for t in texts)
                encode[f"{set_name}.{lang}"] = path
        job = {
            "work": work, "minutes": minutes, "layers": 4, "hidden": 128, "heads": 8,
            "vocab_size": 64_000, "batch_size": 64, "learning_rate": 5e-4, "seed": 0,
            "train": {**paths, **{f"{k}_emb": os.path.join(work, f"{k}_emb.npy") for k in paths}},
            "mono_share": _default_mono_share(),  # the share our rows train with
            "encode": encode,
        }  # fmt: skip
        job_file = os.path.join(work, "job.json")
        with open(job_file, "w", encoding="utf-8") as f:
            json.dump(job, f)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "peer_sentence_transformers.py")  # fmt: skip
        subprocess.run([_peer_python(), script, job_file], check=True)
    with open(result_file, encoding="utf-8") as f:
        result = json.load(f)
    out = {"name": PEER_NAME, **result}
    for set_name, by_lang in sets.items():
        emb = {lang: np.load(os.path.join(work, f"{set_name}.{lang}.npy")) for lang in by_lang}
        out[set_name] = qc.retrieval_from_embeddings(emb)
    return out


def _default_mono_share() -> float:
    from lealla.models.distill.distill_config import DistillConfig

    return DistillConfig().data.mono_share


def with_side_by_side_speeds(
    rows: list[dict], teacher: dict, teacher_embed: qc.Embed, data: qc.Data, minutes: float
) -> tuple[list[dict], dict]:
    """The rows and the teacher with encode speeds measured again, all in one pass.

    Each row's own speed was taken right after its training, hours apart on a shared
    machine: one 4 x 128 graph measured up to 1.4x apart. Here
    every model is timed in turn on the same sentences (`qc.encode_speed`), so the
    ratios between rows hold. Kept in results/encode_speed.json and measured again
    whenever a row is new to it.
    """
    path = qc.result_path("encode_speed")
    names = [teacher["name"], *(r["name"] for r in rows)]
    speeds = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            speeds = json.load(f)["sentences_per_second"]
    if not qc.DONE_ONLY and not set(names) <= set(speeds):
        texts = qc.speed_texts(data)
        speeds = {teacher["name"]: qc.encode_speed(teacher_embed, texts)}
        for r in rows:
            speeds[r["name"]] = _row_speed(r["name"], texts, minutes)
            logging.info("encode speed of %s: %.0f sentences/s", r["name"], speeds[r["name"]])
        record = {"machine": common.machine(), "sentences": len(texts),
                  "batch_size": qc.SPEED_BATCH, "sentences_per_second": speeds}  # fmt: skip
        qc.save_json(path, record)

    def timed(r: dict) -> dict:
        return {**r, "sentences_per_second": speeds.get(r["name"], r["sentences_per_second"])}

    return [timed(r) for r in rows], timed(teacher)


def _row_speed(name: str, texts: list[str], minutes: float) -> float:
    if name == PEER_NAME:
        work = os.path.join(qc.WORK, "peer", f"{minutes:g}min")
        texts_file, out = os.path.join(work, "speed_texts.txt"), os.path.join(work, "speed.json")
        with open(texts_file, "w", encoding="utf-8") as f:
            f.writelines(f"{t}\n" for t in texts)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "peer_sentence_transformers.py")  # fmt: skip
        subprocess.run([_peer_python(), script, "--speed", os.path.join(work, "job.json"),
                        texts_file, out], check=True)  # fmt: skip
        with open(out, encoding="utf-8") as f:
            return json.load(f)["sentences_per_second"]
    # The untrained static student is the trained one's graph (same vocabulary and
    # shape) before training; its weights do not change the speed.
    run = STATIC_TRAINED if name == STATIC_UNTRAINED else name
    return qc.encode_speed(
        qc.student_embed(os.path.join(qc.WORK, "runs", run_name(run, minutes))), texts
    )


def run_name(name: str, minutes: float) -> str:
    """The folder under runs/ of a trained row."""
    return f"main_{qc.slug(name)}_{minutes:g}min"


def polite_register_shares(data: qc.Data) -> dict[str, float]:
    """Share of Korean sentences in the polite -yo register (ending in 요), per text set:
    demo-400's everyday Korean is nearly all in it, the training text hardly."""
    punctuation = " .?!\"'”…~"

    def share(lines: list[str]) -> float:
        return float(np.mean([line.rstrip(punctuation).endswith("요") for line in lines]))

    news = [row.split("\t")[0] for p in data.news if os.path.basename(p).startswith("ko-")
            for row in qc.read_lines(p)]  # fmt: skip
    mono = [line for p in data.mono if os.path.basename(p) == "ud.ko.txt"
            for line in qc.read_lines(p)]  # fmt: skip
    return {"demo-400": share(data.demo400["ko"]), "news-parallel": share(news),
            "ud-mono": share(mono)}  # fmt: skip


def register_note(data: qc.Data, rows: list[dict], teacher: dict) -> list[str]:
    """Why Korean lags on demo-400, from the text itself (`polite_register_shares`)."""
    trained = [r for r in rows if r.get("steps") and r["name"] != PEER_NAME]
    if not trained:
        return []
    worst = [min(r["demo400"], key=lambda k, r=r: r["demo400"][k] / teacher["demo400"][k])
             for r in trained]  # fmt: skip
    shares = polite_register_shares(data)
    return [
        f"Korean is the weakest demo-400 language of {worst.count('ko')} of the "
        f"{len(trained)} trained rows: {shares['demo-400']:.0%} of its demo-400 sentences "
        f"are in the polite -yo register, {shares['news-parallel']:.0%} of news-parallel's "
        f'and {shares["ud-mono"]:.0%} of ud-mono\'s (see "Ablations and decisions": '
        f"register and domain text).",
        "",
    ]


def training_data(data: qc.Data) -> tuple[list[str], str]:
    """The files and teacher cache every trained row of the quality sections uses.

    The default recipe mixes monolingual text of other domains into the pairs; every
    row, the peer included, gets the same news + ud-mono data.
    """
    files = data.news + data.mono
    cache, _ = qc.build_cache("news_mono", files)
    return files, cache


@functools.cache  # once per process: `--only=A,B` sections share the teacher's scores
def budget_setup() -> tuple[qc.Data, tuple[str, ...], str, qc.Embed, dict, np.ndarray]:
    """What every time-budget table starts from: (data, training files, their teacher
    cache, the teacher, its row of scores, its embeddings of the ud-mono dev lines)."""
    data = qc.prepare()
    files, cache = training_data(data)
    teacher_embed = qc.teacher_embed()
    teacher = {"name": "teacher: USE-m v3", **qc.evaluate(teacher_embed, data)}
    mono = teacher_embed(qc.mono_dev_texts(data))  # the dev kNN agreement's reference
    return data, tuple(files), cache, teacher_embed, teacher, mono


def student_row(recipe: Recipe, data: qc.Data, cache: str, files, teacher_mono) -> dict:
    """The scores of a recipe's run: read from benchmarks/results/, else trained now."""
    path = qc.result_path(run_name(recipe.name, recipe.minutes))
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    if qc.DONE_ONLY:
        return {"name": recipe.name, "missing": True}
    model_dir, metrics = qc.train(
        run_name(recipe.name, recipe.minutes), train_data=files, cache=cache, data=data,
        minutes=recipe.minutes, **recipe.overrides,
    )  # fmt: skip
    result = {
        "name": recipe.name,
        "steps": metrics["step"],
        **qc.evaluate(qc.student_embed(model_dir), data, teacher_mono),
    }
    qc.save_json(path, result)
    logging.info(
        "%s: %s", recipe.name, {k: v for k, v in result.items() if not isinstance(v, dict)}
    )
    return result


def static_untrained_row(data: qc.Data, cache: str, files) -> dict:
    """The Model2Vec recipe: a static student straight from its initialization."""
    path = qc.result_path("main_static_untrained")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    import tensorflow as tf

    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller

    config = DistillConfig().override(
        {**qc.settings(files, cache, data, 1.0), "student.name": "static_128"}
    )
    model_dir = os.path.join(qc.WORK, "runs", "static_untrained")
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy())
    embed = lambda texts: distiller.encoder.encode(list(texts), batch_size=64)  # noqa: E731
    result = {"name": STATIC_UNTRAINED, "steps": 0,
              **qc.evaluate(embed, data)}  # fmt: skip
    qc.save_json(path, result)
    return result


def table(rows: list[dict], teacher: dict) -> list[str]:
    t_pud, t_demo = qc.mean(teacher["pud_test"]), qc.mean(teacher["demo400"])
    lines = [
        "| model | steps | PUD test | / teacher | demo-400 | / teacher | worst demo-400 language "
        "(/ teacher) | sentences/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in [teacher, *rows]:
        pud, demo = qc.mean(r["pud_test"]), qc.mean(r["demo400"])
        ratios = {k: v / max(teacher["demo400"][k], 1e-9) for k, v in r["demo400"].items()}
        worst = min(ratios, key=ratios.get)
        lines.append(
            f"| {r['name']} | {r.get('steps', '-')} | {pud:.3f} | {pud / t_pud:.0%} | "
            f"{demo:.3f} | {demo / t_demo:.0%} | {worst} {r['demo400'][worst]:.3f} "
            f"({ratios[worst]:.0%}) | {r['sentences_per_second']:,.0f} |"
        )
    return lines


def measured(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """The rows that have results, and a line naming the others (none if all have)."""
    missing = [r["name"] for r in rows if r.get("missing")]
    note = [f"Not measured yet (rerun the command; finished rows are reused): "
            f"{', '.join(missing)}.", ""] if missing else []  # fmt: skip
    return [r for r in rows if not r.get("missing")], note


def dev_choice(rows: list[dict]) -> list[str]:
    """The dev comparison of the rows scored on both dev signals (PUD dev + ud-mono kNN)."""
    scored = [r for r in rows if "mono_agreement" in r and "pud_dev" in r]
    if len(scored) < 2:
        return []
    parts = [f"{r['name']} {qc.mean(r['pud_dev']):.4f} + {r['mono_agreement']:.4f}" for r in scored]
    best = max(scored, key=lambda r: qc.mean(r["pud_dev"]) + r["mono_agreement"])
    return [f"Dev (PUD dev + ud-mono kNN agreement): {'; '.join(parts)}. Chosen: "
            f"{best['name']}.", ""]  # fmt: skip


def frontier_png(rows: list[dict], teacher: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    # Label slots around a point: below right, above right, above left, below left; a
    # point takes the next slot after those of its neighbours within 2x of its speed.
    slots = (("demo400", (8, -16), "left"), ("pud_test", (8, 16), "left"),
             ("pud_test", (-8, 16), "right"), ("demo400", (-8, -16), "right"))  # fmt: skip
    labelled: list[float] = []
    for r in [teacher, *rows]:
        speed = r["sentences_per_second"]
        ax.scatter(speed, qc.mean(r["demo400"]), marker="o", color="tab:blue")
        ax.scatter(speed, qc.mean(r["pud_test"]), marker="s", color="tab:orange")
        near = sum(abs(np.log2(speed / other)) < 1 for other in labelled)
        key, offset, align = slots[near % len(slots)]
        labelled.append(speed)
        ax.annotate(r["name"].split(" (")[0], (speed, qc.mean(r[key])), fontsize=7,
                    xytext=offset, textcoords="offset points", ha=align, va="center",
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5"})  # fmt: skip
    ax.set_xscale("log")
    plots.readable_log_x(ax)
    ax.set_ylim(top=1.08)  # room for the labels above the top points
    ax.set_xlabel("encode speed (sentences/s, 2 CPU cores, batch 64)")
    ax.set_ylabel("xx <-> en retrieval accuracy")
    ax.scatter([], [], marker="o", color="tab:blue", label="demo-400 (out of domain)")
    ax.scatter([], [], marker="s", color="tab:orange", label="PUD test (in domain)")
    ax.legend(loc="center", fontsize=8)  # the lower left holds weak rows
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def run() -> str:
    """The main table: the recipes at qc.MINUTES, the peer and the static tier."""
    title = "## Quality per compute (news-parallel -> PUD, demo-400)"
    if not qc.available():
        return qc.skipped(title)
    data, files, cache, teacher_embed, teacher, mono = budget_setup()
    # Finished rows are read back, so an interrupted run resumes.
    ours = [student_row(r, data, cache, files, mono) for r in RECIPES if r.minutes == qc.MINUTES]
    static_untrained = static_untrained_row(data, cache, files)
    peer = peer_row(data, cache, qc.MINUTES)
    rows, not_measured = measured([*ours, peer, static_untrained])
    rows, teacher = with_side_by_side_speeds(rows, teacher, teacher_embed, data, qc.MINUTES)
    png = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quality_frontier.png")
    frontier_png(rows, teacher, png)
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=quality`. Rows: "
        f"`benchmarks/quality.py` RECIPES, each {qc.MINUTES:g} minutes of training on this "
        f"machine. Accuracy: xx <-> en "
        f"retrieval, mean of both directions and of 13 languages; PUD test = lines 200-998 "
        f"(799-way), demo-400 = all 400 demo sentences per language (400-way, never "
        f"trained on). Sentences/s: every model timed again after training, one after "
        f"another in one pass (fastest of 5 runs over the first {qc.SPEED_SENTENCES} "
        f"English PUD test lines, batches of {qc.SPEED_BATCH} cut in length order, as "
        f"sentence-transformers encodes; the untrained static row is the trained one's "
        f"graph). Frontier chart: `benchmarks/quality_frontier.png`.",
        "",
        *table(rows, teacher),
        "",
        *dev_choice(rows),
        *register_note(data, rows, teacher),
        *not_measured,
    ]
    return "\n".join(lines)


def run_120() -> str:
    """The recipes at LONG_MINUTES: does more time, or depth, close the gap?"""
    title = f"## Quality per compute at {LONG_MINUTES:g} minutes"
    if not qc.available():
        return qc.skipped(title)
    data, files, cache, _, teacher, mono = budget_setup()
    rows, not_measured = measured(
        [student_row(r, data, cache, files, mono) for r in RECIPES if r.minutes == LONG_MINUTES]
    )
    return "\n".join([
        title, "",
        f"Command: `python -m benchmarks.run_all --only=quality_120`. As the main table, "
        f"{LONG_MINUTES:g} minutes of training.", "",
        *table(rows, teacher), "",
        *dev_choice(rows),
        *not_measured,
    ])  # fmt: skip
