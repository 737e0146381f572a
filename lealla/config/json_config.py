"""JSON round-trip for the frozen dataclass configs of every package; unknown keys are errors.

A config may hold sections (fields declared with `config_flags.section`): they are nested
JSON objects, read back as their own config class.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from lealla.files.atomic import atomic_write_text
from lealla.files.json_shape import read_json_object

T = TypeVar("T", bound="ConfigMixin")


class ConfigMixin:
    """Adds `to_dict`/`from_dict`/`override`/`to_json_file`/`from_json_file` to a frozen
    dataclass.

    Example:
      >>> @dataclasses.dataclass(frozen=True)
      ... class C(ConfigMixin):
      ...     size: int = 1
      >>> C.from_dict({"size": 2}).to_dict()
      {'size': 2}
      >>> C().override({"size": 3})
      C(size=3)
    """

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, ConfigMixin):
                value = value.to_dict()
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[T], values: Mapping[str, Any]) -> T:
        """Builds the config (sections from nested dicts; a missing key keeps its default).

        Raises:
          ValueError: naming any unknown key by its path (e.g. 'trainer.stepz').
        """
        return cls._from_dict(values, "")

    @classmethod
    def _from_dict(cls: type[T], values: Mapping[str, Any], path: str) -> T:
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            if path:  # a section's: named by its path from the top config
                raise ValueError(
                    f"unknown key {', '.join(path + k for k in unknown)}; {path[:-1]} has "
                    f"{', '.join(sorted(names))}"
                )
            raise ValueError(
                f"unknown {cls.__name__} key(s) {unknown}; expected some of {sorted(names)}"
            )
        kwargs = {}
        for key, value in values.items():
            field = names[key]
            inner = section_class(field)
            if inner is not None:
                if not isinstance(value, Mapping):
                    raise ValueError(
                        f"{path}{key} must be an object of {inner.__name__} settings, got {value!r}"
                    )
                value = inner._from_dict(value, f"{path}{key}.")
            elif isinstance(value, list) and isinstance(field.default, tuple):
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)

    def override(self: T, values: Mapping[str, Any]) -> T:
        """A copy with `values` replaced (and checked, as any config when made).

        Args:
          values: {dotted path of a setting: value}, e.g. {"trainer.steps": 5}, or
            {section: {setting: value}}, e.g. {"trainer": {"steps": 5}}; both may mix.

        Raises:
          ValueError: naming an unknown key by its path, or a value the config refuses.
        """
        return type(self).from_dict(_merged(type(self), self.to_dict(), _nested(values)))

    def get(self, path: str) -> Any:
        """The value at a dotted path, e.g. config.get("trainer.steps")."""
        value: Any = self
        for part in path.split("."):
            value = getattr(value, part)
        return value

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str) -> None:
        """Writes the config atomically (temp file in the same folder, then rename)."""
        atomic_write_text(path, self.to_json_string())

    @classmethod
    def from_json_file(cls: type[T], path: str) -> T:
        """Reads a config file (errors name the file)."""
        values = read_json_object(path)
        try:
            return cls.from_dict(values)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


def section_class(field: dataclasses.Field) -> type | None:
    """The config class of a section field (`config_flags.section`: its metadata holds
    the class, or a function returning it); None for any other field."""
    config_cls = field.metadata.get("section")
    if config_cls is None:
        return None
    return config_cls if isinstance(config_cls, type) else config_cls()


def _nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}, in nested dicts too; keys without a dot stay."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        *sections, last = str(key).split(".")
        inner = out
        for part in sections:
            inner = inner.setdefault(part, {})
        if isinstance(value, Mapping):
            value = _nested(value)
            if isinstance(inner.get(last), dict):
                value = {**inner[last], **value}
        inner[last] = value
    return out


def _merged(cls: type, base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` (a `cls` config as a dict) with `changes` applied: a section merges, any
    other value (a dict-valued setting too) is replaced; unknown keys are kept for
    `from_dict` to name."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = dict(base)
    for key, value in changes.items():
        inner = section_class(fields[key]) if key in fields else None
        if inner is not None and isinstance(value, Mapping):
            out[key] = _merged(inner, out.get(key) or {}, value)
        else:
            out[key] = value
    return out
