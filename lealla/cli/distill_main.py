"""Train a student: `python -m lealla.cli.distill_main --flagfile=...` (= `lealla distill`).

Distillation from a teacher (--objective=lealla), EMS from scratch (--objective=ems),
or both (--objective=ems+distill). Every setting is a flag named by its section of the
run's config (`--data.batch_size`, `--trainer.log_every`, `--lealla.bank_weight`), but
the few typed every day: --train_data, --dev_data, --teacher, --teacher_cache,
--student, --objective, --steps, --train_minutes.

Examples:
  lealla distill --config=demo --model_dir=/tmp/demo_run
  lealla distill --config=ems_demo --model_dir=/tmp/ems_run
  lealla distill --objective=ems --student.vocab=vocab.txt --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --model_dir=runs/ems
  python -m lealla.cli.distill_main --config=lealla_small --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --teacher_cache=cache/labse --model_dir=runs/small
Re-running with the same --model_dir resumes from its last checkpoint.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

from lealla.api import runs
from lealla.cli import flags as shared_flags
from lealla.config import config_flags
from lealla.models import distill as distill_package
from lealla.models.distill import objectives
from lealla.models.distill.distill_config import DistillConfig

# The presets ship inside lealla.models.distill (distill/flagfiles/ in the source tree).
FLAGFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(distill_package.__file__)), "flagfiles")
_NO_STEP_LIMIT = 10**9

flags.DEFINE_string("model_dir", None, "Folder of the run (created; an existing run resumes).")
flags.DEFINE_string(
    "config", None,
    "A named preset from distill/flagfiles/ (demo, ems_demo, lealla_small, lealla_base, "
    "lealla_large) or a flagfile path: read as --flagfile before every other flag, so flags "
    "given on the command line win.",
)  # fmt: skip
# One flag per DistillConfig setting: its default and help live with the field.
config_flags.define_flags(DistillConfig)
flags.DEFINE_list(
    "student.overrides", [], "Student preset fields to replace: num_layers=4,hidden_dim=128."
)
flags.DEFINE_string("tpu", None, "TPU name or address ('local' on a TPU VM).")
flags.DEFINE_integer(
    "cpu_replicas", 1, "Split the CPU into N replicas (tests multi-replica code).", lower_bound=1
)
FLAGS = flags.FLAGS


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parsing, with the preset of `--config=NAME` read first.

    The preset is the flagfile distill/flagfiles/NAME.flags (or the path NAME), read by
    absl's flagfile reader ahead of every other flag, so that the command line and the
    user's own flagfiles win. A budget given with --train_minutes lifts a preset's step
    count: --steps then limits the run only when given outside the preset.

    Raises:
      flags.Error: an unknown preset or flag, or a bad value (a usage error).
    """
    args = FLAGS.read_flags_from_files(argv[1:], force_gnu=True)
    preset, rest = _preset(args)
    remaining = FLAGS([argv[0], *preset, *rest])
    if FLAGS.train_minutes and not any(_flag_name(a) == "steps" for a in rest):
        FLAGS.steps = _NO_STEP_LIMIT  # the budget decides
    return remaining


def _preset(args: list[str]) -> tuple[list[str], list[str]]:
    """The preset's flags (of the last --config) and the other arguments."""
    names, rest = [], []
    it = iter(args)
    for arg in it:
        if arg == "--config":
            names.append(next(it, ""))
        elif arg.startswith("--config="):
            names.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    if not names:
        return [], rest
    name = names[-1]
    path = name if os.path.isfile(name) else os.path.join(FLAGFILE_DIR, f"{name}.flags")
    if not os.path.isfile(path):
        known = sorted(f[: -len(".flags")] for f in os.listdir(FLAGFILE_DIR))
        raise flags.IllegalFlagValueError(
            f"--config={name}: no such preset or file (presets: {known})"
        )
    return FLAGS.read_flags_from_files([f"--flagfile={path}"], force_gnu=True), rest


def _flag_name(arg: str) -> str:
    name = arg.lstrip("-").split("=", 1)[0]
    return name[2:] if name.startswith("no") and name[2:] in FLAGS else name


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    if not FLAGS.model_dir:
        raise app.UsageError("--model_dir is required")
    try:
        config = config_from_flags()
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


def config_from_flags() -> DistillConfig:
    """The run's config from the parsed flags.

    Raises:
      ValueError: no --train_data, or settings the config refuses.
    """
    values = config_flags.values_from_flags(DistillConfig)
    if not values["data"]["train_data"]:
        raise ValueError("train_data is empty: give corpus files (--train_data)")
    objective = objectives.get(values["objective"]["name"])
    # An objective without distillation terms (EMS) needs no teacher: one is loaded only
    # when given (to borrow its vocabulary).
    given = FLAGS["teacher"].value if FLAGS["teacher"].present else None
    default = FLAGS["teacher"].default if objective.uses_teacher else None
    values["teacher"]["name"] = given or default
    student = values["student"]["name"]
    if objective.default_student and not FLAGS["student"].present:
        student = objective.default_student
    values["student"]["name"] = student.replace("-", "_")
    values["student"]["overrides"] = {}
    for item in FLAGS["student.overrides"].value:
        key, _, value = item.partition("=")
        values["student"]["overrides"][key.strip()] = _number_or_text(value.strip())
    steps, warmup = values["trainer"]["steps"], values["optimizer"]["warmup_steps"]
    if warmup > steps:  # a preset's warmup, and a user who shortened the run
        values["optimizer"]["warmup_steps"] = steps // 10
        print(f"--optimizer.warmup_steps={warmup} exceeds --steps={steps}: warming up over "
              f"{steps // 10} steps instead")  # fmt: skip
    return DistillConfig.from_dict(values)


def _number_or_text(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(value.lower(), value)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
