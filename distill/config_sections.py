"""The sections of a `DistillConfig` (data, teacher, student, optimizer, trainer,
runtime; the objective section is built from the objective registry): each a frozen
dataclass whose `setting(...)` fields are documented once, in their help (also the
`lealla distill` flag's), and which checks itself when made.

A setting's flag is `--<section>.<field>` (`--trainer.log_every`), except the few typed
every day, which keep a short name (`--steps`, `--train_data`, `--teacher`, ...).
"""

from __future__ import annotations

import dataclasses

from lealla.config.config_flags import Section, setting
from lealla.data import pipeline, sampling
from lealla.files import textio
from lealla.models.students import presets
from lealla.models.students.student_config import DTYPE_POLICIES
from lealla.models.teachers.registry import FORMATS as TEACHER_FORMATS

VOCAB_CHOICES = ("teacher", "pruned")  # or a path to a vocab.txt / .model
TOKEN_INITS = ("table", "pieces")


@dataclasses.dataclass(frozen=True)
class DataSection(Section):
    """What the run reads and how it is mixed, packed and batched."""

    train_data: tuple[str, ...] = setting(
        (),
        "Training corpus files/globs (or demo:train). FILE@SHARE draws that share of the "
        "training examples from FILE (or a glob's files together) whatever its size, e.g. "
        "chat.ko.txt@0.05 for 300 sentences in the register you will embed; the other "
        "files share the rest by --data.temperature, --data.mono_share and "
        "--data.min_share.",
        flag="train_data",
    )
    dev_data: tuple[str, ...] = setting(
        (), "Parallel dev files/globs for periodic retrieval evaluation (or demo:dev).",
        flag="dev_data",
    )  # fmt: skip
    # A saturated in-domain dev set picks checkpoints by noise; agreement on text of the
    # target domains keeps telling them apart (benchmarks/RESULTS.md#ablations-and-decisions).
    dev_mono_data: tuple[str, ...] = setting(
        (),
        "Dev text of the domains the student is for (any corpus files, e.g. "
        "monolingual chat.de.txt; needs a teacher): at each evaluation, the kNN@10 "
        "agreement of student and teacher on it; the best checkpoint then maximizes dev "
        "retrieval accuracy + agreement.",
    )
    on_bad_line: str = setting(
        "error",
        "error: stop at the first bad corpus line (invalid UTF-8, empty, wrong field count, "
        "control character) naming file and line; skip: drop bad lines, counted in the log "
        "(everywhere the run reads the corpus).",
        choices=textio.ON_BAD_LINE_CHOICES,
    )
    temperature: float = setting(
        pipeline.DEFAULT_TEMPERATURE, "Language sampling temperature (>= 1).", at_least=1
    )
    # 0.5: chosen on dev at the 30-minute budget (benchmarks/RESULTS.md#ablations-and-decisions).
    mono_share: float | None = setting(
        0.5,
        "Share of monolingual rows in the mix when the data has monolingual files too "
        "(they feed the feature and bank terms only; with --data.mono_pairs a row holds two "
        "sentences).",
        at_least=0,
        below=1,
    )
    mono_pairs: bool = setting(
        True,
        "Each monolingual row holds two sentences of its language, one per side, so no row "
        "has an empty target side (the student encodes both sides of every row); "
        "--data.mono_share then counts rows.",
    )
    min_share: float = setting(
        0.0, "Sampling floor per language group (little-data languages).", at_least=0, below=1
    )
    shuffle_buffer: int = setting(10_000, "Per-language shuffle buffer.", at_least=1)
    # [CLS], one token, [SEP].
    seq_length: int = setting(64, "Student input length (special tokens included).", at_least=3)
    bucket_lengths: tuple[int, ...] = setting(
        (16, 24, 32, 40, 48, 56, 64),
        "Length buckets: each batch is padded to the shortest that holds its longest pair "
        "(the last must be --data.seq_length).",
        at_least=3,
    )
    # In-batch losses need a negative.
    batch_size: int = setting(128, "Global batch size (the in-batch negative pool).", at_least=2)

    def check(self) -> None:
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
        textio.check_on_bad_line(self.on_bad_line)
        sampling.check_shares(self.mono_share, self.min_share)


@dataclasses.dataclass(frozen=True)
class TeacherSection(Section):
    """The teacher: where its embeddings come from."""

    # EMS trains without one unless it is given: it then only lends its vocabulary
    # (--student.vocab=pruned|teacher) and the start of the token embeddings.
    name: str | None = setting(
        "use-multilingual",
        "A registry name (labse, labse-v1, lealla-small|base|large, use-multilingual), a TF "
        "Hub/Kaggle handle, or a local SavedModel folder. With --objective=ems optional: it "
        "only lends its vocabulary and the token embeddings' start.",
        flag="teacher",
    )
    preprocessor: str | None = setting(
        None, "Preprocessor handle/path (LaBSE-v2-format teachers outside the registry)."
    )
    format: str | None = setting(
        None, "Teacher module format; detected when omitted.", choices=TEACHER_FORMATS
    )
    seq_length: int = setting(128, "Packed length for LaBSE-format teachers.", at_least=3)
    cache: tuple[str, ...] = setting(
        (),
        "`lealla cache` folders (fast path); several are read as one corpus, so text added "
        "to --train_data needs a cache of only that text. Else the teacher in the loop.",
        flag="teacher_cache",
    )

    def check(self) -> None:
        if isinstance(self.cache, str):
            raise ValueError(
                f"teacher_cache must be a tuple of folders, got the string {self.cache!r}"
            )


@dataclasses.dataclass(frozen=True)
class StudentSection(Section):
    """The student: its preset, vocabulary and where its weights start."""

    name: str = setting(
        "lealla_small",
        "Student preset (lealla-small, demo-small, ems-small, static-128, ...); with "
        "--objective=ems or ems+distill and no --student: that objective's default "
        "(ems_small).",
        flag="student",
    )
    # Preset fields to replace, e.g. {"num_layers": 4}: a flag of its own (key=value
    # items, --student.overrides) in lealla/cli/distill_main.py.
    overrides: dict = dataclasses.field(default_factory=dict)
    vocab: str = setting(
        "pruned",
        "pruned | teacher (the teacher's, pruned to the data or whole) | path to a wordpiece "
        "vocab.txt (e.g. from `lealla vocab build`) or a SentencePiece .model (no teacher "
        "needed).",
    )
    init_from: str | None = setting(
        None,
        "A trained run's --model_dir to start from: its student (shape, tokenizer, best "
        "weights; of --student.overrides only dropout applies, --student.vocab not at all) "
        "and training heads, then trained on this run's data, e.g. a few minutes on text of "
        "the register or domain you will embed. First start only.",
    )
    init_from_teacher: bool = setting(
        True, "Start the token embeddings from the teacher's (PCA to the student's width)."
    )
    # pieces: the student starts with the teacher's cross-lingual meaning of each piece,
    # not only its input geometry (benchmarks/RESULTS.md#ablations-and-decisions).
    token_init: str = setting(
        "pieces",
        "With --student.init_from_teacher, what a transformer student's token embeddings "
        "start from: table (the teacher's token embedding table, PCA; needs the teacher's "
        "vocabulary) or pieces (each vocabulary piece embedded alone by the teacher, PCA: "
        "the static tier's start; any vocabulary). Read at the first start only.",
        choices=TOKEN_INITS,
    )

    def check(self) -> None:
        if self.name not in presets.preset_names():
            raise ValueError(
                f"unknown student preset {self.name!r}; expected one of "
                f"{list(presets.preset_names())}"
            )
        if self.token_init not in TOKEN_INITS:
            raise ValueError(f"token_init must be one of {TOKEN_INITS}, got {self.token_init!r}")


@dataclasses.dataclass(frozen=True)
class OptimizerSection(Section):
    """AdamW and its learning-rate schedule."""

    learning_rate: float = setting(5e-4, "Peak AdamW learning rate.", above=0)
    warmup_steps: int = setting(
        500, "Linear warmup steps, then linear decay to 0 (at --steps, or at the end of the "
        "--train_minutes budget).", at_least=0,
    )  # fmt: skip
    weight_decay: float = setting(0.01, "AdamW decoupled weight decay.", at_least=0)
    clip_norm: float = setting(1.0, "Global gradient-norm clipping (0: off).", at_least=0)
    lazy_embeddings: bool = setting(
        True,
        "AdamW updates only the token-embedding rows a batch uses (lazy Adam): the other "
        "rows keep their weights and moments, and a step skips four passes over the "
        "table (benchmarks/RESULTS.md#ablations-and-decisions).",
    )


@dataclasses.dataclass(frozen=True)
class TrainerSection(Section):
    """How long the loop runs, and what it writes and evaluates on the way."""

    steps: int = setting(
        10_000, "Training steps (with --train_minutes: a limit only if given).", at_least=1,
        flag="steps",
    )  # fmt: skip
    train_minutes: float = setting(
        0.0,
        "Time budget of the training loop in minutes (0: run --steps). The learning rate "
        "decays on the fraction of the budget spent; the run ends on time with its final "
        "evaluation; rerunning resumes the same budget.",
        at_least=0,
        flag="train_minutes",
    )
    seed: int = setting(0, "Seed of data order and initialization.", at_least=0)
    checkpoint_every: int = setting(1000, "Steps between checkpoints.", at_least=1)
    keep_checkpoints: int = setting(3, "Checkpoints kept.", at_least=1)
    eval_every: int = setting(
        1000, "Steps between dev evaluations (0: only at the end).", at_least=0
    )
    log_every: int = setting(100, "Steps between log lines and summaries.", at_least=1)

    def check(self) -> None:
        if self.train_minutes < 0:
            raise ValueError(f"train_minutes must be >= 0, got {self.train_minutes}")


@dataclasses.dataclass(frozen=True)
class RuntimeSection(Section):
    """Numerics and compilation (the machine: `--tpu`, `--cpu_replicas`)."""

    # For accelerators: on CPU neither bfloat16 nor XLA trains a small student faster
    # (benchmarks/RESULTS.md#ablations-and-decisions).
    dtype_policy: str = setting("float32", "Mixed precision policy.", choices=DTYPE_POLICIES)
    jit_compile: bool = setting(
        False,
        "XLA-compile the loss and gradient computation (single replica; multi-replica "
        "runs leave it off for the cross-replica gathers).",
    )
