"""`lealla distill` flags are generated from DistillConfig (lealla/config/config_flags.py)."""

import json
import subprocess
import sys

SCRIPT = r"""
import dataclasses, sys
from absl import flags
from lealla.cli import distill_main as train
from lealla.models.distill.distill_config import DistillConfig

FLAGS = flags.FLAGS
FLAGS(["distill", "--model_dir=/tmp/x", "--train_data=a.tsv,b.tsv", *sys.argv[1:]])
fields = {f.name for f in dataclasses.fields(DistillConfig)}
missing = sorted(n for n in fields if n not in FLAGS)
assert not missing, f"fields without a flag: {missing}"
print(train._config_from_flags().to_json_string().replace("\n", ""))
"""


def _config(*argv):
    from lealla.models.distill.distill_config import DistillConfig

    result = subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return DistillConfig.from_dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_every_field_is_a_flag_with_the_field_default():
    from lealla.models.distill.distill_config import DistillConfig

    assert _config() == DistillConfig(train_data=("a.tsv", "b.tsv"))


def test_flag_values_reach_the_config_with_the_field_types():
    config = _config("--bucket_lengths=8,32", "--seq_length=32", "--matryoshka_dims=16,32",
                     "--dtype_policy=mixed_bfloat16", "--nojit_compile", "--mono_share=0.5",
                     "--student_overrides=num_layers=2")  # fmt: skip
    assert config.bucket_lengths == (8, 32) and config.matryoshka_dims == (16, 32)
    assert config.dtype_policy == "mixed_bfloat16" and config.mono_share == 0.5
    assert config.student_overrides == {"num_layers": 2} and not config.jit_compile
    # EMS without --teacher or --student: no teacher, the EMS student.
    config = _config("--objective=ems", "--vocab=v.txt")
    assert config.teacher is None and config.student == "ems_small"


def test_a_config_made_in_code_or_read_back_is_bounds_checked():
    import math

    import pytest
    from lealla.models.distill.distill_config import DistillConfig

    for field, value in [("learning_rate", -1.0), ("learning_rate", math.nan), ("batch_size", 0),
                         ("seed", -1), ("bucket_lengths", (2, 64)), ("ams_margin", 1.0)]:  # fmt: skip
        with pytest.raises(ValueError, match=rf"^{field} must be"):
            DistillConfig(train_data=("a.tsv",), **{field: value})
