"""`lealla publish`: an export to Kaggle Models or the Hugging Face Hub, validated offline first.

  lealla publish --export=exports/lealla-small --to=kaggle:OWNER/MODEL/tensorFlow2/VARIATION
  lealla publish --export=exports/lealla-small --to=hf:OWNER/NAME [--private]
  lealla publish ... --dry_run     # stage + validate, print the folder and the upload call

The export is staged in the hub's layout (SavedModel at the root, LaBSE-format pair,
TFLite variants, the model card as README.md; Kaggle's metadata files / the Hugging Face
front matter), validated (card files, hub metadata, licence, a fresh-process load), then
uploaded in one call of the hub's own client (`pip install 'lealla[publish]'`).
Credentials: KAGGLE_USERNAME + KAGGLE_KEY or ~/.kaggle/kaggle.json; HF_TOKEN or
`hf auth login`.
"""

from __future__ import annotations

from absl import app, flags

flags.DEFINE_string("export", None, "The export folder (lealla export --out).")
flags.DEFINE_string(
    "to", None, "kaggle:OWNER/MODEL/tensorFlow2/VARIATION (Kaggle Models) or hf:OWNER/NAME."
)
flags.DEFINE_string(
    "license", "apache-2.0",
    "Licence, as a Hugging Face identifier (apache-2.0, mit, cc-by-4.0, ...); Kaggle gets "
    "its own name for it. Checked against the list the hub accepts.",
)  # fmt: skip
flags.DEFINE_string(
    "version_notes", "", "Kaggle: the version's notes. Hugging Face: the commit message."
)
flags.DEFINE_boolean(
    "private", False,
    "Hugging Face: create a private repository. Kaggle: the model page's isPrivate in "
    "model-metadata.json (kagglehub creates new models private either way).",
)  # fmt: skip
flags.DEFINE_boolean(
    "dry_run", False,
    "Stage and validate only: print the staged folder and the upload call; no client, "
    "credentials or network needed.",
)  # fmt: skip
flags.DEFINE_string(
    "staging_dir", None,
    "Where to stage (a new folder, kept); default: a temporary folder, kept after "
    "--dry_run and removed after an upload.",
)  # fmt: skip
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}")
    for name in ("export", "to"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required")
    # the command's work is imported once its flags are checked: --help and usage errors stay fast
    from lealla.models.export.publishing import licenses, publisher, staging, targets

    try:
        publisher.publish(
            FLAGS.export, FLAGS.to, license=FLAGS.license, version_notes=FLAGS.version_notes,
            private=FLAGS.private, dry_run=FLAGS.dry_run, staging_dir=FLAGS.staging_dir,
        )  # fmt: skip
    except (targets.TargetError, licenses.LicenseError, staging.StagingError) as e:
        raise app.UsageError(str(e)) from None


if __name__ == "__main__":
    app.run(main)
