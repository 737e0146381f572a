"""Resolving a teacher name, TF Hub / Kaggle handle or local SavedModel into a `Teacher`."""

from __future__ import annotations

import glob
import os

import tensorflow as tf

from lealla.models.teachers import registry
from lealla.models.teachers import teacher as teacher_lib
from lealla.records import module_metadata
from lealla.tokenization import sentencepiece, wordpiece

_REMOTE_PREFIXES = ("http://", "https://", "gs://")
_PROBE = ["hello world"]


class TeacherUnavailableError(RuntimeError):
    """A remote handle could not be fetched (e.g. no network); says how to go local."""


def load_teacher(
    teacher: str,
    *,
    preprocessor: str | None = None,
    format: str | None = None,
    seq_length: int = 128,
) -> teacher_lib.Teacher:
    """Loads a teacher.

    Args:
      teacher: a registry name (`labse`, `labse-v1`, `lealla-small`, ...,
        `use-multilingual`), a TF Hub / Kaggle handle, or a local SavedModel folder
        (a downloaded hub module, or one this toolkit built).
      preprocessor: the preprocessor handle or path, for LaBSE-v2-format encoders
        not in the registry.
      format: one of registry.FORMATS; detected when omitted.
      seq_length: packed length for LaBSE-format teachers.

    Raises:
      TeacherUnavailableError: a remote handle cannot be reached.
      ValueError: unknown format, a format that cannot be detected, or a module
        whose output width disagrees with the registry.
    """
    import tensorflow_text  # noqa: F401  registers the ops hub modules need before loading

    spec = registry.TEACHERS.get(teacher)
    if spec is not None and spec.handle == registry.LOCAL_USE_M:
        # the offline teacher's weights load only when it is asked for
        from lealla.models.teachers import use_multilingual

        return _load_path_or_handle(
            use_multilingual.ensure_module(), teacher, None, registry.STRING, seq_length, spec
        )
    if spec is not None:
        return _load_path_or_handle(
            spec.handle, teacher, spec.preprocessor, spec.format, seq_length, spec
        )
    if format is not None and format not in registry.FORMATS:
        raise ValueError(f"teacher format must be one of {registry.FORMATS}, got {format!r}")
    if not _is_remote(teacher) and not os.path.isdir(teacher):
        raise ValueError(
            f"teacher {teacher!r} is neither a known name ({', '.join(registry.TEACHERS)}), "
            f"a TF Hub/Kaggle handle (https://...), nor an existing SavedModel folder"
        )
    return _load_path_or_handle(teacher, teacher, preprocessor, format, seq_length, None)


def resolve_handle(handle: str) -> str:
    """A local folder for `handle`: paths as they are, remote handles via the hub cache.

    Raises:
      TeacherUnavailableError: naming the handle and how to use a local copy.
      ValueError: a SavedModel folder whose weights are missing (`check_saved_model`).
    """
    if not _is_remote(handle):
        if not os.path.isdir(handle):
            raise FileNotFoundError(f"no SavedModel folder at {handle}")
        check_saved_model(handle)
        return handle
    import tensorflow_hub as hub

    try:
        path = hub.resolve(handle)
    except Exception as e:  # hub raises URLError, HTTPError, OSError, ValueError...
        cache = os.environ.get("TFHUB_CACHE_DIR", "(TFHUB_CACHE_DIR is not set)")
        raise TeacherUnavailableError(
            f"cannot fetch {handle}: {type(e).__name__}: {e}. This machine may have no "
            f'network. On a machine with internet, run: python -c "import tensorflow_hub as '
            f"hub; print(hub.resolve('{handle}'))\", copy the printed folder here and pass its "
            f"path instead of the handle (or set TFHUB_CACHE_DIR to a cache holding it; "
            f"now: {cache})."
        ) from None
    check_saved_model(path)
    return path


def check_saved_model(path: str) -> None:
    """Refuses a SavedModel folder whose weights are gone (TensorFlow writes `variables/`
    with an index and data files into every SavedModel, also one without variables).

    Raises:
      ValueError: naming the folder and what is missing.
    """
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        return  # not a TF2 SavedModel: hub.load gives its own answer
    variables = os.path.join(path, "variables")
    missing = None
    if not os.path.isdir(variables):
        missing = "variables/ (its weights)"
    elif not os.path.isfile(os.path.join(variables, "variables.index")):
        missing = "variables/variables.index"
    elif not any(n.startswith("variables.data-") for n in os.listdir(variables)):
        missing = "variables/variables.data-* (its weights)"
    if missing:
        raise ValueError(
            f"{path}: incomplete SavedModel, {missing} is missing; copy the whole folder "
            f"again or export the model again"
        )


def _load_path_or_handle(handle, name, preprocessor, fmt, seq_length, spec):
    import tensorflow_hub as hub

    path = resolve_handle(handle)
    metadata = module_metadata.read(path)
    fmt = fmt or metadata.format
    module = hub.load(path)
    if fmt is None:
        fmt = registry.LABSE_V2 if preprocessor else _detect_format(module, path)
    if fmt == registry.STRING:
        tok = _string_module_tokenizer(path, metadata)
        normalized = spec.normalized if spec else metadata.normalized
        table_fn = None
        if metadata.token_table == "usem3_quantized":
            # the offline teacher's weights load only when it is asked for
            from lealla.models.teachers import use_multilingual

            table_fn = lambda: use_multilingual.dequantized_table(module)  # noqa: E731
        result = teacher_lib.StringTeacher(module, name, None, normalized, tok, table_fn)
    elif fmt == registry.LABSE_V2:
        if not preprocessor:
            raise ValueError(f"{name}: a LaBSE-v2-format encoder needs its preprocessor handle")
        pre = hub.load(resolve_handle(preprocessor))
        result = teacher_lib.LabseV2Teacher(
            module, pre, name, None, _vocab_tokenizer(module), seq_length=seq_length
        )
    else:
        tok = _vocab_tokenizer(module)
        if tok is None:
            raise ValueError(f"{name}: a LaBSE-v1-format module must carry vocab_file")
        result = teacher_lib.LabseV1Teacher(module, name, None, tok, seq_length=seq_length)
    if spec is not None and result.embedding_dim != spec.embedding_dim:
        raise ValueError(
            f"{name}: module returns {result.embedding_dim}-d embeddings; the registry "
            f"expects {spec.embedding_dim}"
        )
    return result


def _detect_format(module, path: str) -> str:
    try:
        out = module(tf.constant(_PROBE))
        if isinstance(out, dict):
            out = out["default"]
        if out.shape.rank == 2:
            return registry.STRING
    except (TypeError, ValueError, tf.errors.InvalidArgumentError):
        pass  # not a string module; fall through to the other formats
    if hasattr(module, "vocab_file"):
        return registry.LABSE_V1
    raise ValueError(
        f"cannot tell the format of the SavedModel at {path}: pass format= "
        f"(--teacher_format; lealla distill: --teacher.format) one of {registry.FORMATS}, "
        f"and preprocessor= for labse_v2"
    )


def _vocab_tokenizer(module):
    """The tokenizer of a module exporting vocab_file (+ do_lower_case) or sp_model_file."""
    if hasattr(module, "sp_model_file"):
        path = module.sp_model_file.asset_path.numpy().decode()
        return sentencepiece.SentencepieceTokenizer.from_model_file(path)
    if not hasattr(module, "vocab_file"):
        return None
    path = module.vocab_file.asset_path.numpy().decode()
    lower = bool(module.do_lower_case.numpy()) if hasattr(module, "do_lower_case") else False
    return wordpiece.WordpieceTokenizer.from_vocab_file(path, lower_case=lower)


def _string_module_tokenizer(path: str, metadata: module_metadata.ModuleMetadata):
    if metadata.sentencepiece_model:
        return sentencepiece.SentencepieceTokenizer.from_model_file(
            os.path.join(path, metadata.sentencepiece_model)
        )
    if metadata.vocab_file:
        return wordpiece.WordpieceTokenizer.from_vocab_file(
            os.path.join(path, metadata.vocab_file), lower_case=metadata.lower_case
        )
    vocabs = sorted(glob.glob(os.path.join(path, "assets", "*vocab*.txt")))
    if vocabs:
        return wordpiece.WordpieceTokenizer.from_vocab_file(vocabs[0])
    return None


def _is_remote(handle: str) -> bool:
    return handle.startswith(_REMOTE_PREFIXES)
