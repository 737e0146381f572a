"""StudentConfig: the student's shape (a preset plus overrides), JSON round-trippable."""

from __future__ import annotations

import dataclasses

import keras

from lealla.config.json_config import ConfigMixin
from lealla.models.students import presets
from lealla.models.students.static import StaticBackbone
from lealla.models.students.thin_deep import POOLINGS, ThinDeepBackbone

DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
KINDS = ("transformer", "static")


@dataclasses.dataclass(frozen=True)
class StudentConfig(ConfigMixin):
    """The shape of a student encoder; saved as JSON beside its checkpoints.

    Attributes:
      preset: the preset it started from (informational; the fields are the truth).
      vocabulary_size: token embedding rows (matches the tokenizer's vocabulary).
      num_layers, num_heads, hidden_dim, intermediate_dim: the Transformer's shape.
      max_sequence_length: longest input, special tokens included.
      pooling: "cls" (LEALLA) or "mean" (EMS).
      output_dim: final projection width, or None for hidden_dim.
      dropout: training dropout (exports and evaluation run without it).
      dtype_policy: "float32", "mixed_bfloat16" (TPU/CPU) or "mixed_float16" (GPU).
      kind: "transformer" (ThinDeepBackbone) or "static" (StaticBackbone: a weighted
        mean of token vectors; num_layers 0, the Transformer fields unused).
    """

    preset: str | None
    vocabulary_size: int
    num_layers: int
    num_heads: int
    hidden_dim: int
    intermediate_dim: int
    max_sequence_length: int = 512
    pooling: str = "cls"
    output_dim: int | None = None
    # Distillation learns faster without dropout: a budget run sees its cache less than
    # once (benchmarks/RESULTS.md#ablations-and-decisions). The EMS presets, trained from
    # scratch, keep 0.1.
    dropout: float = 0.0
    dtype_policy: str = "float32"
    kind: str = "transformer"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "static" and self.num_layers:
            raise ValueError(f"a static student has no layers, got num_layers={self.num_layers}")
        names = ("vocabulary_size", "hidden_dim", "max_sequence_length")
        if self.kind == "transformer":
            names += ("num_layers", "num_heads", "intermediate_dim")
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim={self.hidden_dim} is not divisible by num_heads={self.num_heads}"
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.dtype_policy not in DTYPE_POLICIES:
            raise ValueError(
                f"dtype_policy must be one of {DTYPE_POLICIES}, got {self.dtype_policy!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def from_preset(cls, name: str, **overrides) -> StudentConfig:
        """A preset's shape with some fields replaced, e.g. a pruned vocabulary_size."""
        key = presets.canonical_preset_name(name)
        values = {"preset": key, **presets.PRESETS[key]["kwargs"], **overrides}
        return cls.from_dict(values)

    @property
    def embedding_dim(self) -> int:
        return self.output_dim or self.hidden_dim

    def build(self) -> ThinDeepBackbone | StaticBackbone:
        """The (randomly initialized) backbone of this shape."""
        if self.kind == "static":
            return StaticBackbone(
                vocabulary_size=self.vocabulary_size,
                hidden_dim=self.hidden_dim,
                max_sequence_length=self.max_sequence_length,
                output_dim=self.output_dim,
                dtype=keras.dtype_policies.get(self.dtype_policy),
            )
        return ThinDeepBackbone(
            vocabulary_size=self.vocabulary_size,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            hidden_dim=self.hidden_dim,
            intermediate_dim=self.intermediate_dim,
            max_sequence_length=self.max_sequence_length,
            pooling=self.pooling,
            output_dim=self.output_dim,
            dropout=self.dropout,
            dtype=keras.dtype_policies.get(self.dtype_policy),
        )
