"""The width of an export (--dims): the trained Matryoshka prefixes, the PCA rotation
that lets any width be exported, and the dev accuracy at each width."""

from __future__ import annotations

import numpy as np

from lealla.data import corpus
from lealla.embeddings import truncation as truncation_lib
from lealla.evaluation.retrieval import pair_accuracies_by_width
from lealla.models.export import restore
from lealla.models.export.export_config import ExportConfig
from lealla.models.export.sample_text import representative_sentences
from lealla.models.students.sentence_encoder import SentenceEncoder
from lealla.models.students.truncated import TruncatedBackbone
from lealla.ui import plots

ROTATION_SENTENCES = 4096  # PCA of a d <= 1024 embedding: a few thousand sentences


class DimsError(ValueError):
    """--dims is wider than the model, or a width the run did not train (without force)."""


def trained_dims(model_dir: str, width: int) -> list[int]:
    """The widths a run trained as embeddings: its Matryoshka prefixes and the full width."""
    return restore.read_run(model_dir).trained_dims(width)


def float32_encoder(
    model_dir: str, config: ExportConfig, measure: bool = True
) -> tuple[SentenceEncoder, dict | None]:
    """The float32 encoder an export of `model_dir` computes, and what its truncation measured.

    The full-width student, or with config.dims its (rotated) prefix. The second value
    (None for a full-width export of a run without Matryoshka prefixes) has the widths,
    the rotation and (with `measure`) the dev accuracy at each width, as the same
    rotation gives them.

    Raises:
      DimsError: dims wider than the model, or (without the rotation) not a trained
        prefix and not force_dims.
      ValueError: the rotation needs training text and the run records none.
    """
    encoder = restore.restore_sentence_encoder(
        model_dir, checkpoint=config.checkpoint, seq_length=config.seq_length
    )
    width = int(encoder.backbone.embedding_dim)
    trained = trained_dims(model_dir, width)
    if config.dims is None and len(trained) == 1:
        return encoder, None
    rotate = config.dims is not None and config.pca_rotation
    if config.dims is not None:
        if config.dims > width:
            raise DimsError(f"--dims={config.dims} exceeds the model's {width} dimensions")
        if config.dims not in trained and not (rotate or config.force_dims):
            raise DimsError(
                f"--dims={config.dims} is not a width this run trained (trained: "
                f"{', '.join(map(str, trained))}; --lealla.matryoshka_dims at training) and the "
                f"PCA rotation is off; pass --force to export an untrained prefix anyway"
            )
    run = restore.read_run(model_dir)
    on_bad_line = run.on_bad_line
    rotation, sample = None, 0
    if rotate:
        specs = config.representative_data or run.train_data
        if not specs:
            raise ValueError(
                "the PCA rotation of --dims needs the model's training text: the run records "
                "none; pass --representative_data=FILE (or --nopca_rotation)"
            )
        texts = representative_sentences(specs, encoder.tokenizer, on_bad_line, ROTATION_SENTENCES)
        rotation, sample = truncation_lib.pca_rotation(encoder.encode(texts)), len(texts)
    widths = sorted({*trained, *((config.dims,) if config.dims else ()),
                     *range(32, width, 32)})  # fmt: skip
    dev = corpus.parallel_groups(run.dev_data, on_bad_line) if measure else {}
    accuracy = {
        str(m): float(np.mean(list(per_pair.values())))
        for m, per_pair in pair_accuracies_by_width(encoder.encode, dev, widths, rotation).items()
    } if dev else {}  # fmt: skip
    if config.dims is not None:
        backbone = TruncatedBackbone(encoder.backbone, config.dims, rotation)
        encoder = SentenceEncoder(encoder.tokenizer, backbone, encoder.seq_length)
    return encoder, {
        "dims": config.dims or width, "full_width": width, "trained_dims": trained,
        "rotation": f"pca of {sample} training sentences" if rotate else None,
        "dev_accuracy": accuracy, "dev_data": run.reported["dev_data"],
    }  # fmt: skip


def dims_chart(path: str, truncation: dict) -> None:
    accuracy = truncation["dev_accuracy"]
    if accuracy:
        plots.line_chart(
            path, {"dev retrieval": ([int(m) for m in accuracy], list(accuracy.values()))},
            title="Accuracy by embedding width (first m dimensions)",
            xlabel="dimensions", ylabel="dev retrieval accuracy",
        )  # fmt: skip
