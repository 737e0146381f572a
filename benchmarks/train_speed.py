"""Training throughput of the default student by numeric precision and XLA, one run.

Command: `python -m benchmarks.run_all --only=train_speed`. The quality benchmark's
setting (demo_small 4 x 128, batch 64, the news + ud-mono teacher cache, the default
recipe), each variant trained for the same wall time in its
own folder; throughput = median of the trainer's own examples/s log over the steps
after the first 100 (tracing and XLA compilation excluded, reported apart as the steps
the variant completed in the budget). More steps in a fixed budget is the cheapest
quality there is, if the precision does not cost accuracy: the quality section
measures that at 30 minutes.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks import quality_common as qc

MINUTES = 3.0
VARIANTS = {
    "float32": {},
    "mixed_bfloat16": {"runtime.dtype_policy": "mixed_bfloat16"},
    "float32 + XLA": {"runtime.jit_compile": True},
    "mixed_bfloat16 + XLA": {"runtime.dtype_policy": "mixed_bfloat16", "runtime.jit_compile": True},
}
_WARM_STEPS = 100


def examples_per_second(model_dir: str) -> list[tuple[int, float]]:
    """(step, examples/s) from the run's TensorBoard train summaries."""
    import tensorflow as tf

    folder = os.path.join(model_dir, "summaries", "train")
    out = []
    for name in sorted(os.listdir(folder)):
        for record in tf.data.TFRecordDataset(os.path.join(folder, name)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag == "examples_per_second":
                    out.append((event.step, float(tf.make_ndarray(value.tensor))))
    return sorted(out)


def measure(name: str, data: qc.Data, files, cache: str, **overrides) -> dict:
    import tensorflow as tf

    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller

    model_dir = os.path.join(qc.WORK, "speed", qc.slug(name))
    values = qc.settings(files, cache, data, MINUTES)
    # No dev evaluation (it would eat the budget); the token-table start skips the
    # teacher's piece embeddings at start-up (the start does not change the speed).
    values.update(
        {
            "data.dev_data": (),
            "data.dev_mono_data": (),
            "trainer.eval_every": 0,
            "trainer.log_every": 25,
            "student.token_init": "table",
            **overrides,
        }
    )
    if not os.path.isfile(os.path.join(model_dir, "metrics.json")):
        config = DistillConfig().override(values)
        Distiller(config, model_dir, tf.distribute.get_strategy()).train()
    logged = examples_per_second(model_dir)
    rates = [rate for step, rate in logged if step > _WARM_STEPS]
    return {"name": name, "rate": float(np.median(rates)), "trainer.steps": logged[-1][0]}


def run() -> str:
    title = "## Training throughput by precision and XLA (4 x 128 student)"
    if not qc.available():
        return qc.skipped(title)
    from benchmarks import quality

    data = qc.prepare()
    files, cache = quality.training_data(data)
    rows = [measure(name, data, files, cache, **extra) for name, extra in VARIANTS.items()]
    base = rows[0]["rate"]
    lines = [
        title,
        "",
        f"Command: `python -m benchmarks.run_all --only=train_speed`. The quality section's "
        f"setting (demo_small, batch 64, news + ud-mono cache, default recipe); each variant "
        f"{MINUTES:g} minutes of training in one run; examples/s: median of the trainer's "
        f"log after step {_WARM_STEPS}.",
        "",
        "| variant | examples/s | vs float32 | steps in the budget |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {r['name']} | {r['rate']:,.0f} | {r['rate'] / base:.2f}x | {r['steps']:,} |"
            for r in rows
        ),
        "",
    ]
    return "\n".join(lines)
