"""DistillConfig: everything a distillation run needs, in sections, saved as JSON (nested,
one object per section) in its model_dir."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterator
from typing import Any

from lealla.config import config_flags
from lealla.config.config_flags import Section, section
from lealla.models.distill import objectives
from lealla.models.distill.config_sections import (
    VOCAB_CHOICES,
    DataSection,
    OptimizerSection,
    RuntimeSection,
    StudentSection,
    TeacherSection,
    TrainerSection,
)

# Settings that may change when a run is resumed (everything else must match).
RESUMABLE_CHANGES = (
    "trainer.steps", "trainer.train_minutes", "trainer.eval_every", "trainer.log_every",
    "trainer.checkpoint_every", "trainer.keep_checkpoints",
    "student.token_init",  # read at the first start only
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class DistillConfig(Section):
    """A training run: distillation (LEALLA), EMS from scratch, or both.

    Sections (shaped as TF Model Garden's `ExperimentConfig`), each documenting and
    checking its own settings: `objective` (the chosen `name` and every registered
    objective's loss settings: `objective.lealla`, `objective.ems`,
    `objective.ems_distill`; `objective.settings` is the chosen one's), `data` (corpus,
    mixing, packing, batches), `teacher`, `student` (preset, vocabulary, start),
    `optimizer`, `trainer` (steps or time budget, checkpoints, evaluation) and `runtime`. Each
    setting is a `lealla distill` flag (`--data.batch_size`, `--lealla.bank_weight`, or
    a short everyday name: `--steps`, `--train_data`, `--teacher`, ...). This class
    checks what spans sections.

    Build one from its defaults with `override`, by dotted paths or by section:

    Example:
      >>> import lealla
      >>> config = lealla.DistillConfig().override({
      ...     "data.train_data": ("data/*.tsv",), "data.dev_data": ("data/dev.de-en.tsv",),
      ...     "teacher.cache": ("cache/labse",), "student.name": "lealla_small",
      ...     "trainer": {"train_minutes": 30}, "objective.lealla.bank_weight": 0.5})
      >>> config.objective.name, config.teacher.cache, config.trainer.train_minutes
      ('lealla', ('cache/labse',), 30)
      >>> config.objective.settings.bank_weight
      0.5
    """

    # The chosen objective (first: it decides what the rest must hold, e.g. a teacher) and
    # one sub-section per registered one; their flags are --objective and
    # --<key>.<setting> (--lealla.bank_weight), without "objective.".
    objective: Any = section(objectives.section_class, prefix=False)
    data: DataSection = section(DataSection)
    teacher: TeacherSection = section(TeacherSection)
    student: StudentSection = section(StudentSection)
    optimizer: OptimizerSection = section(OptimizerSection)
    trainer: TrainerSection = section(TrainerSection)
    runtime: RuntimeSection = section(RuntimeSection)

    def check(self) -> None:
        objective = self.objective.chosen
        teacher = self.teacher.name
        if self.data.dev_mono_data and not teacher:
            raise ValueError("dev_mono_data needs a teacher (--teacher) to agree with")
        if objective.uses_teacher and not teacher:
            raise ValueError(
                f"objective {objective.name!r} distils from a teacher: give --teacher "
                f"(or --objective=ems to train without one)"
            )
        if not objective.uses_teacher:
            if self.teacher.cache:
                raise ValueError(
                    f"objective {objective.name!r} has no distillation term, so "
                    f"--teacher_cache is unused; drop it or use --objective=ems+distill"
                )
            if self.student.vocab in VOCAB_CHOICES and not teacher:
                raise ValueError(
                    f"objective {objective.name!r} without a teacher needs a vocabulary: "
                    f"--student.vocab=PATH to a wordpiece vocab.txt (e.g. from `lealla vocab "
                    f"build`) or a SentencePiece .model, or --teacher=NAME to borrow that "
                    f"teacher's vocabulary (--student.vocab={self.student.vocab} is the "
                    f"teacher's)"
                )
        objective.check_config(self.objective.settings, self)
        if self.optimizer.warmup_steps > self.trainer.steps:
            raise ValueError(
                f"warmup_steps must be in [0, steps], got {self.optimizer.warmup_steps} "
                f"(--optimizer.warmup_steps) > {self.trainer.steps} (--steps)"
            )

    @property
    def uses_teacher_embeddings(self) -> bool:
        """Whether the objective has distillation terms (teacher cache or teacher in the loop)."""
        return self.objective.chosen.uses_teacher

    @property
    def matryoshka_dims(self) -> tuple[int, ...]:
        """The embedding prefixes the chosen objective trains (its `matryoshka_dims`
        setting; () when it has none): evaluated at each width, read by export."""
        return tuple(getattr(self.objective.settings, "matryoshka_dims", ()))

    def command_line(self, model_dir: str) -> str:
        """The `lealla distill` command that trains this config: every setting that differs
        from its default, as the flag that sets it (the run record export and the model
        card quote)."""
        args = ["lealla", "distill", f"--model_dir={model_dir}"]
        for flag in config_flags.config_flags(self):
            value, default = self.get(flag.path), flag.field.default
            # Without a --teacher, a teacher-free objective trains with none: a teacher it
            # borrows is always named.
            named = flag.path == "teacher.name" and not self.uses_teacher_embeddings
            if value is None or (value == default and not named):
                continue
            if isinstance(value, bool):
                args.append(f"--{flag.name}" if value else f"--no{flag.name}")
            elif isinstance(value, tuple):
                args.append(f"--{flag.name}=" + ",".join(map(str, value)))
            else:
                args.append(f"--{flag.name}={value}")
        if self.student.overrides:
            pairs = ",".join(f"{k}={v}" for k, v in self.student.overrides.items())
            args.append(f"--student.overrides={pairs}")
        return shlex.join(args)

    def changes_against(self, saved: DistillConfig) -> list[str]:
        """Paths of the settings that differ from a saved run's config and may not change
        on resume (e.g. "data.batch_size")."""
        return [
            path for path in _setting_paths(self)
            if path not in RESUMABLE_CHANGES and self.get(path) != saved.get(path)
        ]  # fmt: skip


def _setting_paths(config: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every field of a config that is not a section."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, Section):
            yield from _setting_paths(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"
