"""Train a student: `python -m distill.train --flagfile=...` (= `lealla distill`).

Distillation from a teacher (--objective=lealla), EMS from scratch (--objective=ems),
or both (--objective=ems+distill).

Examples:
  lealla distill --config=demo --model_dir=/tmp/demo_run
  lealla distill --config=ems_demo --model_dir=/tmp/ems_run
  lealla distill --objective=ems --vocab=vocab.txt --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --model_dir=runs/ems
  python -m distill.train --config=lealla_small --train_data='data/*.tsv' \\
      --dev_data=data/dev.de-en.tsv --teacher_cache=cache/labse --model_dir=runs/small
Re-running with the same --model_dir resumes from its last checkpoint.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

from distill import distill_config
from distill.distill_config import DistillConfig
from lealla.commands import flags as shared_flags

FLAGFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flagfiles")
_DEFAULTS = DistillConfig(train_data=("unused",))
EMS_DEFAULT_STUDENT = "ems_small"
_NO_STEP_LIMIT = 10**9

# Required.
flags.DEFINE_string("model_dir", None, "Folder of the run (created; an existing run resumes).")
# What to distil.
flags.DEFINE_string(
    "config", None,
    "A named flag preset from distill/flagfiles/ (demo, ems_demo, lealla_small, lealla_base, "
    "lealla_large) or a flagfile path; flags given on the command line win.",
)  # fmt: skip
flags.DEFINE_enum(
    "objective", _DEFAULTS.objective, list(distill_config.OBJECTIVES),
    "lealla: distil a teacher (AMS + feature + logit). ems: XTR + contrastive from scratch, "
    "no teacher (give --vocab=PATH, or --teacher only to borrow its vocabulary with "
    "--vocab=pruned|teacher). ems+distill: XTR + contrastive + feature/logit distillation "
    "(teacher or --teacher_cache as for lealla). A resumed run keeps its objective.",
)  # fmt: skip
shared_flags.define_teacher_flags()
flags.DEFINE_string(
    "teacher_cache", None, "A `lealla cache` folder (fast path); else teacher in the loop."
)
flags.DEFINE_string(
    "student", _DEFAULTS.student,
    f"Student preset (lealla-small, demo-small, ems-small, ...); with --objective=ems or "
    f"ems+distill and no --student: {EMS_DEFAULT_STUDENT}.",
)  # fmt: skip
flags.DEFINE_list("student_overrides", [], "Preset fields to replace: num_layers=4,hidden_dim=128.")
flags.DEFINE_string(
    "vocab", _DEFAULTS.vocab,
    "pruned | teacher (the teacher's, pruned to the data or whole) | path to a wordpiece "
    "vocab.txt (e.g. from `lealla vocab build`) or a SentencePiece .model (no teacher needed).",
)  # fmt: skip
flags.DEFINE_boolean("init_from_teacher", _DEFAULTS.init_from_teacher, "PCA-init token embeddings.")
flags.DEFINE_list("train_data", [], "Training corpus files/globs (or demo:train).")
flags.DEFINE_list("dev_data", [], "Parallel dev files/globs (or demo:dev).")
flags.DEFINE_enum(
    "on_bad_line", _DEFAULTS.on_bad_line, ["error", "skip"],
    "error: stop at the first bad corpus line (invalid UTF-8, empty, wrong field count, "
    "control character) naming file and line; skip: drop bad lines, counted in the log.",
)  # fmt: skip
flags.DEFINE_float("temperature", _DEFAULTS.temperature, "Language sampling temperature (>= 1).")
flags.DEFINE_float(
    "mono_share", _DEFAULTS.mono_share,
    "Share of monolingual examples in the mix when the data has monolingual files too "
    "(they feed the feature and bank terms only).",
)  # fmt: skip
flags.DEFINE_float(
    "min_share", _DEFAULTS.min_share, "Sampling floor per language group (little-data languages)."
)
flags.DEFINE_integer("shuffle_buffer", _DEFAULTS.shuffle_buffer, "Per-language shuffle buffer.")
flags.DEFINE_integer("seed", _DEFAULTS.seed, "Seed of data order and initialization.")
flags.DEFINE_integer("seq_length", _DEFAULTS.seq_length, "Student input length.")
flags.DEFINE_list("bucket_lengths", [str(n) for n in _DEFAULTS.bucket_lengths], "Length buckets.")
# Optimization.
flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size, "Global batch size.")
flags.DEFINE_integer(
    "steps", _DEFAULTS.steps, "Training steps (with --train_minutes: a limit only if given)."
)
flags.DEFINE_float(
    "train_minutes", _DEFAULTS.train_minutes,
    "Time budget of the training loop in minutes (0: run --steps). The learning rate decays "
    "on the fraction of the budget spent; the run ends on time with its final evaluation; "
    "rerunning resumes the same budget.",
)  # fmt: skip
flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate, "Peak AdamW learning rate.")
flags.DEFINE_integer("warmup_steps", _DEFAULTS.warmup_steps, "Linear warmup steps.")
flags.DEFINE_float("weight_decay", _DEFAULTS.weight_decay, "AdamW weight decay.")
flags.DEFINE_float("clip_norm", _DEFAULTS.clip_norm, "Global gradient-norm clipping (0: off).")
flags.DEFINE_enum(
    "dtype_policy", _DEFAULTS.dtype_policy, ["float32", "mixed_bfloat16", "mixed_float16"],
    "Mixed precision policy.",
)  # fmt: skip
# Losses.
flags.DEFINE_float("ams_weight", _DEFAULTS.ams_weight, "Additive-margin softmax weight.")
flags.DEFINE_float("ams_scale", _DEFAULTS.ams_scale, "AMS logit scale (LaBSE: 100).")
flags.DEFINE_float("ams_margin", _DEFAULTS.ams_margin, "AMS margin (LaBSE: 0.3).")
flags.DEFINE_float("feature_weight", _DEFAULTS.feature_weight, "Feature distillation weight.")
flags.DEFINE_enum(
    "feature_kind", _DEFAULTS.feature_kind, ["squared_error", "mse", "cosine"], "Feature loss."
)
flags.DEFINE_float("logit_weight", _DEFAULTS.logit_weight, "Logit distillation weight.")
flags.DEFINE_float("logit_scale", _DEFAULTS.logit_scale, "Logit distillation scale.")
flags.DEFINE_float(
    "cross_weight", _DEFAULTS.cross_weight,
    "Cross-lingual feature targets: each side of a pair also regressed onto the teacher's "
    "embedding of the other side.",
)  # fmt: skip
flags.DEFINE_float(
    "bank_weight", _DEFAULTS.bank_weight,
    "Contrastive distillation: find the teacher's embedding among the batch's and (with "
    "--teacher_cache) a bank of cached ones.",
)  # fmt: skip
flags.DEFINE_integer("bank_size", _DEFAULTS.bank_size, "Cached teacher embeddings in the bank.")
flags.DEFINE_float(
    "bank_temperature", _DEFAULTS.bank_temperature, "Contrastive distillation temperature."
)
flags.DEFINE_float("xtr_weight", _DEFAULTS.xtr_weight, "XTR weight (EMS objectives).")
flags.DEFINE_integer(
    "xtr_sampled", _DEFAULTS.xtr_sampled,
    "XTR softmax: 0 = full vocabulary; N = the batch's target tokens + N random ids "
    "(sampled softmax for large vocabularies).",
)  # fmt: skip
flags.DEFINE_float(
    "contrastive_weight", _DEFAULTS.contrastive_weight, "InfoNCE weight (EMS objectives)."
)
flags.DEFINE_float(
    "contrastive_temperature", _DEFAULTS.contrastive_temperature, "InfoNCE temperature."
)
# Cadence and hardware.
flags.DEFINE_integer("checkpoint_every", _DEFAULTS.checkpoint_every, "Steps between checkpoints.")
flags.DEFINE_integer("keep_checkpoints", _DEFAULTS.keep_checkpoints, "Checkpoints kept.")
flags.DEFINE_integer("eval_every", _DEFAULTS.eval_every, "Steps between dev evaluations.")
flags.DEFINE_integer("log_every", _DEFAULTS.log_every, "Steps between log lines/summaries.")
flags.DEFINE_boolean("jit_compile", _DEFAULTS.jit_compile, "XLA-compile the loss/gradient step.")
flags.DEFINE_string("tpu", None, "TPU name or address ('local' on a TPU VM).")
flags.DEFINE_integer("cpu_replicas", 1, "Split the CPU into N replicas (tests multi-replica code).")
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
    from distill.strategy import make_strategy
    from distill.trainer import Distiller

    strategy = make_strategy(tpu=FLAGS.tpu, cpu_replicas=FLAGS.cpu_replicas)
    metrics = Distiller(config, FLAGS.model_dir, strategy).train()
    logging.info("done: %s", metrics)
    accuracy = metrics.get("dev_accuracy")
    summary = f"step {metrics['step']}: loss {metrics['losses'].get('total', float('nan')):.4f}"
    print(summary + (f", dev retrieval accuracy {accuracy:.4f}" if accuracy is not None else ""))


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
    overrides = {}
    for item in FLAGS.student_overrides:
        key, _, value = item.partition("=")
        overrides[key.strip()] = _number_or_text(value.strip())
    ems = FLAGS.objective in distill_config.EMS_OBJECTIVES
    # EMS alone needs no teacher: one is loaded only when given (to borrow its vocab).
    teacher = FLAGS.teacher or (None if FLAGS.objective == "ems" else _DEFAULTS.teacher)
    student = FLAGS.student if FLAGS["student"].present or not ems else EMS_DEFAULT_STUDENT
    warmup = FLAGS.warmup_steps
    if warmup > FLAGS.steps:  # a preset's warmup, and a user who shortened the run
        warmup = FLAGS.steps // 10
        print(f"--warmup_steps={FLAGS.warmup_steps} exceeds --steps={FLAGS.steps}: "
              f"warming up over {warmup} steps instead")  # fmt: skip
    return DistillConfig(
        objective=FLAGS.objective, teacher=teacher,
        preprocessor=FLAGS.preprocessor, teacher_format=FLAGS.teacher_format,
        teacher_seq_length=FLAGS.teacher_seq_length, teacher_cache=FLAGS.teacher_cache,
        student=student.replace("-", "_"), student_overrides=overrides, vocab=FLAGS.vocab,
        init_from_teacher=FLAGS.init_from_teacher, train_data=tuple(FLAGS.train_data),
        on_bad_line=FLAGS.on_bad_line,
        dev_data=tuple(FLAGS.dev_data), temperature=FLAGS.temperature,
        mono_share=FLAGS.mono_share, min_share=FLAGS.min_share,
        shuffle_buffer=FLAGS.shuffle_buffer, seed=FLAGS.seed, seq_length=FLAGS.seq_length,
        bucket_lengths=tuple(int(n) for n in FLAGS.bucket_lengths), batch_size=FLAGS.batch_size,
        steps=FLAGS.steps, train_minutes=FLAGS.train_minutes,
        learning_rate=FLAGS.learning_rate, warmup_steps=warmup,
        weight_decay=FLAGS.weight_decay, clip_norm=FLAGS.clip_norm,
        ams_weight=FLAGS.ams_weight, ams_scale=FLAGS.ams_scale, ams_margin=FLAGS.ams_margin,
        feature_weight=FLAGS.feature_weight, feature_kind=FLAGS.feature_kind,
        logit_weight=FLAGS.logit_weight, logit_scale=FLAGS.logit_scale,
        cross_weight=FLAGS.cross_weight, bank_weight=FLAGS.bank_weight,
        bank_size=FLAGS.bank_size, bank_temperature=FLAGS.bank_temperature,
        xtr_weight=FLAGS.xtr_weight, xtr_sampled=FLAGS.xtr_sampled,
        contrastive_weight=FLAGS.contrastive_weight,
        contrastive_temperature=FLAGS.contrastive_temperature,
        dtype_policy=FLAGS.dtype_policy, jit_compile=FLAGS.jit_compile,
        checkpoint_every=FLAGS.checkpoint_every,
        keep_checkpoints=FLAGS.keep_checkpoints, eval_every=FLAGS.eval_every,
        log_every=FLAGS.log_every,
    )  # fmt: skip


def _number_or_text(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(value.lower(), value)


if __name__ == "__main__":
    app.run(main)
