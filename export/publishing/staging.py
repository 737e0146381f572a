"""The staged folder: what one upload call sends, in the layout the hub expects.

Both hubs get the export as it is (the SavedModel at the root, so `hub.KerasLayer(folder)`
loads the downloaded folder; `labse_format/`; the TFLite variants beside it, in the same
variation/repository: they share the export's version and verification, and one upload
carries them) and the model card rendered for that hub as README.md:
- Kaggle: plus `model-metadata.json` and `model-instance-metadata.json` (left out of the
  upload, as the kaggle CLI leaves them out; `kaggle models update -p DIR` sets the model
  page from them).
- Hugging Face: README.md opens with the front matter.
Files are hard links to the export's where the filesystem allows (no second copy).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from lealla.files import atomic
from lealla.files.fileio import folder_bytes
from lealla.models.export import model_card
from lealla.models.export.publishing import hub_metadata, targets

CARD = "README.md"


class StagingError(ValueError):
    """--staging_dir names an existing path (a usage error)."""


def stage(export_dir: str, metadata: dict, target: targets.Target, license_name: str,
          private: bool = False, staging_dir: str | None = None) -> str:  # fmt: skip
    """Builds the staged folder; returns its path.

    Args:
      export_dir: the export (checked by validation.check_export).
      metadata: its lealla_export.json.
      target: where it goes.
      license_name: the licence in the hub's own spelling (licenses.for_hub).
      private: the model/repository is private.
      staging_dir: where to build it (must not exist); default: a new temporary folder.

    Raises:
      StagingError: staging_dir exists.
    """
    if staging_dir is None:
        root = tempfile.mkdtemp(prefix=f"lealla-publish-{target.hub}-")
        out = os.path.join(root, target.variation or target.name)
    else:
        out = os.path.abspath(staging_dir.rstrip("/"))
        if os.path.lexists(out):
            raise StagingError(f"--staging_dir={staging_dir} exists; give a new folder")
    try:
        with atomic.folder_built_aside(out) as tmp:
            _link_tree(export_dir, tmp)
            hub = model_card.Hub(target.hub, target.handle)
            card = model_card.render(metadata, hub, folder_bytes=folder_bytes(tmp))
            if target.hub == targets.HF:
                front = hub_metadata.hf_front_matter(target, metadata, license_name)
                card = hub_metadata.render_front_matter(front) + card
            else:
                files = {
                    hub_metadata.MODEL_METADATA: hub_metadata.kaggle_model(
                        target, metadata, card, license_name, private),
                    hub_metadata.INSTANCE_METADATA: hub_metadata.kaggle_instance(
                        target, metadata, license_name),
                }  # fmt: skip
                for name, values in files.items():
                    atomic.atomic_write_text(
                        os.path.join(tmp, name), json.dumps(values, indent=2, ensure_ascii=False)
                    )
            atomic.atomic_write_text(os.path.join(tmp, CARD), card)
    except BaseException:
        if staging_dir is None:
            shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        raise
    return out


def _link_tree(src: str, dst: str) -> None:
    """The export's files (its README.md is rendered again; hidden files, e.g. a lock,
    stay behind), hard-linked, else copied."""
    for folder, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(folder, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in sorted(files):
            if name.startswith(".") or (rel == "." and name == CARD):
                continue
            source, target = os.path.join(folder, name), os.path.join(dst, rel, name)
            try:
                os.link(source, target)
            except OSError:  # another filesystem, or links not allowed
                shutil.copy2(source, target)


def tree(path: str) -> str:
    """The staged folder as an indented listing with sizes."""
    lines = [f"{os.path.basename(path)}/  ({_size(folder_bytes(path))})"]
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        depth = os.path.relpath(folder, path).count(os.sep) + (folder != path)
        if folder != path:
            lines.append("  " * depth + os.path.basename(folder) + "/")
        for name in sorted(files):
            size = _size(os.path.getsize(os.path.join(folder, name)))
            lines.append("  " * (depth + 1) + f"{name}  {size}")
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"
