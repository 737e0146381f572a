"""The objective interface and its registry (`--objective=NAME`).

An `Objective` says what it owns and needs, and the trainer asks it rather than testing
names: its settings (a frozen dataclass of `setting(...)` fields: the loss weights that
switch its terms on and their parameters; it checks itself), whether batches need the
teacher's embeddings (a teacher or a teacher cache) and language ids (a language table),
its training-only heads, and its losses on a batch.

The config's objective section is built from the registry (`section_class`): the chosen
objective's `name` plus one sub-section per registered objective, so registering one
brings its settings into `DistillConfig`, distill_config.json and the `lealla distill`
flags (`--<key>.<setting>`, e.g. `--lealla.bank_weight`) with no other edit. Adding an
objective is a module that builds an `Objective` and calls `register(...)`
(tests/distill/toy_objective.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lealla.config.config_flags import Section, section, setting
from lealla.records.run_layout import objective_key

if TYPE_CHECKING:
    import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class HeadContext:
    """What head builders may size themselves by."""

    width: int  # the student's embedding width
    teacher_dim: int | None  # the teacher's width (objectives with teacher embeddings)
    vocabulary_size: int
    num_languages: int  # entries of the language table + 1 (0: unknown)


@dataclasses.dataclass(frozen=True)
class StepContext:
    """Per-step inputs beyond the batch."""

    training: bool = True
    bank: tf.Tensor | None = None  # cached teacher embeddings (negatives)
    seed: tf.Tensor | None = None  # int [2] stateless seed of random choices


def _no_bank(settings) -> int:
    return 0


def _no_run_check(settings, config) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Objective:
    """A training objective.

    Attributes:
      name: the `--objective` value.
      help: what it trains, one line for the `--objective` flag's help.
      settings: its frozen dataclass of loss settings (a `Section` of `setting` fields,
        checked when made); their flags are `--<key>.<field>`.
      uses_teacher: batches carry the teacher's `src_emb`/`tgt_emb`.
      needs_languages: batches carry `src_lang_id`/`tgt_lang_id` (a language table).
      build_heads: (settings, HeadContext) -> {checkpoint name: built keras layer}.
      losses: (batch, student, heads, settings, StepContext) -> {"total", ...} scalars,
        this replica's share of the global loss.
      default_student: the student preset of a run that names none (None: the config's).
      bank_size: settings -> how many cached teacher embeddings a run from a teacher
        cache passes as `StepContext.bank` (0: none).
      check_config: (settings, DistillConfig) -> None; raises ValueError for settings
        that do not go with the rest of the run (e.g. the runtime's XLA compilation).

    An objective whose settings train embedding prefixes names them `matryoshka_dims`:
    the trainer evaluates each and export reads them (`DistillConfig.matryoshka_dims`).
    """

    name: str
    help: str
    settings: type
    uses_teacher: bool
    needs_languages: bool
    build_heads: Callable[[Any, HeadContext], dict[str, Any]]
    losses: Callable[..., dict[str, Any]]
    default_student: str | None = None
    bank_size: Callable[[Any], int] = _no_bank
    check_config: Callable[[Any, Any], None] = _no_run_check

    @property
    def key(self) -> str:
        """Its section's name in the config, distill_config.json and the flags: the name
        with "_" for what is not a letter, digit or "_" ("ems+distill" -> "ems_distill")."""
        return objective_key(self.name)


_REGISTRY: dict[str, Objective] = {}
_SECTION: list[type] = []  # the objective section class of the registry as it is


def register(objective: Objective) -> Objective:
    """Makes `objective` available by name (a name registered twice is an error)."""
    if objective.name in _REGISTRY and _REGISTRY[objective.name] is not objective:
        raise ValueError(f"objective {objective.name!r} is registered already")
    taken = {o.key: o.name for o in _REGISTRY.values() if o.name != objective.name}
    if objective.key in taken or objective.key == "name":
        raise ValueError(
            f"objective {objective.name!r}: its settings' key {objective.key!r} is taken"
        )
    if not (dataclasses.is_dataclass(objective.settings) and issubclass(objective.settings,
                                                                         Section)):  # fmt: skip
        raise TypeError(f"objective {objective.name!r}: settings must be a Section dataclass")
    _REGISTRY[objective.name] = objective
    _SECTION.clear()
    return objective


def get(name: str) -> Objective:
    """The registered objective `name`; ValueError naming the known ones otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"objective must be one of {names()}, got {name!r}")
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


class _ObjectiveSection(Section):
    """The objective section: the chosen objective and every registered one's settings."""

    name: str

    @property
    def chosen(self) -> Objective:
        """The chosen objective."""
        return get(self.name)

    @property
    def settings(self):
        """The chosen objective's settings."""
        return getattr(self, self.chosen.key)

    def check(self) -> None:
        chosen = get(self.name)
        # Another objective's settings would be ignored without a word (its flags look
        # alike: --lealla.feature_weight, --ems_distill.feature_weight).
        for other in _REGISTRY.values():
            if other is chosen:
                continue
            changed = [f"--{other.key}.{f.name}" for f in dataclasses.fields(other.settings)
                       if getattr(getattr(self, other.key), f.name) != f.default]  # fmt: skip
            if changed:
                raise ValueError(
                    f"{', '.join(changed)} applies to objective {other.name!r}, not to this "
                    f"run's {chosen.name!r}: drop it (the settings of {chosen.name!r} are "
                    f"--{chosen.key}.*)"
                )


def section_class() -> type:
    """The objective section as a frozen dataclass: `name` (the `--objective` flag) and
    one section per registered objective, holding its settings; rebuilt when an
    objective registers."""
    if not _SECTION:
        fields = [(
            "name", str, setting(
                "lealla",
                " ".join(f"{o.name}: {o.help}." for o in _REGISTRY.values())
                + " Each objective's loss settings are its --NAME.* flags ("
                + ", ".join(f"--{o.key}.*" for o in _REGISTRY.values())
                + "). A resumed run keeps its objective.",
                flag="objective", choices=names(),
            ),
        )]  # fmt: skip
        fields += [(o.key, o.settings, section(o.settings)) for o in _REGISTRY.values()]
        _SECTION.append(
            dataclasses.make_dataclass(
                "ObjectiveSection", fields, bases=(_ObjectiveSection,), frozen=True,
                namespace={"__module__": __name__},
            )
        )  # fmt: skip
    return _SECTION[0]


def check_terms(objective: str, weights: dict[str, float]) -> None:
    """Refuses settings that weigh every term of `objective` at 0 (nothing to train)."""
    if not any(weights.values()):
        raise ValueError(
            f"all loss weights of objective {objective!r} ({', '.join(weights)}) are 0: "
            f"nothing to train"
        )
