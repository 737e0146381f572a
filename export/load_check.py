"""Does an export load everywhere users load it? Checked in a fresh Python process.

Loads the export as users do: `hub.KerasLayer` inside a tf_keras (Keras 2) model,
`hub.load`, `tf.saved_model.load`, Keras 3 `keras.layers.TFSMLayer`, and the
LaBSE-format pair through `hub.KerasLayer`, and compares each with the expected
embeddings; every `model*.tflite` of the export runs in the TFLite interpreter (whole
batch and one string at a time), held to its variant's cosine bar. A fresh process
matters: the in-process reload cannot catch a missing op registration or an asset path
baked into the graph.

  python -m lealla.models.export.load_check --export=DIR --texts=texts.json --expected=emb.npy
  python -m lealla.models.export.load_check --export=DIR --texts=t.json --without_tensorflow_text
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence

import numpy as np

LOADERS = ("hub_keras_layer_tf_keras", "hub_load", "tf_saved_model_load", "keras3_tfsm_layer")
PAIR_LOADER = "labse_format_hub_keras_layer"
_RESULT_PREFIX = "LOAD_CHECK "


class LoadCheckError(RuntimeError):
    """The export failed to load, or a loader disagreed with the expected embeddings."""


def check_in_subprocess(
    export_dir: str, texts: Sequence[str], expected: np.ndarray, tolerance: float = 1e-5,
    labse_format: bool | None = None, timeout: float = 600,
) -> dict[str, float]:  # fmt: skip
    """Runs the checks in a fresh interpreter; returns loader -> max abs difference.

    `labse_format`: check the LaBSE-format pair; None: when the export has one.

    Raises:
      LoadCheckError: a loader failed or differed by more than `tolerance`.
    """
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = os.path.join(tmp, "texts.json")
        expected_file = os.path.join(tmp, "expected.npy")
        with open(texts_file, "w", encoding="utf-8") as f:
            json.dump(list(texts), f, ensure_ascii=False)
        np.save(expected_file, np.asarray(expected, np.float32), allow_pickle=False)
        args = [
            sys.executable, "-m", "lealla.models.export.load_check", f"--export={export_dir}",
            f"--texts={texts_file}", f"--expected={expected_file}",
        ]  # fmt: skip
        if labse_format is None:
            labse_format = os.path.isdir(os.path.join(export_dir, "labse_format"))
        if not labse_format:
            args.append("--nolabse_format")
        result = _run(args, timeout)
    diffs = result["max_abs_diff"]
    bad = {name: d for name, d in diffs.items() if not d <= tolerance}
    if bad:
        raise LoadCheckError(
            f"{export_dir}: loaders disagree with the student beyond {tolerance:g}: {bad}"
        )
    # the TFLite runtime loads only for an export that holds .tflite files
    from lealla.models.export import tflite_export

    for variant, cosine in result.get("tflite_cosine", {}).items():
        if not cosine >= tflite_export.MIN_COSINE[variant]:
            raise LoadCheckError(
                f"{export_dir}: {tflite_export.FILES[variant]} in a fresh process: mean "
                f"cosine to the student {cosine:.4f} < {tflite_export.MIN_COSINE[variant]}"
            )
        diffs[f"tflite_{variant}_cosine"] = cosine
    return diffs


def load_error_without_tensorflow_text(export_dir: str, timeout: float = 300) -> str | None:
    """The error `tf.saved_model.load` gives in a process that never imported tensorflow_text.

    Returns None when the export loads anyway (it then needs no custom ops).
    """
    args = [sys.executable, "-m", "lealla.models.export.load_check", f"--export={export_dir}",
            "--without_tensorflow_text"]  # fmt: skip
    return _run(args, timeout)["error"]


def _run(args: list[str], timeout: float) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])
    raise LoadCheckError(
        f"load check of {args[3]} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def _embed_all_ways(export_dir: str, texts: list[str], labse_format: bool) -> dict:
    import keras
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  registers the tokenizer ops the graph uses
    import tf_keras

    batch = tf.constant(texts)
    out = {}
    inputs = tf_keras.layers.Input(shape=(), dtype=tf.string)
    model = tf_keras.Model(inputs, hub.KerasLayer(export_dir)(inputs))
    out["hub_keras_layer_tf_keras"] = model(batch)
    out["hub_load"] = hub.load(export_dir)(batch)
    out["tf_saved_model_load"] = tf.saved_model.load(export_dir)(batch)
    layer = keras.layers.TFSMLayer(export_dir, call_endpoint="serving_default")
    out["keras3_tfsm_layer"] = layer(batch)["default"]
    if labse_format:
        pre = hub.KerasLayer(os.path.join(export_dir, "labse_format", "preprocessor"))
        enc = hub.KerasLayer(os.path.join(export_dir, "labse_format", "encoder"))
        out[PAIR_LOADER] = enc(pre(batch))["default"]
    return {name: np.asarray(value, np.float32) for name, value in out.items()}


def main(argv: list[str]) -> None:
    from absl import flags

    FLAGS = flags.FLAGS
    if FLAGS.without_tensorflow_text:
        import tensorflow as tf

        try:
            tf.saved_model.load(FLAGS.export)
            error = None
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
        print(_RESULT_PREFIX + json.dumps({"error": error}))
        return
    with open(FLAGS.texts, encoding="utf-8") as f:
        texts = json.load(f)
    expected = np.load(FLAGS.expected, allow_pickle=False)
    got = _embed_all_ways(FLAGS.export, texts, FLAGS.labse_format)
    diffs = {
        name: float(np.abs(value - expected).max()) if value.shape == expected.shape else np.inf
        for name, value in got.items()
    }
    print(_RESULT_PREFIX + json.dumps(
        {"max_abs_diff": diffs, "tflite_cosine": _tflite_cosines(FLAGS.export, texts, expected)}
    ))  # fmt: skip


def _tflite_cosines(export_dir: str, texts: list[str], expected: np.ndarray) -> dict:
    """variant -> mean cosine to `expected`, each string embedded in the batch and alone
    (the worse of the two)."""
    # the TFLite runtime loads only for an export that holds .tflite files
    from lealla.models.export import tflite_export
    from lealla.models.export.tflite_model import TFLiteEncoder

    out = {}
    for variant, name in tflite_export.FILES.items():
        path = os.path.join(export_dir, name)
        if os.path.isfile(path):
            encoder = TFLiteEncoder(path)
            batch = encoder(texts)
            alone = np.concatenate([encoder([t]) for t in texts])
            out[variant] = float(min(np.sum(batch * expected, 1).mean(),
                                     np.sum(alone * expected, 1).mean()))  # fmt: skip
    return out


if __name__ == "__main__":
    from absl import app, flags

    flags.DEFINE_string("export", None, "The export folder.", required=True)
    flags.DEFINE_string("texts", None, "A JSON list of strings to embed.")
    flags.DEFINE_string("expected", None, "A .npy of the expected embeddings.")
    flags.DEFINE_boolean("labse_format", True, "Also check the LaBSE-format pair.")
    flags.DEFINE_boolean(
        "without_tensorflow_text", False, "Only report the load error without tensorflow_text."
    )
    app.run(main)
