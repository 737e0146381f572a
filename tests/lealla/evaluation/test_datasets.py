"""Downloads: offline message, atomic fetch, sha256 recorded then verified, BUCC extraction."""

import io
import json
import tarfile
import urllib.error

import pytest

from lealla.evaluation import datasets


def offline(url, timeout):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def serving(files):
    def opener(url, timeout):
        return io.BytesIO(files[url])

    return opener


def test_offline_message_and_nothing_left_behind(tmp_path):
    with pytest.raises(
        datasets.DatasetUnavailableError,
        match=r"cannot download https://raw.*tatoeba.deu-eng.deu \(\[Errno -3\].*place it at .*--data=DIR",
    ):
        datasets.download_tatoeba(["de"], str(tmp_path), opener=offline)
    assert [p.name for p in (tmp_path / "tatoeba").iterdir()] == []


def test_cached_files_are_used_offline_and_verified(tmp_path):
    url = datasets.TATOEBA_URL.format(code="deu", side="deu")
    urls = {url: b"Hallo\n", datasets.TATOEBA_URL.format(code="deu", side="eng"): b"Hello\n"}
    folder = datasets.download_tatoeba(["deu"], str(tmp_path), opener=serving(urls))
    record = json.loads((tmp_path / "tatoeba" / "checksums.json").read_text())
    assert record["tatoeba.deu-eng.deu"] == {
        "url": url,
        "sha256": datasets.sha256_file(f"{folder}/tatoeba.deu-eng.deu"),
    }
    # Cached: no network needed any more.
    assert datasets.download_tatoeba(["de"], str(tmp_path), opener=offline) == folder
    (tmp_path / "tatoeba" / "tatoeba.deu-eng.deu").write_bytes(b"tampered\n")
    with pytest.raises(
        ValueError, match=r"tatoeba.deu-eng.deu: sha256 .* differs from .* recorded"
    ):
        datasets.download_tatoeba(["de"], str(tmp_path), opener=offline)


def test_user_placed_file_is_recorded(tmp_path):
    folder = tmp_path / "tatoeba"
    folder.mkdir()
    for side in ("fra", "eng"):
        (folder / f"tatoeba.fra-eng.{side}").write_text("x\n")
    datasets.download_tatoeba(["fr"], str(tmp_path), opener=offline)
    assert set(json.loads((folder / "checksums.json").read_text())) == {
        "tatoeba.fra-eng.fra", "tatoeba.fra-eng.eng"}  # fmt: skip


def _bucc_archive():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for name, data in [("bucc2018/de-en/de-en.sample.de", b"de-1\tHund\n"),
                           ("bucc2018/de-en/de-en.sample.en", b"en-1\tdog\n"),
                           ("bucc2018/de-en/de-en.sample.gold", b"de-1\ten-1\n"),
                           ("../evil/de-en.sample.xx", b"no")]:  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_bucc_download_extracts_only_the_expected_files(tmp_path):
    url = datasets.BUCC_URL.format(lang="de", archive="sample-gold")
    folder = datasets.download_bucc(
        ["de"], "sample", str(tmp_path / "c"), opener=serving({url: _bucc_archive()})
    )
    names = sorted(p.name for p in (tmp_path / "c" / "bucc2018").iterdir())
    assert names == ["archives", "de-en.sample.de", "de-en.sample.en", "de-en.sample.gold"]
    assert (tmp_path / "c" / "bucc2018" / "de-en.sample.gold").read_bytes() == b"de-1\ten-1\n"
    assert not (tmp_path / "evil").exists()
    assert datasets.download_bucc(["de"], "sample", str(tmp_path / "c"), opener=offline) == folder
    with pytest.raises(ValueError, match="BUCC 2018 has de, fr, ru, zh-en, not 'ja'"):
        datasets.download_bucc(["ja"], root=str(tmp_path))
