"""absl flags generated from a frozen config dataclass: a new setting is one field.

A field declares its flag through its metadata (`setting(default, help, choices=...)`);
`define_flags` turns every such field into an absl flag of the matching kind (string,
integer, float, boolean, enum, comma-separated list) with the field's default, and
`values_from_flags` reads them back as constructor arguments (lists as tuples of the
field's element type). Entry points define only what is not a config field.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from typing import Any

from absl import flags

from lealla.config import flag_bounds

# Field annotations (strings under `from __future__ import annotations`) -> flag kind.
_KINDS = {
    "str": "string", "str | None": "string", "int": "integer", "int | None": "integer",
    "float": "float", "float | None": "float", "bool": "boolean",
    "tuple[str, ...]": "str_list", "tuple[int, ...]": "int_list",
}  # fmt: skip


def setting(
    default: Any,
    help: str,
    *,
    choices: Iterable[str] | None = None,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
) -> Any:
    """A config field that is also a command-line flag (`--<field name>`).

    Args:
      default: the field's default (a tuple for list flags).
      help: the flag's help text.
      choices: allowed values (an enum flag).
      at_least, above, at_most, below: bounds of a numeric field (of each item of a
        list): checked when the flag is parsed (a usage error) and by `check_bounds`.
        Float fields must also be finite.
    """
    bounds = None
    if any(b is not None for b in (at_least, above, at_most, below)):
        bounds = flag_bounds.Bounds.of(at_least, above, at_most, below)
    metadata = {
        "help": help, "choices": tuple(choices) if choices is not None else None,
        "bounds": bounds,
    }  # fmt: skip
    return dataclasses.field(default=default, metadata=metadata)


def flag_fields(config_cls: type, skip: Iterable[str] = ()) -> list[dataclasses.Field]:
    """The fields of `config_cls` declared with `setting`, less `skip`."""
    skip = set(skip)
    return [
        f for f in dataclasses.fields(config_cls) if "help" in f.metadata and f.name not in skip
    ]


def define_flags(
    config_cls: type,
    skip: Iterable[str] = (),
    flag_values: flags.FlagValues = flags.FLAGS,
    module_name: str | None = None,
) -> None:
    """Defines one absl flag per `setting` field of `config_cls` (not those in `skip`).

    The flags belong to `module_name` (default: the calling module), as if that entry
    point had declared them: its `--help` lists them.

    Raises:
      TypeError: a field type with no flag kind (declare that flag by hand).
    """
    owner = {"module_name": module_name or sys._getframe(1).f_globals["__name__"]}
    for f in flag_fields(config_cls, skip):
        help, choices = f.metadata["help"], f.metadata["choices"]
        kind = _kind(config_cls, f)
        if choices is not None:
            flags.DEFINE_enum(
                f.name, f.default, list(choices), help, flag_values=flag_values, **owner
            )
        elif kind in ("str_list", "int_list"):
            default = [str(v) for v in f.default]
            flags.DEFINE_list(f.name, default, help, flag_values=flag_values, **owner)
        elif kind == "float":
            bounds = f.metadata.get("bounds") or flag_bounds.Bounds()  # finite at least
            flag_bounds.define_bounded_float(
                f.name, f.default, help, bounds, flag_values=flag_values, **owner
            )
        elif kind == "integer" and f.metadata.get("bounds") is not None:
            flag_bounds.define_bounded_integer(
                f.name, f.default, help, f.metadata["bounds"], flag_values=flag_values, **owner
            )
        else:
            define = {
                "string": flags.DEFINE_string, "integer": flags.DEFINE_integer,
                "boolean": flags.DEFINE_boolean,
            }[kind]  # fmt: skip
            define(f.name, f.default, help, flag_values=flag_values, **owner)


def values_from_flags(
    config_cls: type, skip: Iterable[str] = (), flag_values: flags.FlagValues = flags.FLAGS
) -> dict[str, Any]:
    """{field: value} of every generated flag, lists as tuples of the field's type.

    Raises:
      ValueError: a list flag whose items are not of the field's type or out of the
        field's bounds, naming the flag.
    """
    values = {}
    for f in flag_fields(config_cls, skip):
        value = flag_values[f.name].value
        kind = _kind(config_cls, f)
        if kind == "int_list":
            try:
                value = tuple(int(v) for v in value or ())
            except ValueError:
                raise ValueError(
                    f"--{f.name} must be comma-separated integers, got {','.join(value)}"
                ) from None
            bounds = f.metadata.get("bounds")
            bad = [v for v in value if bounds is not None and not bounds.contains(v)]
            if bad:
                raise ValueError(
                    f"--{f.name}: each item must be {bounds.describe()}, got "
                    f"{','.join(map(str, bad))}"
                )
        elif kind == "str_list":
            value = tuple(value or ())
        values[f.name] = value
    return values


def check_bounds(config: Any) -> None:
    """Checks every bounded `setting` field of a config (each item of a tuple); None
    passes (an optional setting left unset).

    Raises:
      ValueError: naming the field, its bounds and the value.
    """
    for f in flag_fields(type(config)):
        bounds = f.metadata.get("bounds")
        value = getattr(config, f.name)
        if value is None:
            continue
        if bounds is None:
            bounds = flag_bounds.Bounds() if isinstance(value, float) else None
        if bounds is None:
            continue
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ValueError(f"{f.name} must be a number, got {item!r}")
            if not bounds.contains(item):
                raise ValueError(bounds.message(f.name, repr(item)))


def _kind(config_cls: type, f: dataclasses.Field) -> str:
    annotation = f.type
    if not isinstance(annotation, str):  # a module without `from __future__ import annotations`
        annotation = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    kind = _KINDS.get(annotation)
    if kind is None:
        raise TypeError(
            f"{config_cls.__name__}.{f.name}: no flag kind for type {f.type!r}; declare its "
            f"flag by hand"
        )
    return kind
