"""Training objectives: the interface and registry (`registry`), the terms LEALLA and
EMS + distillation share (`distillation`), and the built-in objectives, each a module
with its settings, heads and losses: `lealla` and `ems` ("ems", "ems+distill").

Importing the package registers the built-ins; a new objective is one more module here
and one import below (tests/distill/toy_objective.py is the smallest example).
"""

# Imported to register; lealla first: the default, listed first in --objective's help.
from lealla.models.distill.objectives import lealla  # noqa: I001, F401
from lealla.models.distill.objectives import ems  # noqa: F401
from lealla.models.distill.objectives.registry import (
    HeadContext,
    Objective,
    StepContext,
    get,
    names,
    register,
    section_class,
)

__all__ = [
    "HeadContext", "Objective", "StepContext", "get", "names", "register", "section_class",
]  # fmt: skip
