"""JSON round-trip for the frozen dataclass configs of every package; unknown keys are errors."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from lealla.files.atomic import atomic_write_text
from lealla.files.json_shape import read_json_object

T = TypeVar("T", bound="ConfigMixin")


class ConfigMixin:
    """Adds `to_dict`/`from_dict`/`to_json_file`/`from_json_file` to a frozen dataclass.

    Example:
      >>> @dataclasses.dataclass(frozen=True)
      ... class C(ConfigMixin):
      ...     size: int = 1
      >>> C.from_dict({"size": 2}).to_dict()
      {'size': 2}
    """

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any]) -> T:
        """Builds the config; raises ValueError naming any unknown key."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} key(s) {unknown}; expected some of {sorted(names)}"
            )
        kwargs = {}
        for key, value in values.items():
            default = names[key].default
            if isinstance(value, list) and isinstance(default, tuple):
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str) -> None:
        """Writes the config atomically (temp file in the same folder, then rename)."""
        atomic_write_text(path, self.to_json_string())

    @classmethod
    def from_json_file(cls: type[T], path: str) -> T:
        return cls.from_dict(read_json_object(path))
