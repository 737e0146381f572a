"""The shape of JSON we read back (manifests, metadata): a damaged or hand-edited file is
named in one line (`manifest.json: "shards" must be a list, got int`), not a TypeError
deep inside a reader.

A shape is a type (or a tuple of types), a `{key: shape}` dict (a key ending in "?" is
optional; other keys are allowed), or a one-item list `[shape]` (a list of such items).
"""

from __future__ import annotations

import json
from typing import Any

_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
          dict: "an object", list: "a list", type(None): "null"}  # fmt: skip


def check(path: str, value: Any, shape: Any, advice: str = "") -> None:
    """Raises ValueError naming `path`, the key and what it must be, unless `value` has
    `shape`; `advice` (e.g. "; rebuild it with --overwrite") is appended."""
    problem = _problem(value, shape, "")
    if problem is not None:
        raise ValueError(f"{path}: {problem}{advice}")


def _problem(value: Any, shape: Any, where: str) -> str | None:
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return _wrong(where, dict, value)
        for key, inner in shape.items():
            name, optional = key.rstrip("?"), key.endswith("?")
            if name not in value:
                if optional:
                    continue
                return f"{_at(where) or 'the file'} has no {name!r}"
            problem = _problem(value[name], inner, f"{where}.{name}" if where else name)
            if problem is not None:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return _wrong(where, list, value)
        for i, item in enumerate(value):
            problem = _problem(item, shape[0], f"{where}[{i}]")
            if problem is not None:
                return problem
        return None
    types = shape if isinstance(shape, tuple) else (shape,)
    # bool is an int in Python, never in our files.
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        return _wrong(where, types, value)
    return None


def _wrong(where: str, expected, value: Any) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    if set(types) == {int, float}:
        want = "a number"
    else:
        want = " or ".join(_NAMES.get(t, t.__name__) for t in types)
    got = "true/false" if isinstance(value, bool) else type(value).__name__
    return f"{_at(where) or 'the file'} must be {want}, got {got}"


def _at(where: str) -> str:
    return f'"{where}"' if where else ""


def read_json_object(path: str, advice: str = "") -> dict[str, Any]:
    """Reads a JSON file that must hold one object.

    Raises:
      ValueError: not JSON, or not an object (names the file; `advice` is appended).
    """
    with open(path, encoding="utf-8") as f:
        try:
            values = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e}){advice}") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(values).__name__}{advice}")
    return values
