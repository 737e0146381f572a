"""The demo's report folder: report.md, a summary table, PNG plots."""

from __future__ import annotations

import os

import numpy as np

from lealla.files import atomic
from lealla.ui import plots


def summary_table(summary: dict) -> str:
    """Teacher vs student, one row per figure; markdown (also readable on a console)."""
    t, s = summary["teacher"], summary["student"]

    def mean(values: dict) -> float:
        return float(np.mean(list(values.values())))

    def mean_f1(mining: dict) -> float:
        return float(np.mean([m["f1"] for m in mining.values()]))

    share = mean(s["accuracy"]) / mean(t["accuracy"])
    q = summary.get("student_int8") or {}
    refused = q.get("refused")
    q = {} if refused else q
    rows = [
        ("model", t["name"], s["name"], "TFLite int8, tokenizer inside" if q else "", ""),
        ("embedding dims", t["dims"], s["dims"], s["dims"] if q else "",
         f"{t['dims'] / s['dims']:.1f}x smaller"),
        ("parameters", f"{t['parameters']:,}", f"{s['parameters']:,}",
         f"{s['parameters']:,}" if q else "", f"{t['parameters'] / s['parameters']:.1f}x smaller"),
        ("size on disk (MB)", "", f"{q['saved_model_bytes'] / 1e6:.1f}" if q else "",
         f"{q['bytes'] / 1e6:.1f}" if q else "",
         f"int8 {q['saved_model_bytes'] / q['bytes']:.1f}x smaller" if q else ""),
        ("encode speed (sentences/s)", f"{t['sentences_per_second']:,.0f}",
         f"{s['sentences_per_second']:,.0f}",
         f"{q['sentences_per_second']:,.0f}" if q else "",
         f"{s['sentences_per_second'] / t['sentences_per_second']:.2f}x"),
        ("test retrieval accuracy (13 pairs, 50 each)", f"{mean(t['accuracy']):.3f}",
         f"{mean(s['accuracy']):.3f}", f"{mean(q['accuracy']):.3f}" if q else "",
         f"{share:.0%} of teacher"),
        (f"mining F1 (ScaNN, pool {summary['mining_pool']})", f"{mean_f1(t['mining']):.3f}",
         f"{mean_f1(s['mining']):.3f}", "", ""),
    ]  # fmt: skip
    if q:
        lines = ["| | teacher | student | student, TFLite int8 | |",
                 "| --- | ---: | ---: | ---: | --- |"]  # fmt: skip
        lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    else:
        lines = ["| | teacher | student | |", "| --- | ---: | ---: | --- |"]
        rows = [r for r in rows if r[0] != "size on disk (MB)"]
        lines += [f"| {a} | {b} | {c} | {e} |" for a, b, c, _, e in rows]
    if refused:
        lines += ["", f"No int8 TFLite model: {refused}"]
    static = summary.get("static")
    if static:
        lines += [
            "",
            f"Static tier ({static['name']}, {static['steps']} steps): accuracy "
            f"{mean(static['accuracy']):.3f} ({mean(static['accuracy']) / mean(t['accuracy']):.0%}"
            f" of teacher) at {static['sentences_per_second']:,.0f} sentences/s "
            f"({static['sentences_per_second'] / s['sentences_per_second']:.0f}x the student).",
        ]
    labse = summary.get("vs_labse_shape")
    if labse:
        ratio = labse["student"] / labse["labse_shaped"]
        lines += [
            "",
            f"USE-multilingual is a light teacher; against a LaBSE-shaped encoder (12 x 768) on "
            f"the same token ids the student encodes {ratio:.1f}x faster "
            f"({labse['student']:,.0f} vs {labse['labse_shaped']:,.0f} sentences/s).",
        ]
    return "\n".join(lines)


def write(folder: str, summary: dict, curves: dict) -> str:
    """Writes report.md and the PNGs into `folder`; returns the summary table."""
    t, s = summary["teacher"], summary["student"]
    q = summary.get("student_int8") or {}  # {"refused": ...} when its bar was missed
    languages = list(s["accuracy"])
    table = summary_table(summary)
    plots.grouped_bar_chart(
        os.path.join(folder, "accuracy.png"), languages,
        {"teacher": [t["accuracy"][x] for x in languages],
         "student": [s["accuracy"][x] for x in languages]},
        title="Retrieval accuracy on the held-out test split (xx <-> en)", ylabel="accuracy",
        percent=True,
    )  # fmt: skip
    plots.grouped_bar_chart(
        os.path.join(folder, "mining_f1.png"), languages,
        {"teacher": [t["mining"][x]["f1"] for x in languages],
         "student": [s["mining"][x]["f1"] for x in languages]},
        title="Bitext mining F1 (ScaNN + ratio margin, mutual best)", ylabel="F1", percent=True,
    )  # fmt: skip
    # Losses with weight 0 are logged as 0: nothing to draw (and no log scale for 0).
    losses = {
        tag.split("/", 1)[1]: curve
        for tag, curve in curves.items()
        if tag.startswith("loss/") and min(curve[1], default=0.0) > 0
    }
    images = ["accuracy.png", "mining_f1.png"]
    if summary.get("static"):
        models = {"teacher": t, "student": s, "static tier": summary["static"]}
        points = {f"{name} ({m['dims']} d)": (m["sentences_per_second"],
                                               float(np.mean(list(m["accuracy"].values()))))
                  for name, m in models.items()}  # fmt: skip
        if q.get("accuracy"):  # the student's TFLite int8 file, when it passed its bar
            points[f"student, TFLite int8 ({s['dims']} d)"] = (
                q["sentences_per_second"],
                float(np.mean(list(q["accuracy"].values()))),
            )
        plots.frontier_chart(
            os.path.join(folder, "frontier.png"),
            points,
            title="Accuracy against encode speed (test split, 2 CPU cores)",
            xlabel="sentences/s (log)", ylabel="xx <-> en retrieval accuracy",
        )  # fmt: skip
        images.insert(0, "frontier.png")
    if losses:
        plots.line_chart(
            os.path.join(folder, "training_loss.png"), losses, title="Training losses",
            xlabel="step", ylabel="loss", log_y=True,
        )  # fmt: skip
        images.append("training_loss.png")
    if "retrieval_accuracy" in curves:
        plots.line_chart(
            os.path.join(folder, "dev_accuracy.png"),
            {"student (dev split)": curves["retrieval_accuracy"]},
            title="Dev retrieval accuracy during training", xlabel="step", ylabel="accuracy",
        )  # fmt: skip
        images.append("dev_accuracy.png")
    seconds = summary["seconds"]
    lines = [
        "# LEALLA demo report",
        "",
        f"Teacher `{t['name']}` distilled into a `{s['name']}` student "
        f"({summary['training']['steps']} steps, vocabulary {s['vocab_size']:,} pieces pruned "
        f"from the teacher's), exported ({s['export_bytes'] / 1e6:.1f} MB) and reloaded in a "
        "fresh process; evaluated on the held-out test split of the shipped corpus.",
        "",
        table,
        "",
        "Reload check (max |export - trained student|): "
        + ", ".join(f"{k} {v:.1g}" for k, v in summary["reload_max_abs_diff"].items()),
        "",
        "## Per language",
        "",
        "| pair | teacher acc. | student acc. | teacher mining F1 | student mining F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {x}-en | {t['accuracy'][x]:.3f} | {s['accuracy'][x]:.3f} | "
        f"{t['mining'][x]['f1']:.3f} | {s['mining'][x]['f1']:.3f} |"
        for x in languages
    ]
    lines += ["", "## Time per stage", "", "| stage | seconds |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.0f} |" for name, value in seconds.items()]
    lines += [""] + [f"![{name}]({name})\n" for name in images]
    atomic.atomic_write_text(os.path.join(folder, "report.md"), "\n".join(lines))
    return table
