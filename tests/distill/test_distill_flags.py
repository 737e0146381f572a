"""`lealla distill` flags are generated from DistillConfig (lealla/config/config_flags.py)."""

import json
import subprocess
import sys

SCRIPT = r"""
import sys
from absl import flags
from lealla.cli import distill_main as train
from lealla.config import config_flags
from lealla.models.distill.distill_config import DistillConfig

FLAGS = flags.FLAGS
train.parse_flags(["distill", "--model_dir=/tmp/x", "--train_data=a.tsv,b.tsv", *sys.argv[1:]])


def leaves(values, prefix=""):
    for key, value in values.items():
        if isinstance(value, dict) and key != "overrides":  # a section
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key


paths = set(config_flags.flag_names(DistillConfig)) | {"student.overrides"}
missing = sorted(set(leaves(DistillConfig().to_dict())) - paths)
assert not missing and "student.overrides" in FLAGS, f"settings without a flag: {missing}"
print(train.config_from_flags().to_json_string().replace("\n", ""))
"""


def _config(*argv):
    from lealla.models.distill.distill_config import DistillConfig

    result = subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return DistillConfig.from_dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_every_field_is_a_flag_with_the_field_default():
    from lealla.models.distill.distill_config import DistillConfig

    assert _config() == DistillConfig().override({"data.train_data": ("a.tsv", "b.tsv")})


def test_flag_values_reach_the_config_with_the_field_types():
    config = _config("--data.bucket_lengths=8,32", "--data.seq_length=32", "--lealla.matryoshka_dims=16,32",
                     "--runtime.dtype_policy=mixed_bfloat16", "--noruntime.jit_compile", "--data.mono_share=0.5",
                     "--student.overrides=num_layers=2")  # fmt: skip
    assert config.data.bucket_lengths == (8, 32) and config.matryoshka_dims == (16, 32)
    assert config.runtime.dtype_policy == "mixed_bfloat16" and config.data.mono_share == 0.5
    assert config.student.overrides == {"num_layers": 2} and not config.runtime.jit_compile
    # EMS without --teacher or --student: no teacher, the EMS student.
    config = _config("--objective=ems", "--student.vocab=v.txt")
    assert config.teacher.name is None and config.student.name == "ems_small"


def test_a_config_made_in_code_or_read_back_is_bounds_checked():
    import math

    import pytest

    from lealla.models.distill.distill_config import DistillConfig

    for path, value in [("optimizer.learning_rate", -1.0), ("optimizer.learning_rate", math.nan),
                        ("data.batch_size", 0), ("trainer.seed", -1),
                        ("data.bucket_lengths", (2, 64)),
                        ("objective.lealla.ams_margin", 1.0)]:  # fmt: skip
        field = path.rsplit(".", 1)[1]
        with pytest.raises(ValueError, match=rf"^{field} must be"):
            DistillConfig().override({"data.train_data": ("a.tsv",), path: value})


TOY_SCRIPT = r"""
import json, sys
from tests.distill import toy_objective  # registered before the flags are defined
from lealla.cli import distill_main as train

train.parse_flags(["distill", "--model_dir=/tmp/x", "--train_data=a.tsv", *sys.argv[1:]])
config = train.config_from_flags()
print(json.dumps({"config": config.to_dict(), "command": config.command_line("run")}))
"""


def test_a_registered_objective_brings_its_settings_as_flags_and_into_the_saved_config():
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    argv = ["--objective=toy", "--toy.weight=0.5", "--toy.power=2"]
    result = subprocess.run([sys.executable, "-c", TOY_SCRIPT, *argv], capture_output=True,
                            text=True, timeout=120, cwd=root)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    saved = out["config"]["objective"]
    assert saved["name"] == "toy" and saved["toy"] == {"weight": 0.5, "power": 2}
    assert "--objective=toy --toy.weight=0.5 --toy.power=2" in out["command"]
    # Its bounds are enforced like any setting's, and its settings are refused for another
    # objective.
    bad = subprocess.run([sys.executable, "-c", TOY_SCRIPT, "--objective=toy", "--toy.power=5"],
                         capture_output=True, text=True, timeout=120, cwd=root)  # fmt: skip
    assert bad.returncode != 0 and "--toy.power=5" in bad.stderr
    other = subprocess.run([sys.executable, "-c", TOY_SCRIPT, "--toy.weight=2"],
                           capture_output=True, text=True, timeout=120, cwd=root)  # fmt: skip
    assert other.returncode != 0
    assert "--toy.weight applies to objective 'toy', not to this run's 'lealla'" in other.stderr
