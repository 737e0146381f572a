"""How to export a run (`ExportConfig`)."""

from __future__ import annotations

import dataclasses

from lealla.config import json_config
from lealla.models.export import modules, tflite_export
from lealla.records import run_layout


@dataclasses.dataclass(frozen=True)
class ExportConfig(json_config.ConfigMixin):
    """How to export.

    Example:
      >>> import lealla
      >>> config = lealla.ExportConfig(tflite_variants=("float32", "dynamic_int8"), dims=64)
      >>> config.checkpoint, config.labse_format
      ('best', False)

    Attributes:
      checkpoint: `best` (best dev retrieval, else latest) or `latest`.
      seq_length: longest input in tokens; default: the run's training seq_length.
      labse_format: also write the LaBSE-compatible preprocessor/encoder pair. Off by
        default: a SavedModel folder holds its own variables, so the pair's encoder is a
        second copy of every weight (benchmarks/RESULTS.md, "Export size and load time").
      tolerance: largest allowed |reloaded - in-memory| embedding difference.
      tflite_variants: TFLite variants to write beside the SavedModel (see
        tflite_export.VARIANTS); none by default. A variant that misses its bar is left
        out with a warning, its numbers recorded under tflite.refused: the SavedModel
        never depends on an optional variant.
      representative_data: corpus files whose sentences calibrate the int8 variant;
        default: the run's training data.
      weights_dtype: how the SavedModel stores its weights: float32, or float16 (half
        the bytes; the graph casts them to float32 and computes in float32). float16 is
        refused when its mean cosine to the float32 model on the probe sentences is
        under MIN_FLOAT16_COSINE.
      dims: output width: the first `dims` dimensions of the embedding, renormalized;
        None for the full width.
      pca_rotation: with `dims`, rotate the pooled output first by the PCA of the
        model's embeddings of its training text (`truncation.pca_rotation`: cosines
        unchanged, the leading dimensions carry the most; see
        benchmarks/RESULTS.md#ablations-and-decisions). Any width may then be exported.
      force_dims: without the rotation, allow a `dims` the run did not train as a
        Matryoshka prefix.
      test_data: parallel files (xx<TAB>en) the exported model is scored on besides the
        run's dev data, per language pair, into the metadata and the model card.
    """

    checkpoint: str = "best"
    seq_length: int | None = None
    labse_format: bool = False
    tolerance: float = 1e-5
    tflite_variants: tuple[str, ...] = ()
    representative_data: tuple[str, ...] = ()
    weights_dtype: str = "float32"
    dims: int | None = None
    pca_rotation: bool = True
    force_dims: bool = False
    test_data: tuple[str, ...] = ()

    def __post_init__(self):
        if self.dims is not None and self.dims < 1:
            raise ValueError(f"dims must be >= 1, got {self.dims}")
        if self.tflite_variants:
            tflite_export.check_variants(self.tflite_variants)
        if self.weights_dtype not in modules.WEIGHT_DTYPES:
            raise ValueError(
                f"weights_dtype must be one of {', '.join(modules.WEIGHT_DTYPES)}, got "
                f"{self.weights_dtype!r}"
            )
        if self.checkpoint not in run_layout.CHECKPOINTS:
            raise ValueError(
                f"checkpoint must be one of {run_layout.CHECKPOINTS}, got {self.checkpoint!r}"
            )
        if self.seq_length is not None and self.seq_length < 3:
            raise ValueError(f"seq_length must be >= 3, got {self.seq_length}")
