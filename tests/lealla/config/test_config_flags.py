"""Flags generated from a config dataclass (lealla/config/config_flags.py)."""

import dataclasses

import pytest
from absl import flags

from lealla.config.config_flags import (
    Section,
    define_flags,
    flag_names,
    section,
    setting,
    values_from_flags,
)


@dataclasses.dataclass(frozen=True)
class Toy:
    name: str = setting("tiny", "A name.")
    steps: int = setting(10, "Steps.")
    rate: float = setting(0.5, "A rate.")
    share: float | None = setting(0.3, "A share.")
    fast: bool = setting(False, "Go fast.")
    kind: str = setting("a", "A kind.", choices=("a", "b"))
    files: tuple[str, ...] = setting((), "Files.")
    lengths: tuple[int, ...] = setting((16, 32), "Lengths.")
    hidden: dict = dataclasses.field(default_factory=dict)  # no flag


def _parsed(*argv):
    values = flags.FlagValues()
    define_flags(Toy, flag_values=values)
    values(["prog", *argv])
    return values


def test_defaults_round_trip_and_a_new_field_is_one_line():
    values = _parsed()
    assert "hidden" not in values
    assert Toy(**values_from_flags(Toy, flag_values=values)) == Toy()
    assert values["kind"].help.endswith("A kind.") and values["lengths"].default == ["16", "32"]


def test_parsed_values_have_the_field_types():
    values = _parsed("--name=x", "--steps=3", "--rate=2", "--fast", "--kind=b",
                     "--files=a.tsv,b.tsv", "--lengths=8,64")  # fmt: skip
    got = Toy(**values_from_flags(Toy, flag_values=values))
    assert got == Toy("x", 3, 2.0, 0.3, True, "b", ("a.tsv", "b.tsv"), (8, 64))


def test_bad_values_name_the_flag():
    with pytest.raises(flags.IllegalFlagValueError, match="kind"):
        _parsed("--kind=c")
    values = _parsed("--lengths=8,x")
    with pytest.raises(ValueError, match="--lengths must be comma-separated integers, got 8,x"):
        values_from_flags(Toy, flag_values=values)


def test_skip_leaves_a_field_to_the_entry_point():
    values = flags.FlagValues()
    define_flags(Toy, skip=("steps",), flag_values=values)
    values(["prog"])
    assert "steps" not in values
    assert "steps" not in values_from_flags(Toy, skip=("steps",), flag_values=values)


@dataclasses.dataclass(frozen=True)
class Inner(Section):
    steps: int = setting(10, "Steps.", flag="steps", at_least=1)
    log_every: int = setting(5, "Log cadence.", at_least=1)

    def check(self):
        if self.log_every > self.steps:
            raise ValueError("log_every must be <= steps")


@dataclasses.dataclass(frozen=True)
class Data(Section):
    rate: float = setting(0.5, "A rate.", above=0)
    fast: bool = setting(True, "Go fast.")
    files: tuple[str, ...] = setting((), "Files.")


@dataclasses.dataclass(frozen=True)
class Outer(Section):
    trainer: Inner = section(Inner)
    toy: Data = section(Data)


def test_sections_name_their_flags_and_nest_their_values():
    values = flags.FlagValues()
    define_flags(Outer, flag_values=values)
    assert {"steps", "trainer.log_every", "toy.rate", "toy.files"} <= set(values)
    assert "trainer.steps" not in values  # a short name replaces the path
    values(["prog", "--steps=20", "--trainer.log_every=4", "--toy.files=a,b", "--notoy.fast"])
    got = values_from_flags(Outer, flag_values=values)
    assert got["trainer"] == {"steps": 20, "log_every": 4}
    config = Outer.from_dict(got)
    assert config == Outer().override({"trainer": {"steps": 20, "log_every": 4},
                                       "toy.files": ("a", "b"), "toy.fast": False})  # fmt: skip
    assert flag_names(Outer)["trainer.steps"] == "steps"
    with pytest.raises(flags.IllegalFlagValueError, match="--steps=0"):
        values(["prog", "--steps=0"])
    with pytest.raises(ValueError, match="log_every must be <= steps"):
        Outer().override({"trainer.log_every": 50})


def test_two_settings_with_one_flag_are_refused():
    @dataclasses.dataclass(frozen=True)
    class Twice(Section):
        a: Inner = section(Inner)
        b: Inner = section(Inner)

    with pytest.raises(ValueError, match="a.steps and b.steps both have the flag --steps"):
        define_flags(Twice, flag_values=flags.FlagValues())
