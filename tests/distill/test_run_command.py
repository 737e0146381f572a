"""The run record's `lealla distill` command sets every setting the run used."""

import dataclasses
import shlex

from absl import flags
from lealla.models.distill.distill_config import DistillConfig

from lealla.config import config_flags


def _parse(command: str) -> dict:
    """The command's flags parsed as `lealla distill` parses them -> config fields."""
    values = flags.FlagValues()
    config_flags.define_flags(DistillConfig, flag_values=values, module_name="test")
    flags.DEFINE_string("model_dir", None, "", flag_values=values)
    flags.DEFINE_string("teacher", None, "", flag_values=values)
    flags.DEFINE_list("student_overrides", [], "", flag_values=values)
    args = shlex.split(command)
    assert args[:2] == ["lealla", "distill"]
    values(["lealla", *args[2:]])
    fields = config_flags.values_from_flags(DistillConfig, flag_values=values)
    overrides = dict(item.split("=", 1) for item in values.student_overrides)
    return {**fields, "teacher": values.teacher, "model_dir": values.model_dir,
            "student_overrides": {k: int(v) for k, v in overrides.items()}}  # fmt: skip


def test_the_command_reproduces_the_config():
    config = DistillConfig(
        teacher="use-multilingual", student="tiny_test", student_overrides={"num_layers": 3},
        train_data=("data/de-en.tsv", "web/ko.txt@0.1"), dev_data=("demo:dev",),
        bucket_lengths=(16, 32), batch_size=16, steps=40, warmup_steps=4, learning_rate=1e-3,
        mono_pairs=False,
        matryoshka_dims=(8, 16), seq_length=32,
    )  # fmt: skip
    command = config.command_line("runs/tiny")
    parsed = _parse(command)
    assert parsed.pop("model_dir") == "runs/tiny"
    assert DistillConfig(**{**parsed, "teacher": parsed["teacher"] or "use-multilingual"}) == config
    assert "--nomono_pairs" in command and "--matryoshka_dims=8,16" in command
    # Settings left at their defaults are left out.
    assert "--seed" not in command and "--temperature" not in command
    defaults = [f.name for f in dataclasses.fields(DistillConfig) if "help" in f.metadata]
    assert sum(f"--{name}=" in command for name in defaults) < 12
