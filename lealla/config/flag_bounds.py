"""Numeric flags with checked bounds: an out-of-range value is a usage error when parsed.

Integer flags use absl's own `lower_bound`/`upper_bound`; float flags here also refuse
NaN and infinity (absl's bound check lets NaN through: every comparison with it is
false) and take exclusive bounds (a learning rate > 0). `Bounds` is the one description
of a range, shared by the flags and the config checks (`config_flags.check_bounds`).
"""

from __future__ import annotations

import dataclasses
import math

from absl import flags


@dataclasses.dataclass(frozen=True)
class Bounds:
    """A numeric range; None leaves that side open-ended. Floats must also be finite."""

    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False  # value > lower (else >=)
    upper_open: bool = False  # value < upper (else <=)

    @classmethod
    def of(
        cls,
        at_least: float | None = None,
        above: float | None = None,
        at_most: float | None = None,
        below: float | None = None,
    ) -> Bounds:
        """From at most one lower (`at_least` or `above`) and one upper side."""
        if (at_least is not None and above is not None) or (
            at_most is not None and below is not None
        ):
            raise TypeError("give at most one of at_least/above and one of at_most/below")
        return cls(
            lower=above if above is not None else at_least,
            upper=below if below is not None else at_most,
            lower_open=above is not None,
            upper_open=below is not None,
        )

    @property
    def is_open(self) -> bool:
        return self.lower_open or self.upper_open

    def contains(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        low, high = self.lower, self.upper
        if low is not None and (value <= low if self.lower_open else value < low):
            return False
        return high is None or (value < high if self.upper_open else value <= high)

    def describe(self) -> str:
        """What a value must be: "in [0, 1)", "> 0", ">= 1", or "a finite number"."""
        low, high = self.lower, self.upper
        if low is not None and high is not None:
            left, right = "(" if self.lower_open else "[", ")" if self.upper_open else "]"
            return f"in {left}{_num(low)}, {_num(high)}{right}"
        if low is not None:
            return f"{'>' if self.lower_open else '>='} {_num(low)}"
        if high is not None:
            return f"{'<' if self.upper_open else '<='} {_num(high)}"
        return "a finite number"

    def message(self, name: str, value) -> str:
        """E.g. "learning_rate must be > 0, got nan"."""
        return f"{name} must be {self.describe()}, got {value}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class BoundedFloatParser(flags.FloatParser):
    """absl's float parser, refusing NaN, infinity and values outside `bounds`."""

    def __init__(self, bounds: Bounds, name: str):
        super().__init__(bounds.lower, bounds.upper)
        self.bounds, self.name = bounds, name
        self.syntactic_help = bounds.describe()
        if self.syntactic_help != "a finite number":
            self.syntactic_help = f"a finite number {self.syntactic_help}"

    def parse(self, argument) -> float:
        value = self.convert(argument)
        if not self.bounds.contains(value):  # NaN and infinity included
            raise ValueError(self.bounds.message(self.name, argument))
        return value


def define_float(
    name: str,
    default: float | None,
    help: str,
    *,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
    flag_values: flags.FlagValues = flags.FLAGS,
    **kwargs,
) -> flags.FlagHolder:
    """A float flag that must be finite and within the given bounds (inclusive `at_*`,
    exclusive `above`/`below`); also checked for a default or a value set in code."""
    return define_bounded_float(
        name, default, help, Bounds.of(at_least, above, at_most, below), flag_values, **kwargs
    )


def define_bounded_float(
    name: str,
    default: float | None,
    help: str,
    bounds: Bounds,
    flag_values: flags.FlagValues = flags.FLAGS,
    **kwargs,
) -> flags.FlagHolder:
    """`define_float` with a ready `Bounds`."""
    parser = BoundedFloatParser(bounds, name)
    holder = flags.DEFINE(
        parser, name, default, help, flag_values, flags.ArgumentSerializer(), **kwargs
    )
    flags.register_validator(
        name,
        lambda value: value is None or bounds.contains(value),
        message=f"--{name} must be {bounds.describe()}",  # a fixed text: no value in it
        flag_values=flag_values,
    )
    return holder


def define_bounded_integer(
    name: str,
    default: int | None,
    help: str,
    bounds: Bounds,
    flag_values: flags.FlagValues = flags.FLAGS,
    **kwargs,
) -> flags.FlagHolder:
    """An integer flag within `bounds` (inclusive ones: `above=0` is `at_least=1`)."""
    if bounds.is_open:
        raise TypeError(f"--{name}: integer bounds are inclusive (at_least/at_most)")
    return flags.DEFINE_integer(
        name, default, help, lower_bound=bounds.lower, upper_bound=bounds.upper,
        flag_values=flag_values, **kwargs,
    )  # fmt: skip


def flag_bounds(flag: flags.Flag) -> Bounds | None:
    """The bounds a numeric flag enforces (None: an unbounded integer or not numeric)."""
    parser = flag.parser
    if isinstance(parser, BoundedFloatParser):
        return parser.bounds
    if isinstance(parser, (flags.IntegerParser, flags.FloatParser)):
        if parser.lower_bound is None and parser.upper_bound is None:
            return None
        return Bounds(parser.lower_bound, parser.upper_bound)
    return None
