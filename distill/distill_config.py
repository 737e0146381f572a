"""DistillConfig: everything a distillation run needs, saved as JSON in its model_dir."""

from __future__ import annotations

import dataclasses

from distill.losses.additive_margin import DEFAULT_MARGIN, DEFAULT_SCALE
from distill.losses.contrastive import DEFAULT_TEMPERATURE as DEFAULT_CONTRASTIVE_TEMPERATURE
from distill.losses.feature_distillation import KINDS as FEATURE_KINDS
from distill.losses.logit_distillation import DEFAULT_SCALE as DEFAULT_LOGIT_SCALE
from distill.losses.teacher_contrastive import DEFAULT_TEMPERATURE as DEFAULT_BANK_TEMPERATURE
from lealla import pipeline, sampling, textio
from lealla.configs import ConfigMixin
from students import presets

# lealla: AMS + feature + logit distillation; ems: XTR + contrastive, no teacher;
# ems+distill: XTR + contrastive + feature (+ logit) distillation.
OBJECTIVES = ("lealla", "ems", "ems+distill")
DISTILLING_OBJECTIVES = ("lealla", "ems+distill")
EMS_OBJECTIVES = ("ems", "ems+distill")
VOCAB_CHOICES = ("teacher", "pruned")  # or a path to a vocab.txt / .model
# Fields that may change when a run is resumed (everything else must match).
RESUMABLE_CHANGES = (
    "steps", "train_minutes", "eval_every", "log_every", "checkpoint_every", "keep_checkpoints",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class DistillConfig(ConfigMixin):
    """A training run: distillation (LEALLA), EMS from scratch, or both.

    Attributes:
      objective: "lealla" (AMS + feature + logit distillation), "ems" (XTR +
        contrastive, no teacher), or "ems+distill" (XTR + contrastive + feature and
        logit distillation; the contrastive term takes the place of AMS).
      teacher: registry name, hub handle or SavedModel path. With objective "ems"
        it is optional and only lends its vocabulary (vocab "pruned"/"teacher") and
        the PCA init of the token embeddings; None means no teacher at all.
      preprocessor: preprocessor handle (LaBSE-v2-format teachers outside the registry).
      teacher_format: module format, or None to detect it.
      teacher_seq_length: packed length for LaBSE-format teachers.
      teacher_cache: a `lealla cache` folder to read teacher embeddings from (the
        fast path), or None to run the teacher in the training step.
      student: student preset name.
      student_overrides: preset fields to replace, e.g. {"num_layers": 4}.
      vocab: "pruned" (the teacher's vocabulary pruned to the training data),
        "teacher" (unpruned), or a path to a vocab.txt / SentencePiece .model (the
        only choice without a teacher; `lealla vocab build` learns one).
      init_from_teacher: start token embeddings from the teacher's (PCA to the
        student's width) when the student uses the teacher's vocabulary.
      train_data: corpus files/globs (parallel and/or monolingual).
      on_bad_line: "error" stops at the first bad corpus line naming file:line; "skip"
        drops bad lines (counted and logged) everywhere the run reads the corpus.
      dev_data: parallel files/globs for periodic retrieval evaluation.
      temperature: language sampling temperature.
      mono_share: share of monolingual examples in the mix when the data has both
        kinds (they feed the feature and bank terms only); None weighs monolingual
        groups by temperature like pairs. 0.3 measured best on dev (RESULTS.md).
      min_share: sampling floor per language group (languages with little data).
      shuffle_buffer: examples per language group held for shuffling.
      seed: seeds data order and initialization.
      seq_length: student input length (special tokens included).
      bucket_lengths: padded lengths of the length buckets (the last = seq_length).
      batch_size: global batch size (the in-batch negative pool).
      steps: training steps (with train_minutes: an upper bound).
      train_minutes: a time budget for the training loop (0: none, run `steps`). The
        learning rate then decays on the fraction of the budget spent, the run stops
        in time for its final evaluation, and a resumed run continues the same budget.
      learning_rate: peak AdamW learning rate.
      warmup_steps: linear warmup, then linear decay to 0 at `steps`.
      weight_decay: AdamW decoupled weight decay.
      clip_norm: global gradient-norm clipping (0 disables).
      ams_weight, ams_scale, ams_margin: additive-margin softmax term.
      feature_weight, feature_kind: feature distillation term.
      logit_weight, logit_scale: logit distillation term.
      cross_weight: cross-lingual feature targets: each side of a pair is also pulled
        to the teacher's embedding of the other side (Reimers & Gurevych 2020).
      bank_weight, bank_size, bank_temperature: contrastive distillation against the
        teacher embeddings of the global batch plus, for a run from a teacher cache, a
        bank of `bank_size` cached teacher embeddings of other sentences.
      xtr_weight: XTR term (EMS objectives).
      xtr_sampled: 0 for XTR's full vocabulary softmax, else a sampled softmax over
        the batch's target tokens plus this many random ids (large vocabularies).
      contrastive_weight, contrastive_temperature: the EMS in-batch InfoNCE term.
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
    teacher: str | None = "use-multilingual"
    preprocessor: str | None = None
    teacher_format: str | None = None
    teacher_seq_length: int = 128
    teacher_cache: str | None = None
    student: str = "lealla_small"
    student_overrides: dict = dataclasses.field(default_factory=dict)
    vocab: str = "pruned"
    init_from_teacher: bool = True
    train_data: tuple[str, ...] = ()
    on_bad_line: str = "error"
    dev_data: tuple[str, ...] = ()
    temperature: float = pipeline.DEFAULT_TEMPERATURE
    mono_share: float | None = 0.3
    min_share: float = 0.0
    shuffle_buffer: int = 10_000
    seed: int = 0
    seq_length: int = 64
    bucket_lengths: tuple[int, ...] = (16, 32, 64)
    batch_size: int = 128
    steps: int = 10_000
    train_minutes: float = 0.0
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
    # Measured (benchmarks/RESULTS.md, "Quality levers": news-parallel, demo_small, 800
    # steps, chosen on dev = PUD dev retrieval / held-out ud-mono kNN agreement): baseline
    # 0.905 / 0.152; contrastive distillation against a bank of cached teacher embeddings
    # 0.965 / 0.208; cross-lingual targets 0.925 / 0.160; ud-mono or augmented text at a
    # 0.3 share lowered both at equal steps, so they stay opt-in.
    cross_weight: float = 1.0
    bank_weight: float = 1.0
    bank_size: int = 16384
    bank_temperature: float = DEFAULT_BANK_TEMPERATURE
    xtr_weight: float = 1.0
    xtr_sampled: int = 0
    contrastive_weight: float = 1.0
    contrastive_temperature: float = DEFAULT_CONTRASTIVE_TEMPERATURE
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
        if self.student not in presets.preset_names():
            raise ValueError(
                f"unknown student preset {self.student!r}; expected one of "
                f"{list(presets.preset_names())}"
            )
        textio.check_on_bad_line(self.on_bad_line)
        sampling.check_shares(self.mono_share, self.min_share)
        if self.train_minutes < 0:
            raise ValueError(f"train_minutes must be >= 0, got {self.train_minutes}")
        self._check_objective()
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps], got {self.warmup_steps}")

    @property
    def uses_teacher_embeddings(self) -> bool:
        """Whether the objective has distillation terms (teacher cache or teacher in the loop)."""
        return self.objective in DISTILLING_OBJECTIVES

    def _check_objective(self) -> None:
        weights = {
            "ams_weight": self.ams_weight, "feature_weight": self.feature_weight,
            "logit_weight": self.logit_weight, "xtr_weight": self.xtr_weight,
            "contrastive_weight": self.contrastive_weight, "cross_weight": self.cross_weight,
            "bank_weight": self.bank_weight,
        }  # fmt: skip
        negative = {k: v for k, v in weights.items() if v < 0}
        if negative:
            raise ValueError(f"loss weights must be >= 0, got {negative}")
        used = {
            "lealla": (
                "ams_weight",
                "feature_weight",
                "logit_weight",
                "cross_weight",
                "bank_weight",
            ),
            "ems": ("xtr_weight", "contrastive_weight"),
            "ems+distill": (
                "xtr_weight",
                "contrastive_weight",
                "feature_weight",
                "logit_weight",
                "cross_weight",
                "bank_weight",
            ),
        }[self.objective]
        if not any(weights[k] for k in used):
            raise ValueError(
                f"all loss weights of objective {self.objective!r} ({', '.join(used)}) are 0: "
                f"nothing to train"
            )
        if self.bank_weight and (self.bank_temperature <= 0 or self.bank_size < 0):
            raise ValueError(
                f"bank_temperature must be > 0 and bank_size >= 0, got "
                f"{self.bank_temperature}, {self.bank_size}"
            )
        if self.contrastive_temperature <= 0:
            raise ValueError(
                f"contrastive_temperature must be > 0, got {self.contrastive_temperature}"
            )
        if self.xtr_sampled < 0:
            raise ValueError(f"xtr_sampled must be >= 0 (0: full softmax), got {self.xtr_sampled}")
        if self.xtr_sampled and self.jit_compile:
            raise ValueError(
                "xtr_sampled needs jit_compile off: the sampled softmax's candidate set "
                "(tf.unique) has a data-dependent shape XLA cannot compile"
            )
        if self.objective in DISTILLING_OBJECTIVES and not self.teacher:
            raise ValueError(
                f"objective {self.objective!r} distils from a teacher: give --teacher "
                f"(or --objective=ems to train without one)"
            )
        if self.objective == "ems":
            if self.teacher_cache:
                raise ValueError(
                    "objective 'ems' has no distillation term, so --teacher_cache is unused; "
                    "drop it or use --objective=ems+distill"
                )
            if self.vocab in VOCAB_CHOICES and not self.teacher:
                raise ValueError(
                    f"objective 'ems' without a teacher needs a vocabulary: --vocab=PATH to a "
                    f"wordpiece vocab.txt (e.g. from `lealla vocab build`) or a SentencePiece "
                    f".model, or --teacher=NAME to borrow that teacher's vocabulary "
                    f"(--vocab={self.vocab} is the teacher's)"
                )

    def changes_against(self, saved: DistillConfig) -> list[str]:
        """Fields that differ from a saved run's config and may not change on resume."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in RESUMABLE_CHANGES and getattr(self, f.name) != getattr(saved, f.name)
        ]
