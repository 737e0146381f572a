"""The hubs' own clients (`pip install 'lealla[publish]'`): credentials and the one upload.

Kaggle: `kagglehub.model_upload(handle, folder, license_name=, version_notes=)` creates
the model when missing (private: Kaggle makes new models private; publish it on its
settings page), then the variation or its next version. Hugging Face:
`HfApi.create_repo(exist_ok=True)` (no files), then one `HfApi.upload_folder` commit of
the whole folder; the licence travels in README.md's front matter. Credentials are read
the clients' usual ways; nothing here stores them.
"""

from __future__ import annotations

import importlib

from lealla.models.export.publishing import hub_metadata, targets
from lealla.models.export.publishing.validation import PublishError

INSTALL = "pip install 'lealla[publish]'"
_MODULES = {targets.KAGGLE: "kagglehub", targets.HF: "huggingface_hub"}
_SITES = {targets.KAGGLE: "kaggle.com", targets.HF: "huggingface.co"}


def require(hub: str):
    """The hub's client module.

    Raises:
      PublishError: it is not installed (the message says how to install it).
    """
    try:
        return importlib.import_module(_MODULES[hub])
    except ImportError:
        raise PublishError(
            f"publishing to {hub} needs {_MODULES[hub]}, which is not installed: {INSTALL}"
        ) from None


def check_credentials(hub: str) -> None:
    """Raises PublishError, naming where credentials go, when the client finds none."""
    client = require(hub)
    if hub == targets.KAGGLE:
        from kagglehub import config

        try:
            found = config.get_kaggle_credentials()
        except ValueError as e:  # a kaggle.json that is not valid
            raise PublishError(f"Kaggle credentials: {e}") from None
        if found is None:
            raise PublishError(
                "no Kaggle credentials: set KAGGLE_USERNAME and KAGGLE_KEY, or save the API "
                "token from kaggle.com > Settings > API as ~/.kaggle/kaggle.json; nothing "
                "was uploaded"
            )
    elif client.get_token() is None:
        raise PublishError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write "
            "access, huggingface.co > Settings > Access Tokens); nothing was uploaded"
        )


def upload_call(target: targets.Target, folder: str, license_name: str, notes: str,
                private: bool) -> str:  # fmt: skip
    """The call `upload` makes, as Python (what --dry_run prints)."""
    if target.hub == targets.KAGGLE:
        return (
            f"kagglehub.model_upload({target.handle!r}, {folder!r}, "
            f"license_name={license_name!r}, version_notes={notes!r}, "
            f"ignore_patterns={list(hub_metadata.KAGGLE_FILES)!r})"
        )
    return (
        f"HfApi().create_repo({target.handle!r}, repo_type='model', private={private!r}, "
        f"exist_ok=True); HfApi().upload_folder(repo_id={target.handle!r}, "
        f"folder_path={folder!r}, repo_type='model', commit_message={_message(notes)!r})"
    )


def upload(target: targets.Target, folder: str, license_name: str, notes: str,
           private: bool) -> None:  # fmt: skip
    """Uploads the validated folder in one call of the hub's client.

    Raises:
      PublishError: the hub could not be reached, or refused (the cause in one line).
    """
    client = require(target.hub)
    try:
        if target.hub == targets.KAGGLE:
            client.model_upload(
                target.handle, folder, license_name=license_name, version_notes=notes,
                ignore_patterns=list(hub_metadata.KAGGLE_FILES),
            )  # fmt: skip
        else:
            api = client.HfApi()
            api.create_repo(target.handle, repo_type="model", private=private, exist_ok=True)
            api.upload_folder(repo_id=target.handle, folder_path=folder, repo_type="model",
                              commit_message=_message(notes))  # fmt: skip
    except Exception as e:  # the clients raise their own types; each is one cause
        raise PublishError(_cause(target, e)) from None


def _message(notes: str) -> str:
    return notes or "Upload with lealla publish"


def _cause(target: targets.Target, error: Exception) -> str:
    site = _SITES[target.hub]
    detail = " ".join(str(error).split())[:300] or type(error).__name__
    status = getattr(getattr(error, "response", None), "status_code", None) or getattr(
        error, "error_code", None
    )
    if status in (401, 403):
        return (f"{site} refused the upload (HTTP {status}: the credentials are not valid or "
                f"may not write to {target.handle}): {detail}")  # fmt: skip
    if status is not None:
        return f"{site} refused the upload (HTTP {status}): {detail}"
    name = type(error).__name__
    if isinstance(error, OSError | TimeoutError) or "Connect" in name or "Timeout" in name:
        return f"could not reach {site} (no network?): {detail}"
    return f"{site} upload failed ({name}): {detail}"
