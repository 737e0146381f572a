"""DistillConfig: everything a distillation run needs, saved as JSON in its model_dir."""

from __future__ import annotations

import dataclasses
import shlex

from lealla.models.distill import objectives
from lealla.models.distill.losses.additive_margin import DEFAULT_MARGIN, DEFAULT_SCALE
from lealla.models.distill.losses.contrastive import (
    DEFAULT_TEMPERATURE as DEFAULT_CONTRASTIVE_TEMPERATURE,
)
from lealla.models.distill.losses.feature_distillation import KINDS as FEATURE_KINDS
from lealla.models.distill.losses.logit_distillation import DEFAULT_SCALE as DEFAULT_LOGIT_SCALE
from lealla.models.distill.losses.teacher_contrastive import (
    DEFAULT_TEMPERATURE as DEFAULT_BANK_TEMPERATURE,
)
from lealla.models.students import presets
from lealla.models.students.student_config import DTYPE_POLICIES

from lealla.config import config_flags
from lealla.config.config_flags import setting
from lealla.config.json_config import ConfigMixin
from lealla.data import pipeline, sampling, textio

# lealla: AMS + feature + logit distillation; ems: XTR + contrastive, no teacher;
# ems+distill: XTR + contrastive + feature (+ logit) distillation (distill/objectives.py).
OBJECTIVES = objectives.names()
VOCAB_CHOICES = ("teacher", "pruned")  # or a path to a vocab.txt / .model
TOKEN_INITS = ("table", "pieces")
# Fields that may change when a run is resumed (everything else must match).
RESUMABLE_CHANGES = (
    "steps", "train_minutes", "eval_every", "log_every", "checkpoint_every", "keep_checkpoints",
    "token_init",  # read at the first start only
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class DistillConfig(ConfigMixin):
    """A training run: distillation (LEALLA), EMS from scratch, or both.

    Fields declared with `setting(default, help)` are also `lealla distill` flags (generated
    by `lealla.config.config_flags`): a new setting is one field. Attributes:
      objective: "lealla" (AMS + feature + logit distillation), "ems" (XTR +
        contrastive, no teacher), or "ems+distill" (XTR + contrastive + feature and
        logit distillation; the contrastive term takes the place of AMS).
      teacher: registry name, hub handle or SavedModel path. With objective "ems"
        it is optional and only lends its vocabulary (vocab "pruned"/"teacher") and
        the PCA init of the token embeddings; None means no teacher at all.
      preprocessor: preprocessor handle (LaBSE-v2-format teachers outside the registry).
      teacher_format: module format, or None to detect it.
      teacher_seq_length: packed length for LaBSE-format teachers.
      teacher_cache: `lealla cache` folders to read teacher embeddings from (the
        fast path; together their corpora are train_data), or () to run the teacher
        in the training step.
      student: student preset name.
      student_overrides: preset fields to replace, e.g. {"num_layers": 4}.
      vocab: "pruned" (the teacher's vocabulary pruned to the training data),
        "teacher" (unpruned), or a path to a vocab.txt / SentencePiece .model (the
        only choice without a teacher; `lealla vocab build` learns one).
      init_from: a trained run's model_dir whose student (shape, tokenizer, best
        checkpoint) and training heads this run starts from (its --student is checked
        against it; the init from the teacher is skipped).
      init_from_teacher: start token embeddings from the teacher's (PCA to the
        student's width).
      token_init: "table" (a transformer student's token embeddings from the
        teacher's token table, when the student uses the teacher's vocabulary) or
        "pieces" (from the teacher's embedding of each vocabulary piece alone, any
        vocabulary; static students always start so).
      train_data: corpus files/globs (parallel and/or monolingual).
      on_bad_line: "error" stops at the first bad corpus line naming file:line; "skip"
        drops bad lines (counted and logged) everywhere the run reads the corpus.
      dev_data: parallel files/globs for periodic retrieval evaluation.
      dev_mono_data: files/globs of any sentences for the teacher-agreement dev signal
        (kNN@10 agreement, `lealla.evaluation.agreement`); with it the best checkpoint
        maximizes dev accuracy + agreement.
      temperature: language sampling temperature.
      mono_share: share of monolingual rows in the mix when the data has both
        kinds (they feed the feature and bank terms only); None weighs monolingual
        groups by temperature like pairs (benchmarks/RESULTS.md#ablations-and-decisions).
      mono_pairs: each monolingual row holds two sentences of its language, one per
        side (`pipeline.pair_monolingual_rows`), so the student's target-side work on
        those rows is not padding; mono_share then counts rows.
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
      lazy_embeddings: the token table's AdamW update touches only the rows of the
        batch (`lealla.models.distill.row_sparse_adamw`); False: Keras's AdamW on the whole table.
      ams_weight, ams_scale, ams_margin: additive-margin softmax term.
      feature_weight, feature_kind: feature distillation term.
      logit_weight, logit_scale: logit distillation term.
      cross_weight: cross-lingual feature targets: each side of a pair is also pulled
        to the teacher's embedding of the other side (Reimers & Gurevych 2020).
      bank_weight, bank_size, bank_temperature: contrastive distillation against the
        teacher embeddings of the global batch plus, for a run from a teacher cache, a
        bank of `bank_size` cached teacher embeddings of other sentences.
      matryoshka_dims: embedding prefixes trained to be embeddings on their own
        (e.g. (32, 64, 96)): every LEALLA term is applied again to the renormalized
        first m dimensions, with a projection head of its own per prefix for the
        feature, cross-lingual and bank terms (Kusupati et al. 2022). () = off.
      matryoshka_weight: weight of each prefix's terms relative to the full width.
      xtr_weight: XTR term (EMS objectives).
      xtr_sampled: 0 for XTR's full vocabulary softmax, else a sampled softmax over
        the batch's target tokens plus this many random ids (large vocabularies).
      contrastive_weight, contrastive_temperature: the EMS in-batch InfoNCE term.
      dtype_policy: "float32", "mixed_bfloat16" or "mixed_float16".
      jit_compile: compile the loss and gradient computation with XLA (single
        replica; multi-replica runs leave it off for the cross-replica gathers).
        Off by default: on CPU it compiles every bucket shape's backward pass first
        and trains no faster (benchmarks/RESULTS.md#ablations-and-decisions).
      checkpoint_every, keep_checkpoints: checkpoint cadence and retention.
      eval_every: steps between dev evaluations (0: only at the end).
      log_every: steps between log lines and summaries.

    Example:
      >>> import lealla
      >>> config = lealla.DistillConfig(
      ...     train_data=("data/*.tsv",), dev_data=("data/dev.de-en.tsv",),
      ...     teacher_cache=("cache/labse",), student="lealla_small", train_minutes=30)
      >>> config.objective, config.teacher_cache
      ('lealla', ('cache/labse',))
    """

    objective: str = setting(
        "lealla",
        "lealla: distil a teacher (AMS + feature + logit). ems: XTR + contrastive from scratch, "
        "no teacher (give --vocab=PATH, or --teacher only to borrow its vocabulary with "
        "--vocab=pruned|teacher). ems+distill: XTR + contrastive + feature/logit distillation "
        "(teacher or --teacher_cache as for lealla). A resumed run keeps its objective.",
        choices=OBJECTIVES,
    )
    # The teacher flags are shared with `lealla cache` (lealla/commands/flags.py).
    teacher: str | None = "use-multilingual"
    preprocessor: str | None = None
    teacher_format: str | None = None
    teacher_seq_length: int = 128
    teacher_cache: tuple[str, ...] = setting(
        (),
        "`lealla cache` folders (fast path); several are read as one corpus, so text added "
        "to --train_data needs a cache of only that text. Else the teacher in the loop.",
    )
    student: str = setting(
        "lealla_small",
        "Student preset (lealla-small, demo-small, ems-small, ...); with --objective=ems or "
        f"ems+distill and no --student: {objectives.EMS.default_student}.",
    )
    # A flag of its own (key=value items): distill/train.py.
    student_overrides: dict = dataclasses.field(default_factory=dict)
    vocab: str = setting(
        "pruned",
        "pruned | teacher (the teacher's, pruned to the data or whole) | path to a wordpiece "
        "vocab.txt (e.g. from `lealla vocab build`) or a SentencePiece .model (no teacher "
        "needed).",
    )
    init_from: str | None = setting(
        None,
        "A trained run's --model_dir to start from: its student (shape, tokenizer, best "
        "weights; of --student_overrides only dropout applies, --vocab not at all) and "
        "training heads, then trained on this run's data, e.g. a few minutes on text of "
        "the register or domain you will embed. First start only.",
    )
    init_from_teacher: bool = setting(True, "PCA-init token embeddings.")
    # pieces: the student starts with the teacher's cross-lingual meaning of each piece,
    # not only its input geometry (benchmarks/RESULTS.md#ablations-and-decisions).
    token_init: str = setting(
        "pieces",
        "With --init_from_teacher, what a transformer student's token embeddings start "
        "from: table (the teacher's token embedding table, PCA; needs the teacher's "
        "vocabulary) or pieces (each vocabulary piece embedded alone by the teacher, PCA: "
        "the static tier's start; any vocabulary).",
        choices=TOKEN_INITS,
    )
    train_data: tuple[str, ...] = setting(
        (),
        "Training corpus files/globs (or demo:train). FILE@SHARE draws that share of the "
        "training examples from FILE (or a glob's files together) whatever its size, e.g. "
        "chat.ko.txt@0.05 for 300 sentences in the register you will embed; the other "
        "files share the rest by --temperature, --mono_share and --min_share.",
    )
    on_bad_line: str = setting(
        "error",
        "error: stop at the first bad corpus line (invalid UTF-8, empty, wrong field count, "
        "control character) naming file and line; skip: drop bad lines, counted in the log.",
        choices=textio.ON_BAD_LINE_CHOICES,
    )
    dev_data: tuple[str, ...] = setting((), "Parallel dev files/globs (or demo:dev).")
    # A saturated in-domain dev set picks checkpoints by noise; agreement on text of the
    # target domains keeps telling them apart (benchmarks/RESULTS.md#ablations-and-decisions).
    dev_mono_data: tuple[str, ...] = setting(
        (),
        "Dev text of the domains the student is for (any corpus files, e.g. "
        "monolingual chat.de.txt; needs a teacher): at each evaluation, the kNN@10 "
        "agreement of student and teacher on it; the best checkpoint then maximizes dev "
        "retrieval accuracy + agreement.",
    )
    temperature: float = setting(
        pipeline.DEFAULT_TEMPERATURE, "Language sampling temperature (>= 1).", at_least=1
    )
    # 0.5: chosen on dev at the 30-minute budget (benchmarks/RESULTS.md#ablations-and-decisions).
    mono_share: float | None = setting(
        0.5,
        "Share of monolingual rows in the mix when the data has monolingual files too "
        "(they feed the feature and bank terms only; with --mono_pairs a row holds two "
        "sentences).",
        at_least=0,
        below=1,
    )
    mono_pairs: bool = setting(
        True,
        "Each monolingual row holds two sentences of its language, one per side, so no row "
        "has an empty target side (the student encodes both sides of every row); "
        "--mono_share then counts rows.",
    )
    min_share: float = setting(
        0.0, "Sampling floor per language group (little-data languages).", at_least=0, below=1
    )
    shuffle_buffer: int = setting(10_000, "Per-language shuffle buffer.", at_least=1)
    seed: int = setting(0, "Seed of data order and initialization.", at_least=0)
    # [CLS], one token, [SEP].
    seq_length: int = setting(64, "Student input length.", at_least=3)
    bucket_lengths: tuple[int, ...] = setting(
        (16, 24, 32, 40, 48, 56, 64),
        "Length buckets: each batch is padded to the shortest that holds its longest pair.",
        at_least=3,
    )
    # In-batch losses need a negative.
    batch_size: int = setting(128, "Global batch size.", at_least=2)
    steps: int = setting(
        10_000, "Training steps (with --train_minutes: a limit only if given).", at_least=1
    )
    train_minutes: float = setting(
        0.0,
        "Time budget of the training loop in minutes (0: run --steps). The learning rate "
        "decays on the fraction of the budget spent; the run ends on time with its final "
        "evaluation; rerunning resumes the same budget.",
        at_least=0,
    )
    learning_rate: float = setting(5e-4, "Peak AdamW learning rate.", above=0)
    warmup_steps: int = setting(500, "Linear warmup steps.", at_least=0)
    weight_decay: float = setting(0.01, "AdamW weight decay.", at_least=0)
    clip_norm: float = setting(1.0, "Global gradient-norm clipping (0: off).", at_least=0)
    lazy_embeddings: bool = setting(
        True,
        "AdamW updates only the token-embedding rows a batch uses (lazy Adam): the other "
        "rows keep their weights and moments, and a step skips four passes over the "
        "table (benchmarks/RESULTS.md#ablations-and-decisions).",
    )
    # Small students early in training learn most from the features; the small AMS term
    # keeps a contrastive signal (benchmarks/RESULTS.md#ablations-and-decisions). The
    # LaBSE flagfiles use the paper's 1/1/1 for long accelerator runs.
    ams_weight: float = setting(0.01, "Additive-margin softmax weight.", at_least=0)
    ams_scale: float = setting(DEFAULT_SCALE, "AMS logit scale (LaBSE: 100).", above=0)
    # Cosines are at most 1: a margin of 1 or more leaves no pair ahead.
    ams_margin: float = setting(DEFAULT_MARGIN, "AMS margin (LaBSE: 0.3).", at_least=0, below=1)
    feature_weight: float = setting(1.0, "Feature distillation weight.", at_least=0)
    feature_kind: str = setting("squared_error", "Feature loss.", choices=FEATURE_KINDS)
    logit_weight: float = setting(0.0, "Logit distillation weight.", at_least=0)
    logit_scale: float = setting(DEFAULT_LOGIT_SCALE, "Logit distillation scale.", above=0)
    # The bank, its size and the cross-lingual targets were each chosen on dev
    # (benchmarks/RESULTS.md#ablations-and-decisions).
    cross_weight: float = setting(
        1.0,
        "Cross-lingual feature targets: each side of a pair also regressed onto the teacher's "
        "embedding of the other side.",
        at_least=0,
    )
    bank_weight: float = setting(
        1.0,
        "Contrastive distillation: find the teacher's embedding among the batch's and (with "
        "--teacher_cache) a bank of cached ones.",
        at_least=0,
    )
    bank_size: int = setting(16384, "Cached teacher embeddings in the bank.", at_least=0)
    bank_temperature: float = setting(
        DEFAULT_BANK_TEMPERATURE, "Contrastive distillation temperature.", above=0
    )
    matryoshka_dims: tuple[int, ...] = setting(
        (),
        "Embedding prefixes trained to work alone, e.g. 32,64,96 (export --dims=64 then ships "
        "a 64-dimensional model).",
        at_least=1,
    )
    # A small weight costs the full width least; the PCA rotation of `export --dims`
    # needs no training at all (benchmarks/RESULTS.md#ablations-and-decisions).
    matryoshka_weight: float = setting(
        0.1, "Weight of each prefix's loss terms relative to the full width's.", above=0
    )
    xtr_weight: float = setting(1.0, "XTR weight (EMS objectives).", at_least=0)
    xtr_sampled: int = setting(
        0,
        "XTR softmax: 0 = full vocabulary; N = the batch's target tokens + N random ids "
        "(sampled softmax for large vocabularies).",
        at_least=0,
    )
    contrastive_weight: float = setting(1.0, "InfoNCE weight (EMS objectives).", at_least=0)
    contrastive_temperature: float = setting(
        DEFAULT_CONTRASTIVE_TEMPERATURE, "InfoNCE temperature.", above=0
    )
    # For accelerators: on CPU neither bfloat16 nor XLA trains a small student faster
    # (benchmarks/RESULTS.md#ablations-and-decisions).
    dtype_policy: str = setting("float32", "Mixed precision policy.", choices=DTYPE_POLICIES)
    jit_compile: bool = setting(False, "XLA-compile the loss/gradient step.")
    checkpoint_every: int = setting(1000, "Steps between checkpoints.", at_least=1)
    keep_checkpoints: int = setting(3, "Checkpoints kept.", at_least=1)
    eval_every: int = setting(1000, "Steps between dev evaluations.", at_least=0)
    log_every: int = setting(100, "Steps between log lines/summaries.", at_least=1)

    def __post_init__(self):
        if isinstance(self.teacher_cache, str):
            raise ValueError(
                f"teacher_cache must be a tuple of folders, got the string {self.teacher_cache!r}"
            )
        objectives.get(self.objective)  # a registered objective
        if not self.train_data:
            raise ValueError("train_data is empty: give corpus files (--train_data)")
        if self.token_init not in TOKEN_INITS:
            raise ValueError(f"token_init must be one of {TOKEN_INITS}, got {self.token_init!r}")
        if self.feature_kind not in FEATURE_KINDS:
            raise ValueError(
                f"feature_kind must be one of {FEATURE_KINDS}, got {self.feature_kind!r}"
            )
        for name in ("batch_size", "steps", "seq_length", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2: in-batch losses need negatives")
        if self.seq_length < 3:
            raise ValueError(
                f"seq_length must be >= 3 ([CLS], a token, [SEP]), got {self.seq_length}"
            )
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
        if self.dev_mono_data and not self.teacher:
            raise ValueError("dev_mono_data needs a teacher (--teacher) to agree with")
        if self.train_minutes < 0:
            raise ValueError(f"train_minutes must be >= 0, got {self.train_minutes}")
        self._check_objective()
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps], got {self.warmup_steps}")
        # Last: the dedicated checks above give the more specific messages.
        config_flags.check_bounds(self)  # also for configs made in code or read from JSON

    @property
    def uses_teacher_embeddings(self) -> bool:
        """Whether the objective has distillation terms (teacher cache or teacher in the loop)."""
        return objectives.get(self.objective).uses_teacher

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
        objective = objectives.get(self.objective)
        used = objective.weights
        if not any(getattr(self, k) for k in used):
            raise ValueError(
                f"all loss weights of objective {self.objective!r} ({', '.join(used)}) are 0: "
                f"nothing to train"
            )
        if self.bank_weight and (self.bank_temperature <= 0 or self.bank_size < 0):
            raise ValueError(
                f"bank_temperature must be > 0 and bank_size >= 0, got "
                f"{self.bank_temperature}, {self.bank_size}"
            )
        self._check_matryoshka()
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
        if objective.uses_teacher and not self.teacher:
            raise ValueError(
                f"objective {self.objective!r} distils from a teacher: give --teacher "
                f"(or --objective=ems to train without one)"
            )
        if not objective.uses_teacher:
            if self.teacher_cache:
                raise ValueError(
                    f"objective {self.objective!r} has no distillation term, so --teacher_cache "
                    f"is unused; drop it or use --objective=ems+distill"
                )
            if self.vocab in VOCAB_CHOICES and not self.teacher:
                raise ValueError(
                    f"objective {self.objective!r} without a teacher needs a vocabulary: "
                    f"--vocab=PATH to a "
                    f"wordpiece vocab.txt (e.g. from `lealla vocab build`) or a SentencePiece "
                    f".model, or --teacher=NAME to borrow that teacher's vocabulary "
                    f"(--vocab={self.vocab} is the teacher's)"
                )

    def _check_matryoshka(self) -> None:
        dims = self.matryoshka_dims
        if not dims:
            return
        if self.objective != "lealla":
            raise ValueError(
                f"matryoshka_dims applies to objective 'lealla', not {self.objective!r}"
            )
        if any(m < 1 for m in dims) or list(dims) != sorted(set(dims)):
            raise ValueError(
                f"matryoshka_dims must be increasing positive widths, got {list(dims)}"
            )
        if self.matryoshka_weight <= 0:
            raise ValueError(f"matryoshka_weight must be > 0, got {self.matryoshka_weight}")

    def check_matryoshka_width(self, width: int) -> None:
        """Every prefix must be narrower than the student's embedding."""
        too_wide = [m for m in self.matryoshka_dims if m >= width]
        if too_wide:
            raise ValueError(
                f"matryoshka_dims {too_wide} must be below the student's embedding width "
                f"{width} (the full width is always trained)"
            )

    def command_line(self, model_dir: str) -> str:
        """The `lealla distill` command that trains this config: every setting that differs
        from its default, as the flag that sets it (the run record export and the model
        card quote)."""
        args = ["lealla", "distill", f"--model_dir={model_dir}"]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "student_overrides":
                if value:
                    pairs = ",".join(f"{k}={v}" for k, v in value.items())
                    args.append(f"--student_overrides={pairs}")
                continue
            # Without a --teacher, ems trains with none: a teacher it borrows is always named.
            named = f.name == "teacher" and self.objective == "ems"
            if value is None or (value == f.default and not named):
                continue
            if isinstance(value, bool):
                args.append(f"--{f.name}" if value else f"--no{f.name}")
            elif isinstance(value, tuple):
                args.append(f"--{f.name}=" + ",".join(map(str, value)))
            else:
                args.append(f"--{f.name}={value}")
        return shlex.join(args)

    def changes_against(self, saved: DistillConfig) -> list[str]:
        """Fields that differ from a saved run's config and may not change on resume."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in RESUMABLE_CHANGES and getattr(self, f.name) != getattr(saved, f.name)
        ]
