"""Running an exported `model*.tflite`: strings in, unit-length float32 [N, d] out.

The model holds the tokenizer as tensorflow_text TFLite custom ops, so the interpreter
needs tensorflow_text's TFLite registrar. In Python:

  >>> encoder = TFLiteEncoder("exports/demo/model_int8.tflite")
  >>> encoder(["Hello world", "Hallo Welt"]).shape
  (2, 128)

An app links the TFLite runtime plus the registrar functions `APP_REGISTRARS` names for
the model's custom ops (see the export's model card).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence

import numpy as np

from lealla.ui import quiet

# The custom ops our exports use -> the tensorflow_text registrar function that adds it
# (tensorflow_text/core/kernels/*_tflite.cc; in Python, tflite_registrar.<name>).
APP_REGISTRARS = {
    "TFText>FastSentencepieceTokenize": "AddFastSentencepieceTokenize",
    "TFText>FastWordpieceTokenize": "AddFastWordpieceTokenize",
    "TFText>FastWordpieceTokenizeWithOffsets": "AddFastWordpieceTokenize",
    "TFText>FastBertNormalize": "AddFastBertNormalize",
    "FastWordpieceTokenizeWithOffsets": "AddFastWordpieceTokenize",
    "FastBertNormalize": "AddFastBertNormalize",
    "RaggedTensorToTensor": "AddRaggedTensorToTensor",
}
SIGNATURE = "serving_default"
OUTPUT = "default"


class UnsupportedOpError(ValueError):
    """The TFLite model needs an op that neither TFLite nor tensorflow_text provides."""


def _interpreter(model: bytes, threads: int | None):
    from tensorflow.lite.python import interpreter as tflite
    from tensorflow_text.core.pybinds import tflite_registrar

    with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice
        warnings.simplefilter("ignore")
        return tflite.InterpreterWithCustomOps(
            model_content=model,
            custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS,
            num_threads=threads or os.cpu_count() or 1,
        )


class TFLiteEncoder:
    """A `model*.tflite` export as a callable encoder.

    Args:
      model: the path of a .tflite file, or its bytes.
      threads: interpreter threads; default: every core.

    Raises:
      UnsupportedOpError: the model needs an op no registered kernel provides (named).
      ValueError: the file is not a TFLite model with a string-in serving signature.
    """

    def __init__(self, model: str | bytes, threads: int | None = None):
        self.name = model if isinstance(model, str) else "<bytes>"
        if isinstance(model, str):
            with open(model, "rb") as f:
                model = f.read()
        self.size_bytes = len(model)
        # Quiet: the deprecation notice, "Created TensorFlow Lite XNNPACK delegate" (at
        # the first run, hence the warm-up inside the block).
        with quiet.native_stderr_silenced():
            try:
                self._interpreter = _interpreter(model, threads)
            except ValueError as e:
                raise ValueError(f"{self.name}: not a TFLite model ({e})") from None
            signatures = self._interpreter.get_signature_list()
            if SIGNATURE not in signatures:
                raise ValueError(
                    f"{self.name}: no {SIGNATURE!r} signature (has {list(signatures)})"
                )
            self._runner = self._interpreter.get_signature_runner(SIGNATURE)
            self._input = signatures[SIGNATURE]["inputs"][0]
            self.embedding_dim = int(self._runner.get_output_details()[OUTPUT]["shape"][-1])
            self(["warm-up"])

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """[N] strings -> float32 [N, d] unit-length embeddings."""
        texts = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.embedding_dim), np.float32)
        try:
            out = self._runner(**{self._input: np.array(texts, dtype=object)})[OUTPUT]
        except RuntimeError as e:
            raise unsupported_op_error(self.name, e) from None
        return np.asarray(out, np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeds a list of strings in batches; float32 [len(texts), d]."""
        parts = [self(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.embedding_dim), np.float32)

    def op_names(self) -> list[str]:
        """The op of every node of the main graph, in order."""
        return [op["op_name"] for op in self._interpreter._get_ops_details()]

    def float_ops(self) -> list[str]:
        """Op types that still compute in float32 (for a quantized model: what stayed float)."""
        tensors = {t["index"]: t["dtype"] for t in self._interpreter.get_tensor_details()}
        return sorted({
            op["op_name"] for op in self._interpreter._get_ops_details()
            if any(tensors.get(i) == np.float32 for i in op["outputs"])
        })  # fmt: skip

    def custom_ops(self) -> list[str]:
        """Ops that are not TFLite builtins (builtins are UPPER_CASE)."""
        return sorted({name for name in self.op_names() if not name.isupper()})


def unsupported_op_error(name: str, error: Exception) -> Exception:
    """Turns the interpreter's "unresolved custom op" failure into one naming the op."""
    match = re.search(r"unresolved custom op: ([\w>]+)", str(error))
    if not match:
        return error
    return UnsupportedOpError(
        f"{name}: the model needs op {match.group(1)}, which neither TFLite's builtins nor "
        f"tensorflow_text's TFLite kernels provide; the graph must be written without it"
    )
