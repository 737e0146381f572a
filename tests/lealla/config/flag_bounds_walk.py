"""Walks the numeric flags of every `lealla` command (a script: absl flags are global).

Commands are imported one at a time; the flags one defines are removed before the next
is imported (they share names such as --batch_size). For each integer or float flag of
our own modules: the values just outside its bounds, NaN and infinity (floats) are
parsed as `lealla CMD --flag=VALUE` would parse them, and each must be refused; its
default must be accepted. Prints one JSON object: {command: {flag: {"bounds": str|None,
"refused": [...], "accepted": [...], "messages": [...], "default_ok": true|message}}}.
"""

from __future__ import annotations

import importlib
import json
import sys

from absl import flags

from lealla.cli.main import COMMANDS
from lealla.config import flag_bounds

OURS = ("lealla.", "distill.", "export.", "teachers.", "students.")


def bad_values(flag: flags.Flag) -> list[str]:
    bounds = flag_bounds.flag_bounds(flag)
    integer = isinstance(flag.parser, flags.IntegerParser)
    values = [] if integer else ["nan", "inf", "-inf"]
    if bounds is None:
        return values
    step = 1 if integer else 0.5
    if bounds.lower is not None:
        values.append(str(bounds.lower if bounds.lower_open else bounds.lower - step))
    if bounds.upper is not None:
        values.append(str(bounds.upper if bounds.upper_open else bounds.upper + step))
    return values


def walk(command: str) -> dict:
    values = flags.FLAGS
    before = set(values)
    module = COMMANDS[command][0]
    importlib.import_module(module)
    defined = set(values) - before
    prog = f"lealla {command}"
    report = {}
    for name in sorted(defined):
        flag = values[name]
        owner = values.find_module_defining_flag(name) or ""
        numeric = isinstance(flag.parser, (flags.IntegerParser, flags.FloatParser))
        if name != flag.name or not numeric or not owner.startswith(OURS):
            continue
        bounds = flag_bounds.flag_bounds(flag)
        entry = {
            "bounds": None if bounds is None else bounds.describe(),
            "refused": [], "accepted": [], "messages": [],
        }  # fmt: skip
        for value in bad_values(flag):
            try:
                values([prog, f"--{name}={value}"], known_only=True)
                entry["accepted"].append(value)
            except flags.Error as e:
                entry["refused"].append(value)
                entry["messages"].append(str(e))
            values.unparse_flags()
        if flag.default is not None:
            try:
                values([prog, f"--{name}={flag.default}"], known_only=True)
                entry["default_ok"] = True
            except flags.Error as e:
                entry["default_ok"] = str(e)
            values.unparse_flags()
        report[name] = entry
    for name in defined:
        delattr(values, name)
    del sys.modules[module]
    return report


if __name__ == "__main__":
    print(json.dumps({command: walk(command) for command in COMMANDS}))
