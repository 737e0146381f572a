"""absl flags generated from frozen config dataclasses: a new setting is one field.

A field declares its flag through its metadata (`setting(default, help, choices=...)`);
`define_flags` turns every such field into an absl flag of the matching kind (string,
integer, float, boolean, enum, comma-separated list) with the field's default, and
`values_from_flags` reads them back as constructor arguments (lists as tuples of the
field's element type). Entry points define only what is not a config field.

A config may be nested: a field declared with `section(cls)` holds a config of its own
(a section), whose settings become flags named `--<section>.<setting>`
(`--trainer.log_every`), unless a setting names its flag itself (`setting(...,
flag="steps")`: the few flags typed every day keep a short name). Every setting is one
flag, and a flag is one setting. `Section` is the base of a section that checks itself.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from absl import flags

from lealla.config import flag_bounds
from lealla.config.json_config import ConfigMixin, section_class

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
    flag: str | None = None,
    choices: Iterable[str] | None = None,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
) -> Any:
    """A config field that is also a command-line flag (`--<section>.<field name>`).

    Args:
      default: the field's default (a tuple for list flags).
      help: the flag's help text: the one description of the setting.
      flag: the flag's name when it is not the field's path (a short everyday name).
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
        "bounds": bounds, "flag": flag,
    }  # fmt: skip
    return dataclasses.field(default=default, metadata=metadata)


def section(config_cls: type | Callable[[], type], *, prefix: bool = True) -> Any:
    """A config field holding a section: a config dataclass of its own, made with its
    defaults unless given.

    Args:
      config_cls: the section's class, or a function returning it (a section built at
        run time, e.g. from a registry).
      prefix: its settings' flags are `--<field name>.<setting>`; False leaves the
        field name out (the section's own sections and settings name their flags).
    """
    metadata = {"section": config_cls, "prefix": prefix}
    field = dataclasses.field(default_factory=dict, metadata=metadata)  # a placeholder
    field.default_factory = lambda: section_class(field)()
    return field


class Section(ConfigMixin):
    """Base of a frozen config dataclass that checks itself when made: `check()`, its own
    rules (override it; they give the more specific messages), then the bounds of its
    settings (`check_bounds`). A section's sections check themselves when made."""

    def __post_init__(self) -> None:
        self.check()
        check_bounds(self)

    def check(self) -> None:
        """Raises ValueError naming the setting and what it must be."""


@dataclasses.dataclass(frozen=True)
class Flag:
    """The flag of one setting of a (nested) config class."""

    path: str  # dotted field names from the top config, e.g. "trainer.log_every"
    name: str  # the flag's name, e.g. "trainer.log_every" or "steps"
    field: dataclasses.Field
    owner: type  # the dataclass declaring the field


def config_flags(config_cls: Any, skip: Iterable[str] = ()) -> list[Flag]:
    """The flags of every `setting` of `config_cls` and its sections, less the paths in
    `skip`. Given a config (not its class), the sections it holds: a section built from
    a registry may have grown since the config was made.

    Raises:
      ValueError: two settings with one flag name.
    """
    skip = set(skip)
    found = [f for f in _walk(config_cls, "", "") if f.path not in skip]
    seen: dict[str, str] = {}
    for f in found:
        if f.name in seen:
            raise ValueError(f"settings {seen[f.name]} and {f.path} both have the flag --{f.name}")
        seen[f.name] = f.path
    return found


def _walk(config: Any, path: str, prefix: str) -> Iterator[Flag]:
    config_cls = config if isinstance(config, type) else type(config)
    for f in dataclasses.fields(config_cls):
        inner = section_class(f)
        if inner is not None and not isinstance(config, type):
            inner = getattr(config, f.name)
        if inner is not None:
            child_prefix = f"{prefix}{f.name}." if f.metadata["prefix"] else prefix
            yield from _walk(inner, f"{path}{f.name}.", child_prefix)
        elif "help" in f.metadata:
            name = f.metadata.get("flag") or f"{prefix}{f.name}"
            yield Flag(f"{path}{f.name}", name, f, config_cls)


def flag_fields(config_cls: type, skip: Iterable[str] = ()) -> list[dataclasses.Field]:
    """The fields of `config_cls` itself declared with `setting`, less `skip`."""
    skip = set(skip)
    return [
        f for f in dataclasses.fields(config_cls) if "help" in f.metadata and f.name not in skip
    ]


def flag_names(config_cls: type) -> dict[str, str]:
    """{setting path: its flag's name} of a (nested) config class."""
    return {f.path: f.name for f in config_flags(config_cls)}


def define_flags(
    config_cls: type,
    skip: Iterable[str] = (),
    flag_values: flags.FlagValues = flags.FLAGS,
    module_name: str | None = None,
) -> None:
    """Defines one absl flag per `setting` of `config_cls` and its sections (not the
    paths in `skip`).

    The flags belong to `module_name` (default: the calling module), as if that entry
    point had declared them: its `--help` lists them.

    Raises:
      TypeError: a field type with no flag kind (declare that flag by hand).
    """
    owner = {"module_name": module_name or sys._getframe(1).f_globals["__name__"]}
    for flag in config_flags(config_cls, skip):
        f, name = flag.field, flag.name
        help, choices = f.metadata["help"], f.metadata["choices"]
        kind = _kind(flag)
        if choices is not None:
            flags.DEFINE_enum(name, f.default, list(choices), help, flag_values=flag_values,
                              **owner)  # fmt: skip
        elif kind in ("str_list", "int_list"):
            default = [str(v) for v in f.default]
            flags.DEFINE_list(name, default, help, flag_values=flag_values, **owner)
        elif kind == "float":
            bounds = f.metadata.get("bounds") or flag_bounds.Bounds()  # finite at least
            flag_bounds.define_bounded_float(
                name, f.default, help, bounds, flag_values=flag_values, **owner
            )
        elif kind == "integer" and f.metadata.get("bounds") is not None:
            flag_bounds.define_bounded_integer(
                name, f.default, help, f.metadata["bounds"], flag_values=flag_values, **owner
            )
        else:
            define = {
                "string": flags.DEFINE_string, "integer": flags.DEFINE_integer,
                "boolean": flags.DEFINE_boolean,
            }[kind]  # fmt: skip
            define(name, f.default, help, flag_values=flag_values, **owner)


def values_from_flags(
    config_cls: type, skip: Iterable[str] = (), flag_values: flags.FlagValues = flags.FLAGS
) -> dict[str, Any]:
    """The value of every generated flag, nested as the config is ({section: {setting:
    value}}; `config_cls.from_dict` takes it), lists as tuples of the field's type.

    Raises:
      ValueError: a list flag whose items are not of the field's type or out of the
        field's bounds, naming the flag.
    """
    values: dict[str, Any] = {}
    for flag in config_flags(config_cls, skip):
        f, name = flag.field, flag.name
        value = flag_values[name].value
        kind = _kind(flag)
        if kind == "int_list":
            try:
                value = tuple(int(v) for v in value or ())
            except ValueError:
                raise ValueError(
                    f"--{name} must be comma-separated integers, got {','.join(value)}"
                ) from None
            bounds = f.metadata.get("bounds")
            bad = [v for v in value if bounds is not None and not bounds.contains(v)]
            if bad:
                raise ValueError(
                    f"--{name}: each item must be {bounds.describe()}, got "
                    f"{','.join(map(str, bad))}"
                )
        elif kind == "str_list":
            value = tuple(value or ())
        *sections, key = flag.path.split(".")
        inner = values
        for part in sections:
            inner = inner.setdefault(part, {})
        inner[key] = value
    return values


def check_bounds(config: Any) -> None:
    """Checks every bounded `setting` field of a config (each item of a tuple); None
    passes (an optional setting left unset). Its sections check their own.

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


def _kind(flag: Flag) -> str:
    f = flag.field
    annotation = f.type
    if not isinstance(annotation, str):  # a module without `from __future__ import annotations`
        annotation = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    kind = _KINDS.get(annotation)
    if kind is None:
        raise TypeError(
            f"{flag.owner.__name__}.{f.name}: no flag kind for type {f.type!r}; declare its "
            f"flag by hand"
        )
    return kind
