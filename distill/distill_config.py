"""DistillConfig: everything a distillation run needs, saved as JSON in its model_dir."""

from __future__ import annotations

import dataclasses

from distill.losses.additive_margin import DEFAULT_MARGIN, DEFAULT_SCALE
from distill.losses.feature_distillation import KINDS as FEATURE_KINDS
from distill.losses.logit_distillation import DEFAULT_SCALE as DEFAULT_LOGIT_SCALE
from lealla import pipeline
from lealla.configs import ConfigMixin

OBJECTIVES = ("lealla",)
VOCAB_CHOICES = ("teacher", "pruned")  # or a path to a vocab.txt / .model
# Fields that may change when a run is resumed (everything else must match).
RESUMABLE_CHANGES = ("steps", "eval_every", "log_every", "checkpoint_every", "keep_checkpoints")


@dataclasses.dataclass(frozen=True)
class DistillConfig(ConfigMixin):
    """A distillation run.

    Attributes:
      objective: "lealla" (AMS + feature + logit distillation).
      teacher: registry name, hub handle or SavedModel path.
      preprocessor: preprocessor handle (LaBSE-v2-format teachers outside the registry).
      teacher_format: module format, or None to detect it.
      teacher_seq_length: packed length for LaBSE-format teachers.
      teacher_cache: a `lealla cache` folder to read teacher embeddings from (the
        fast path), or None to run the teacher in the training step.
      student: student preset name.
      student_overrides: preset fields to replace, e.g. {"num_layers": 4}.
      vocab: "pruned" (the teacher's vocabulary pruned to the training data),
        "teacher" (unpruned), or a path to a vocab.txt / SentencePiece .model.
      init_from_teacher: start token embeddings from the teacher's (PCA to the
        student's width) when the student uses the teacher's vocabulary.
      train_data: corpus files/globs (parallel and/or monolingual).
      dev_data: parallel files/globs for periodic retrieval evaluation.
      temperature: language sampling temperature.
      shuffle_buffer: examples per language group held for shuffling.
      seed: seeds data order and initialization.
      seq_length: student input length (special tokens included).
      bucket_lengths: padded lengths of the length buckets (the last = seq_length).
      batch_size: global batch size (the in-batch negative pool).
      steps: training steps.
      learning_rate: peak AdamW learning rate.
      warmup_steps: linear warmup, then linear decay to 0 at `steps`.
      weight_decay: AdamW decoupled weight decay.
      clip_norm: global gradient-norm clipping (0 disables).
      ams_weight, ams_scale, ams_margin: additive-margin softmax term.
      feature_weight, feature_kind: feature distillation term.
      logit_weight, logit_scale: logit distillation term.
      dtype_policy: "float32", "mixed_bfloat16" or "mixed_float16".
      jit_compile: compile the loss and gradient computation with XLA (single
        replica; multi-replica runs leave it off for the cross-replica gathers).
        Off by default: on CPU it compiled LEALLA-small's 24-layer backward pass for
        minutes per bucket shape for no measured gain on a tiny student.
      checkpoint_every, keep_checkpoints: checkpoint cadence and retention.
      eval_every: steps between dev evaluations (0: only at the end).
      log_every: steps between log lines and summaries.
    """

    objective: str = "lealla"
    teacher: str = "use-multilingual"
    preprocessor: str | None = None
    teacher_format: str | None = None
    teacher_seq_length: int = 128
    teacher_cache: str | None = None
    student: str = "lealla_small"
    student_overrides: dict = dataclasses.field(default_factory=dict)
    vocab: str = "pruned"
    init_from_teacher: bool = True
    train_data: tuple[str, ...] = ()
    dev_data: tuple[str, ...] = ()
    temperature: float = pipeline.DEFAULT_TEMPERATURE
    shuffle_buffer: int = 10_000
    seed: int = 0
    seq_length: int = 64
    bucket_lengths: tuple[int, ...] = (16, 32, 64)
    batch_size: int = 128
    steps: int = 10_000
    learning_rate: float = 5e-4
    warmup_steps: int = 500
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    # Defaults measured on the demo corpus (tiny student, 1000 CPU steps, dev
    # retrieval): feature only 0.383; + AMS 0.01 0.291; + AMS 0.1 (scale 20) 0.204;
    # + AMS 0.05 + logit 0.01 0.153; + logit 1 collapsed (0.020). Small students early
    # in training learn most from the features; the small AMS term keeps a contrastive
    # signal. The LaBSE flagfiles use the paper's 1/1/1 for long accelerator runs.
    ams_weight: float = 0.01
    ams_scale: float = DEFAULT_SCALE
    ams_margin: float = DEFAULT_MARGIN
    feature_weight: float = 1.0
    feature_kind: str = "squared_error"
    logit_weight: float = 0.0
    logit_scale: float = DEFAULT_LOGIT_SCALE
    dtype_policy: str = "float32"
    jit_compile: bool = False
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    eval_every: int = 1000
    log_every: int = 100

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if not self.train_data:
            raise ValueError("train_data is empty: give corpus files (--train_data)")
        if self.feature_kind not in FEATURE_KINDS:
            raise ValueError(
                f"feature_kind must be one of {FEATURE_KINDS}, got {self.feature_kind!r}"
            )
        for name in ("batch_size", "steps", "seq_length", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2: in-batch losses need negatives")
        if not self.bucket_lengths or self.bucket_lengths[-1] != self.seq_length:
            raise ValueError(
                f"bucket_lengths must end at seq_length={self.seq_length}, "
                f"got {self.bucket_lengths}"
            )
        if min(self.ams_weight, self.feature_weight, self.logit_weight) < 0:
            raise ValueError("loss weights must be >= 0")
        if self.ams_weight + self.feature_weight + self.logit_weight == 0:
            raise ValueError("all loss weights are 0: nothing to train")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps], got {self.warmup_steps}")

    def changes_against(self, saved: DistillConfig) -> list[str]:
        """Fields that differ from a saved run's config and may not change on resume."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in RESUMABLE_CHANGES and getattr(self, f.name) != getattr(saved, f.name)
        ]
