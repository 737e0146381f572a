"""Where to publish: `kaggle:OWNER/MODEL/tensorFlow2/VARIATION` or `hf:OWNER/NAME`."""

from __future__ import annotations

import dataclasses
import re

KAGGLE, HF = "kaggle", "hf"
HUBS = (KAGGLE, HF)
# The export is a TF2 SavedModel: Kaggle's framework slug for it (kagglesdk ModelFramework
# MODEL_FRAMEWORK_TENSOR_FLOW_2; kaggle-api docs/models_metadata.md, `framework`).
KAGGLE_FRAMEWORK = "tensorFlow2"
_KAGGLE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# huggingface_hub.utils.validate_repo_id: ASCII letters, digits, - _ . (no -- or ..), a
# name part of at most 96 characters, neither starting nor ending with - or ..
_HF_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")


class TargetError(ValueError):
    """A `--to` value that names no hub location (a usage error)."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A parsed `--to`.

    Attributes:
      hub: "kaggle" or "hf".
      handle: `OWNER/MODEL/tensorFlow2/VARIATION` or `OWNER/NAME`.
    """

    hub: str
    handle: str

    @property
    def owner(self) -> str:
        return self.handle.split("/")[0]

    @property
    def name(self) -> str:
        """The model's slug (Kaggle) or repository name (Hugging Face)."""
        return self.handle.split("/")[1]

    @property
    def variation(self) -> str | None:
        return self.handle.split("/")[3] if self.hub == KAGGLE else None

    @property
    def url(self) -> str:
        if self.hub == KAGGLE:
            owner, model, framework, variation = self.handle.split("/")
            return f"https://www.kaggle.com/models/{owner}/{model}/{framework}/{variation}"
        return f"https://huggingface.co/{self.handle}"


def parse(to: str) -> Target:
    """`--to` -> Target.

    Raises:
      TargetError: no `kaggle:`/`hf:` prefix, or a handle of the wrong shape, named.
    """
    hub, sep, handle = (to or "").partition(":")
    if not sep or hub not in HUBS:
        raise TargetError(
            f"--to={to!r}: give kaggle:OWNER/MODEL/{KAGGLE_FRAMEWORK}/VARIATION or hf:OWNER/NAME"
        )
    parts = handle.split("/")
    if hub == KAGGLE:
        if len(parts) != 4 or not all(_KAGGLE_SLUG.fullmatch(p) for p in parts):
            raise TargetError(
                f"--to={to!r}: a Kaggle Models handle is OWNER/MODEL/{KAGGLE_FRAMEWORK}/VARIATION "
                "(letters, digits, - and _; no version: each upload makes the next one)"
            )
        if parts[2].lower() != KAGGLE_FRAMEWORK.lower():
            raise TargetError(
                f"--to={to!r}: the framework is {KAGGLE_FRAMEWORK} (the export is a TF2 "
                f"SavedModel; its TFLite files travel in the same variation), not {parts[2]!r}"
            )
        parts[2] = KAGGLE_FRAMEWORK
        return Target(KAGGLE, "/".join(parts))
    if (
        len(parts) != 2
        or not all(_HF_PART.fullmatch(p) for p in parts)
        or any(bad in handle for bad in ("--", ".."))
        or handle.endswith(".git")
    ):
        raise TargetError(
            f"--to={to!r}: a Hugging Face repo id is OWNER/NAME (letters, digits, - _ .; "
            "at most 96 characters each, no -- or ..)"
        )
    return Target(HF, handle)
