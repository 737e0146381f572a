"""Downloads of the public evaluation sets into a cache, with sha256 recorded and checked.

No checksum is shipped: we could not download the sets when this was written, and an
unverified constant would be worse than none. The first download (or a file a user
places in the cache by hand) records its sha256 in `checksums.json` beside the files;
every later use verifies the file against that record.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import BinaryIO

from absl import logging

from lealla.data import languages as languages_lib
from lealla.files import atomic, json_shape

TATOEBA_URL = (
    "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/"
    "tatoeba.{code}-eng.{side}"
)
# The languages of the toolkit's offline teacher and demo corpus; pass others explicitly.
TATOEBA_DEFAULT_LANGUAGES = (
    "deu",
    "fra",
    "spa",
    "ita",
    "por",
    "nld",
    "pol",
    "rus",
    "tur",
    "ara",
    "cmn",
    "jpn",
    "kor",
    "tha",
)
BUCC_URL = "https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{archive}.tar.bz2"
BUCC_LANGUAGES = ("de", "fr", "ru", "zh")
BUCC_ARCHIVES = {"sample": "sample-gold", "training": "training-gold", "test": "test"}
CHECKSUMS_FILE = "checksums.json"
DOWNLOAD_TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20

# (url, timeout) -> a readable binary response; urllib by default, a fake in tests.
Opener = Callable[[str, float], BinaryIO]


class DatasetUnavailableError(RuntimeError):
    """A dataset file is not cached and cannot be downloaded (e.g. no network)."""


def cache_root() -> str:
    """`datasets/` under $LEALLA_CACHE_DIR, else $XDG_CACHE_HOME/lealla, else ~/.cache/lealla
    (the teachers' cache root)."""
    base = os.environ.get("LEALLA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "lealla",
    )
    return os.path.join(base, "datasets")


def fetch(url: str, dest: str, *, opener: Opener | None = None) -> str:
    """Returns `dest`, downloading `url` there first unless it is already cached.

    The download goes to a temp file in the same folder and is renamed into place only
    when complete. Its sha256 is recorded in the folder's checksums.json; a cached file
    whose sha256 differs from the record is an error (delete it to download again).

    Raises:
      DatasetUnavailableError: not cached and the download failed (offline, HTTP error).
      ValueError: a file's sha256 differs from the one recorded for it.
    """
    folder = os.path.dirname(os.path.abspath(dest))
    record_path = os.path.join(folder, CHECKSUMS_FILE)
    record = _read_record(record_path)
    name = os.path.basename(dest)
    if os.path.isfile(dest):
        digest = sha256_file(dest)
        _check(record, name, digest, dest, url)
    else:
        digest = _download(url, dest, opener or _urlopen)
        try:
            _check(record, name, digest, dest, url)
        except ValueError:
            os.remove(dest)
            raise
    if name not in record:
        record[name] = {"url": url, "sha256": digest}
        atomic.atomic_write_text(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
        logging.info("recorded sha256 %s for %s", digest, dest)
    return dest


def download_tatoeba(
    languages: Sequence[str] | None = None, root: str | None = None, *, opener: Opener | None = None
) -> str:
    """Fetches tatoeba.xxx-eng.{xxx,eng} from the LASER repository into `root`/tatoeba.

    Args:
      languages: codes ("deu" or "de"); default TATOEBA_DEFAULT_LANGUAGES.
      root: the cache root (default `cache_root()`).
      opener: the URL opener (tests).

    Returns:
      The folder, ready for `tatoeba.evaluate_tatoeba`.
    """
    folder = os.path.join(root or cache_root(), "tatoeba")
    for code in languages or TATOEBA_DEFAULT_LANGUAGES:
        iso = languages_lib.iso3(languages_lib.normalize_language(code, context="--languages"))
        for side in (iso, "eng"):
            url = TATOEBA_URL.format(code=iso, side=side)
            fetch(url, os.path.join(folder, f"tatoeba.{iso}-eng.{side}"), opener=opener)
    return folder


def download_bucc(
    languages: Sequence[str] | None = None,
    split: str = "sample",
    root: str | None = None,
    *,
    opener: Opener | None = None,
) -> str:
    """Fetches the BUCC 2018 archives of `split` and extracts xx-en.{split}.{xx,en,gold}.

    Only those three files per language are taken from each archive, by base name, so
    nothing is written outside the folder whatever the archive contains.

    Returns:
      The folder `root`/bucc2018, ready for `bucc.evaluate_bucc`.
    """
    if split not in BUCC_ARCHIVES:
        raise ValueError(f"split must be one of {tuple(BUCC_ARCHIVES)}, got {split!r}")
    folder = os.path.join(root or cache_root(), "bucc2018")
    for code in languages or BUCC_LANGUAGES:
        lang = languages_lib.normalize_language(code, context="--languages")
        if lang not in BUCC_LANGUAGES:
            raise ValueError(f"BUCC 2018 has {', '.join(BUCC_LANGUAGES)}-en, not {code!r}")
        wanted = {f"{lang}-en.{split}.{side}" for side in (lang, "en", "gold")}
        if split == "test":
            wanted.discard(f"{lang}-en.test.gold")  # the test gold is not public
        if all(os.path.isfile(os.path.join(folder, w)) for w in wanted):
            continue
        archive_name = f"bucc2018-{lang}-en.{BUCC_ARCHIVES[split]}.tar.bz2"
        url = BUCC_URL.format(lang=lang, archive=BUCC_ARCHIVES[split])
        archive = fetch(url, os.path.join(folder, "archives", archive_name), opener=opener)
        _extract(archive, wanted, folder)
    return folder


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: str, opener: Opener) -> str:
    logging.info("downloading %s", url)
    digest = hashlib.sha256()
    try:
        with (
            atomic.built_aside(dest) as tmp,
            open(tmp, "wb") as out,
            opener(url, DOWNLOAD_TIMEOUT_SECONDS) as response,
        ):
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise DatasetUnavailableError(
            f"cannot download {url} ({getattr(e, 'reason', e)}). Without network access, "
            f"fetch it on another machine and place it at {dest}, or pass --data=DIR with "
            "the files in the same format."
        ) from None
    return digest.hexdigest()


def _urlopen(url: str, timeout: float) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=timeout)


def _read_record(path: str) -> dict[str, dict[str, str]]:
    if not os.path.isfile(path):
        return {}
    return json_shape.read_json_object(path, advice="; delete it to re-record")


def _check(record: dict, name: str, digest: str, dest: str, url: str) -> None:
    expected = record.get(name, {}).get("sha256")
    if expected is not None and expected != digest:
        raise ValueError(
            f"{dest}: sha256 {digest} differs from {expected} recorded when it was first "
            f"fetched (from {url}); the file changed or is corrupt: delete it to download again"
        )


def _extract(archive: str, wanted: set[str], folder: str) -> None:
    found = set()
    with tarfile.open(archive, "r:bz2") as tar:
        for member in tar:
            name = os.path.basename(member.name)
            if member.isfile() and name in wanted and re.fullmatch(r"[\w.-]+", name):
                atomic.atomic_write_bytes(
                    os.path.join(folder, name), tar.extractfile(member).read()
                )
                found.add(name)
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"{archive}: has no {', '.join(missing)}")
