"""The licences each hub accepts, and `--license` checked against them.

`--license` takes the Hugging Face identifier (`apache-2.0`); Kaggle gets the name it
lists for the same licence. Sources:
- Hugging Face: https://huggingface.co/docs/hub/repositories-licenses (the "License
  identifier" column; huggingface_hub's ModelCardData `license` docstring points there).
- Kaggle Models: kaggle-api docs/models_metadata.md, "Licenses" (`licenseName`), the
  value `kagglehub.model_upload(license_name=...)` passes on.
"""

from __future__ import annotations

from lealla.models.export.publishing import targets

DEFAULT = "apache-2.0"
HF_LICENSES = frozenset((
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0",
    "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0",
    "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1", "agpl-3.0", "gfdl", "gpl", "gpl-2.0",
    "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "lppl-1.3c", "ms-pl", "mpl-2.0", "odc-by",
    "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib", "pddl",
    "lgpl-lr", "deepfloyd-if-license", "llama2", "gemma", "unknown", "other",
))  # fmt: skip
# Hugging Face identifier -> Kaggle's name, for the licences both hubs list.
KAGGLE_NAMES = {
    "apache-2.0": "Apache 2.0",
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "cc0-1.0": "CC0: Public Domain",
    "cc-by-3.0": "Attribution 3.0 Unported (CC BY 3.0)",
    "cc-by-4.0": "Attribution 4.0 International (CC BY 4.0)",
    "cc-by-nd-4.0": "Attribution-NoDerivatives 4.0 International (CC BY-ND 4.0)",
    "cc-by-nc-4.0": "Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)",
    "cc-by-nc-nd-4.0": "Attribution-NonCommercial-NoDerivatives 4.0 International "
    "(CC BY-NC-ND 4.0)",
    "cc-by-nc-sa-4.0": "CC BY-NC-SA 4.0",
    "cc-by-sa-3.0": "CC BY-SA 3.0",
    "cc-by-sa-4.0": "CC BY-SA 4.0",
    "cdla-permissive-1.0": "Community Data License Agreement - Permissive - Version 1.0",
    "cdla-sharing-1.0": "Community Data License Agreement - Sharing - Version 1.0",
    "agpl-3.0": "GNU Affero General Public License 3.0",
    "lgpl-3.0": "GNU Lesser General Public License 3.0",
    "gpl-2.0": "GPL 2",
    "gpl-3.0": "GPL 3",
    "odc-by": "ODC Attribution License (ODC-By)",
    "pddl": "ODC Public Domain Dedication and Licence (PDDL)",
}
# Kaggle's licences without a Hugging Face identifier, accepted by their Kaggle name.
KAGGLE_ONLY = frozenset({
    "Attribution 3.0 IGO (CC BY 3.0 IGO)",
    "Attribution-NonCommercial-ShareAlike 3.0 IGO (CC BY-NC-SA 3.0 IGO)",
    "GNU Free Documentation License 1.3",
})  # fmt: skip


class LicenseError(ValueError):
    """A licence the hub does not accept (a usage error)."""


def for_hub(license: str, hub: str) -> str:
    """The hub's own spelling of `license`.

    Raises:
      LicenseError: the hub does not list it (the message says where the list is).
    """
    if hub == targets.HF:
        if license in HF_LICENSES:
            return license
        raise LicenseError(
            f"--license={license!r} is not a Hugging Face licence identifier (e.g. apache-2.0, "
            "mit, cc-by-4.0; the list: https://huggingface.co/docs/hub/repositories-licenses)"
        )
    if license in KAGGLE_NAMES:
        return KAGGLE_NAMES[license]
    if license in KAGGLE_ONLY or license in KAGGLE_NAMES.values():
        return license
    raise LicenseError(
        f"--license={license!r} is not a licence Kaggle Models accepts: give one of "
        + ", ".join(sorted(KAGGLE_NAMES))
        + " (or Kaggle's own name from kaggle-api docs/models_metadata.md)"
    )
