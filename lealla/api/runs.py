"""Training runs as functions: `distill` a student into a run folder, `export` a run.

`lealla distill` and `lealla export` parse their flags into the same configs and call
these. The training and export packages import TensorFlow, so they are imported inside
each function: `import lealla` stays light.
"""

from __future__ import annotations

from typing import Any


def distill(config: Any, model_dir: str, *, strategy: Any = None) -> dict:
    """Trains a student as `config` says, into the run folder `model_dir`.

    Re-running with the same `model_dir` resumes from its last checkpoint (a changed
    config is refused by name). The folder then serves as an encoder spec, and
    `export` turns it into a SavedModel.

    Args:
      config: a `lealla.DistillConfig`.
      model_dir: the run folder (created; an existing run resumes).
      strategy: a `tf.distribute.Strategy`; default: the one for this machine (TPU
        not included: pass `lealla.models.distill.strategy.make_strategy(tpu=...)`).

    Returns:
      The final metrics (also `model_dir`/metrics.json): step, losses, dev scores.

    Example:
      >>> import lealla
      >>> config = lealla.DistillConfig().override({
      ...     "data": {"train_data": ("demo:train",), "dev_data": ("demo:dev",),
      ...              "seq_length": 16, "bucket_lengths": (16,), "batch_size": 8},
      ...     "student.name": "tiny_test", "optimizer.warmup_steps": 1,
      ...     "trainer": {"steps": 2, "eval_every": 2, "checkpoint_every": 2}})
      >>> metrics = lealla.distill(config, "my_run")
      >>> metrics["step"], 0.0 <= metrics["dev_accuracy"] <= 1.0
      (2, True)
    """
    # distill/ builds TensorFlow models: imported only when a run is trained.
    from lealla.models.distill.strategy import make_strategy
    from lealla.models.distill.trainer import Distiller

    strategy = strategy if strategy is not None else make_strategy()
    return Distiller(config, model_dir, strategy).train()


def export(model_dir: str, out: str, config: Any = None, *, overwrite: bool = False) -> dict:
    """Exports the student of a run folder as a SavedModel folder `out` (verified, atomic).

    The folder is an encoder spec (`lealla.load_encoder(out)`), loads with
    `hub.KerasLayer` and `tf.saved_model.load`; with `ExportConfig(tflite_variants=...)`
    it holds `.tflite` files too (each one an encoder spec as well).

    Args:
      model_dir: a training run folder.
      out: the export folder.
      config: a `lealla.ExportConfig` (checkpoint, formats, TFLite variants, dims);
        default `ExportConfig()`.
      overwrite: replace an export at `out`.

    Returns:
      The export's metadata (also `out`/lealla_export.json).

    Example:
      >>> import lealla
      >>> metadata = lealla.export(model_dir, "my_export", lealla.ExportConfig(labse_format=False))
      >>> encoder = lealla.load_encoder("my_export")
      >>> encoder.dim == metadata["embedding_dim"]
      True
    """
    # export/ imports TensorFlow: imported only when a run is exported.
    from lealla.models.export import exporter

    return exporter.export_model(model_dir, out, config or exporter.ExportConfig(), overwrite)
