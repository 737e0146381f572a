"""`publish`: stage an export for a hub, validate it offline, upload it with the hub's client."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable

from lealla.models.export.publishing import clients, licenses, staging, targets, validation


@dataclasses.dataclass(frozen=True)
class PublishResult:
    """What `publish` did.

    Attributes:
      target: where it went (or would go).
      staged: the staged folder (removed after an upload into a temporary folder).
      tree: the staged folder's listing.
      call: the client call that uploads (or would upload) it.
      uploaded: False for a dry run.
      checks: what validation checked (card files, loaders' differences).
    """

    target: targets.Target
    staged: str
    tree: str
    call: str
    uploaded: bool
    checks: dict


def publish(
    export_dir: str, to: str, license: str = licenses.DEFAULT, version_notes: str = "",
    private: bool = False, dry_run: bool = False, staging_dir: str | None = None,
    check_loading: bool = True, report: Callable[[str], None] = print,
) -> PublishResult:  # fmt: skip
    """Stages `export_dir` for `to`, validates it, and (unless `dry_run`) uploads it.

    Args:
      export_dir: a folder `lealla export` wrote.
      to: `kaggle:OWNER/MODEL/tensorFlow2/VARIATION` or `hf:OWNER/NAME`.
      license: a Hugging Face licence identifier (Kaggle gets its own name for it).
      version_notes: Kaggle's version notes; the Hugging Face commit message.
      private: a private Hugging Face repository / Kaggle model page setting.
      dry_run: stop after validation (no client, no credentials, no network needed).
      staging_dir: where to stage (must not exist); default: a temporary folder, kept
        after a dry run and removed after an upload.
      check_loading: load the staged folder in a fresh process before uploading.
      report: receives the progress lines.

    Raises:
      targets.TargetError, licenses.LicenseError, staging.StagingError: usage errors.
      validation.PublishError: a refused export, a failed check, missing credentials or
        client, an unreachable or refusing hub; nothing is uploaded unless the one
        upload call succeeds.
    """
    target = targets.parse(to)
    license_name = licenses.for_hub(license, target.hub)
    if not dry_run:  # before the work: no credentials, no staging
        clients.check_credentials(target.hub)
    metadata = validation.check_export(export_dir)
    report(f"staging {export_dir} for {target.hub}: {target.handle}")
    staged = staging.stage(export_dir, metadata, target, license_name, private, staging_dir)
    ours = os.path.dirname(staged) if staging_dir is None else staged
    try:
        report("validating: card files, hub metadata"
               + (", loading in a fresh process" if check_loading else ""))  # fmt: skip
        checks = validation.validate(staged, target, export_dir, metadata, check_loading)
        tree = staging.tree(staged)
        call = clients.upload_call(target, staged, license_name, version_notes, private)
        report(tree)
        if dry_run:
            report(
                f"dry run: validated, nothing uploaded; staged folder kept at {staged}; "
                f"the upload would be:\n  {call}"
            )
            return PublishResult(target, staged, tree, call, False, checks)
        report(f"uploading: {call}")
        clients.upload(target, staged, license_name, version_notes, private)
    except BaseException:
        shutil.rmtree(ours, ignore_errors=True)
        raise
    if staging_dir is None:
        shutil.rmtree(ours, ignore_errors=True)
    report(f"published {target.url}")
    return PublishResult(target, staged, tree, call, True, checks)
