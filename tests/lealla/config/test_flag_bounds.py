"""Every numeric flag of every `lealla` command has bounds, enforced when it is parsed."""

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest
from absl import flags

from lealla.cli.main import COMMANDS
from lealla.config import flag_bounds
from lealla.config.config_flags import check_bounds, define_flags, setting, values_from_flags

WALK = os.path.join(os.path.dirname(__file__), "flag_bounds_walk.py")
ROOT = str(pathlib.Path(__file__).resolve().parents[3])


def test_every_numeric_flag_of_every_command_refuses_out_of_range_values():
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, WALK], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    walks = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(walks) == set(COMMANDS)
    problems = []
    for command, report in walks.items():
        for name, entry in report.items():
            where = f"lealla {command} --{name}"
            if entry["bounds"] is None and not entry["refused"]:
                problems.append(f"{where}: no bounds")
            if entry["accepted"]:
                problems.append(f"{where}: accepted {entry['accepted']}")
            if entry.get("default_ok", True) is not True:
                problems.append(f"{where}: refused its default ({entry['default_ok']})")
            problems += [f"{where}: {m!r} does not name the flag"
                         for m in entry["messages"] if f"--{name}=" not in m]  # fmt: skip
    assert not problems, "\n".join(problems)
    # The walk saw the flags the issue named (and so reads the flags it should).
    assert {"batch_size", "k", "threshold"} <= set(walks["align"])
    assert {"optimizer.learning_rate", "data.batch_size", "trainer.seed", "data.mono_share",
            "lealla.bank_size", "ems.xtr_sampled", "steps"} <= set(walks["distill"])  # fmt: skip
    assert "nan" in walks["distill"]["optimizer.learning_rate"]["refused"]
    assert "0" in walks["distill"]["optimizer.learning_rate"]["refused"]  # > 0, not >= 0
    assert "0" in walks["eval"]["batch_size"]["refused"]
    assert sum(len(r) for r in walks.values()) >= 60


def test_bounds_describe_and_contain():
    share = flag_bounds.Bounds.of(at_least=0, below=1)
    assert share.describe() == "in [0, 1)"
    assert [share.contains(v) for v in (0.0, 0.5, 1.0, -0.1, math.nan)] == [
        True, True, False, False, False,
    ]  # fmt: skip
    rate = flag_bounds.Bounds.of(above=0)
    assert rate.describe() == "> 0" and not rate.contains(0.0)
    assert rate.message("learning_rate", "nan") == "learning_rate must be > 0, got nan"
    assert not flag_bounds.Bounds().contains(math.inf) and flag_bounds.Bounds().contains(-3.0)
    with pytest.raises(TypeError):
        flag_bounds.Bounds.of(at_least=0, above=0)


def test_float_flag_refuses_nan_and_out_of_range_also_when_set_in_code():
    values = flags.FlagValues()
    flag_bounds.define_float("rate", 0.5, "A rate.", above=0, flag_values=values)
    for bad in ("nan", "inf", "0", "-1"):
        with pytest.raises(flags.IllegalFlagValueError, match=r"--rate="):
            values(["prog", f"--rate={bad}"])
        values.unparse_flags()
    values(["prog", "--rate=0.25"])
    assert values.rate == 0.25
    with pytest.raises(flags.IllegalFlagValueError, match="--rate must be > 0"):
        values.rate = -2.0


def _toy():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Toy:
        steps: int = setting(10, "Steps.", at_least=1)
        rate: float = setting(0.5, "A rate.", above=0)
        loose: float = setting(1.0, "Any finite number.")
        lengths: tuple[int, ...] = setting((16, 32), "Lengths.", at_least=3)
        share: float | None = setting(None, "A share.", at_least=0, below=1)

    return Toy


def test_generated_flags_carry_the_fields_bounds():
    toy = _toy()
    values = flags.FlagValues()
    define_flags(toy, flag_values=values)
    for arg in ("--steps=0", "--rate=0", "--rate=nan", "--loose=inf", "--share=1"):
        with pytest.raises(flags.IllegalFlagValueError, match=arg.split("=")[0]):
            values(["prog", arg])
        values.unparse_flags()
    values(["prog", "--lengths=8,2"])
    with pytest.raises(ValueError, match=r"--lengths: each item must be >= 3, got 2"):
        values_from_flags(toy, flag_values=values)


def test_check_bounds_names_the_field():
    toy = _toy()
    check_bounds(toy())
    for field, value, message in [
        ("rate", -1.0, r"rate must be > 0, got -1.0"),
        ("rate", math.nan, r"rate must be > 0, got nan"),
        ("loose", math.inf, r"loose must be a finite number, got inf"),
        ("steps", 0, r"steps must be >= 1, got 0"),
        ("lengths", (16, 1), r"lengths must be >= 3, got 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_bounds(toy(**{field: value}))
