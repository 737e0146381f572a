"""The run record's `lealla distill` command sets every setting the run used."""

import shlex

from absl import flags

from lealla.config import config_flags
from lealla.models.distill.distill_config import DistillConfig


def _parse(command: str) -> tuple[dict, str]:
    """The command's flags parsed as `lealla distill` parses them -> (config values, model_dir)."""
    values = flags.FlagValues()
    config_flags.define_flags(DistillConfig, flag_values=values, module_name="test")
    flags.DEFINE_string("model_dir", None, "", flag_values=values)
    flags.DEFINE_list("student.overrides", [], "", flag_values=values)
    args = shlex.split(command)
    assert args[:2] == ["lealla", "distill"]
    values(["lealla", *args[2:]])
    fields = config_flags.values_from_flags(DistillConfig, flag_values=values)
    overrides = dict(item.split("=", 1) for item in values["student.overrides"].value)
    fields["student"]["overrides"] = {k: int(v) for k, v in overrides.items()}
    return fields, values.model_dir


def test_the_command_reproduces_the_config():
    config = DistillConfig().override({
        "teacher.name": "use-multilingual", "student.name": "tiny_test",
        "student.overrides": {"num_layers": 3},
        "data.train_data": ("data/de-en.tsv", "web/ko.txt@0.1"), "data.dev_data": ("demo:dev",),
        "data.bucket_lengths": (16, 32), "data.batch_size": 16, "trainer.steps": 40,
        "optimizer.warmup_steps": 4, "optimizer.learning_rate": 1e-3, "data.mono_pairs": False,
        "objective.lealla.matryoshka_dims": (8, 16), "data.seq_length": 32,
    })  # fmt: skip
    command = config.command_line("runs/tiny")
    parsed, model_dir = _parse(command)
    assert model_dir == "runs/tiny"
    assert DistillConfig.from_dict(parsed) == config
    assert "--nodata.mono_pairs" in command and "--lealla.matryoshka_dims=8,16" in command
    # Settings left at their defaults are left out.
    assert "--trainer.seed" not in command and "--data.temperature" not in command
    defaults = config_flags.flag_names(DistillConfig).values()
    assert sum(f"--{name}=" in command for name in defaults) < 12


def test_a_borrowed_teacher_is_named_and_ems_settings_keep_their_flags():
    config = DistillConfig().override({
        "objective.name": "ems", "student.vocab": "pruned", "data.train_data": ("a.tsv",),
        "objective.ems.xtr_sampled": 64, "objective.ems.contrastive_weight": 0.5,
    })  # fmt: skip
    command = config.command_line("runs/ems")
    assert "--teacher=use-multilingual" in command and "--objective=ems" in command
    assert "--ems.xtr_sampled=64" in command and "--ems.contrastive_weight=0.5" in command
    assert DistillConfig.from_dict(_parse(command)[0]) == config
