"""Train a student: `python -m lealla.cli.distill_main --flagfile=...` (= `lealla distill`).

Distillation from a teacher (--objective=lealla), EMS from scratch (--objective=ems),
or both (--objective=ems+distill).

Examples:
  lealla distill --config=demo --model_dir=/tmp/demo_run
  lealla distill --config=ems_demo --model_dir=/tmp/ems_run
  lealla distill --objective=ems --vocab=vocab.txt --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --model_dir=runs/ems
  python -m lealla.cli.distill_main --config=lealla_small --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --teacher_cache=cache/labse --model_dir=runs/small
Re-running with the same --model_dir resumes from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import os

from absl import app, flags, logging

from lealla.api import runs
from lealla.cli import flags as shared_flags
from lealla.config import config_flags
from lealla.models import distill as distill_package
from lealla.models.distill import objectives
from lealla.models.distill.distill_config import DistillConfig

# The presets ship inside lealla.distill (distill/flagfiles/ in the source tree).
FLAGFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(distill_package.__file__)), "flagfiles")
_NO_STEP_LIMIT = 10**9

flags.DEFINE_string("model_dir", None, "Folder of the run (created; an existing run resumes).")
flags.DEFINE_string(
    "config", None,
    "A named flag preset from distill/flagfiles/ (demo, ems_demo, lealla_small, lealla_base, "
    "lealla_large) or a flagfile path; flags given on the command line win.",
)  # fmt: skip
shared_flags.define_teacher_flags()  # shared with `lealla cache`
# One flag per DistillConfig setting: its default and help live with the field.
config_flags.define_flags(DistillConfig)
flags.DEFINE_list("student_overrides", [], "Preset fields to replace: num_layers=4,hidden_dim=128.")
flags.DEFINE_string("tpu", None, "TPU name or address ('local' on a TPU VM).")
flags.DEFINE_integer(
    "cpu_replicas", 1, "Split the CPU into N replicas (tests multi-replica code).", lower_bound=1
)
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    steps_given = FLAGS["steps"].present
    if FLAGS.config:
        _apply_preset(FLAGS.config)
    if FLAGS.train_minutes and not steps_given:
        FLAGS.steps = _NO_STEP_LIMIT  # the budget decides
    if not FLAGS.model_dir:
        raise app.UsageError("--model_dir is required")
    try:
        config = _config_from_flags()
    except ValueError as e:
        raise app.UsageError(str(e)) from None
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.files import output_dirs
    from lealla.models.distill.strategy import make_strategy

    # Before anything is written: a new or empty folder or a run's, and one process on it.
    shared_flags.claim_output(FLAGS.model_dir, output_dirs.RUN, flag="--model_dir")
    strategy = make_strategy(tpu=FLAGS.tpu, cpu_replicas=FLAGS.cpu_replicas)
    metrics = runs.distill(config, FLAGS.model_dir, strategy=strategy)
    logging.info("done: %s", metrics)
    accuracy = metrics.get("dev_accuracy")
    summary = f"step {metrics['step']}: loss {metrics['losses'].get('total', float('nan')):.4f}"
    if accuracy is not None:
        summary += f", dev retrieval accuracy {accuracy:.4f}"
    if metrics.get("dev_agreement") is not None:
        summary += f", teacher agreement {metrics['dev_agreement']:.4f}"
    print(summary)


def _apply_preset(name: str) -> None:
    """Sets every flag of the preset file that was not given on the command line."""
    path = name if os.path.isfile(name) else os.path.join(FLAGFILE_DIR, f"{name}.flags")
    if not os.path.isfile(path):
        known = sorted(f[: -len(".flags")] for f in os.listdir(FLAGFILE_DIR))
        raise app.UsageError(f"--config={name}: no such preset or file (presets: {known})")
    with open(path, encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    for line in lines:
        key, _, value = line.lstrip("-").partition("=")
        if key not in FLAGS:
            raise app.UsageError(f"{path}: unknown flag --{key}")
        if not FLAGS[key].present:
            FLAGS[key].parse(value)


def _config_from_flags() -> DistillConfig:
    values = config_flags.values_from_flags(DistillConfig)
    overrides = {}
    for item in FLAGS.student_overrides:
        key, _, value = item.partition("=")
        overrides[key.strip()] = _number_or_text(value.strip())
    objective = values["objective"]
    # EMS alone needs no teacher: one is loaded only when given (to borrow its vocab).
    teacher = FLAGS.teacher or (None if objective == "ems" else _default("teacher"))
    student = values["student"]
    default_student = objectives.get(objective).default_student
    if default_student and not FLAGS["student"].present:
        student = default_student
    warmup = values["warmup_steps"]
    if warmup > values["steps"]:  # a preset's warmup, and a user who shortened the run
        warmup = values["steps"] // 10
        print(f"--warmup_steps={values['warmup_steps']} exceeds --steps={values['steps']}: "
              f"warming up over {warmup} steps instead")  # fmt: skip
    return DistillConfig(**{
        **values, "teacher": teacher, "preprocessor": FLAGS.preprocessor,
        "teacher_format": FLAGS.teacher_format, "teacher_seq_length": FLAGS.teacher_seq_length,
        "student": student.replace("-", "_"), "student_overrides": overrides,
        "warmup_steps": warmup,
    })  # fmt: skip


def _default(name: str):
    return next(f.default for f in dataclasses.fields(DistillConfig) if f.name == name)


def _number_or_text(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(value.lower(), value)


if __name__ == "__main__":
    app.run(main)
