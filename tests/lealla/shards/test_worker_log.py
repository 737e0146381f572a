"""Beam workers' output goes to a log in a private, unpredictable folder, never through a
planted link, and the folder goes when the run succeeded."""

import os
import re
import stat
import tempfile

import pytest

from lealla.shards import shard_runner
from lealla.ui import quiet


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    monkeypatch.delenv(quiet.VERBOSE_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # Where the log used to go: a link planted there must never be written through.
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    os.symlink(target, tmp_path / f"lealla-beam-{os.getpid()}.log")
    return tmp_path, target


def _run(out_dir, run_it):
    config = shard_runner.RunnerConfig("local", 1, ())
    shard_runner.run_pipeline(run_it, str(out_dir), config, "testing", [], unit="parts")


def test_a_successful_run_leaves_no_log(private_tmp):
    root, target = private_tmp
    (root / "out").mkdir()
    _run(root / "out", lambda: os.write(2, b"worker noise\n"))
    assert sorted(os.listdir(root)) == [f"lealla-beam-{os.getpid()}.log", "out", "victim.txt"]
    assert target.read_text() == "precious\n"


def test_a_failed_run_names_its_private_log(private_tmp):
    root, target = private_tmp
    (root / "out").mkdir()

    def failing():
        os.write(2, b"worker noise\n")
        raise ValueError("boom")

    with pytest.raises(RuntimeError, match=r"pipeline failed: boom") as error:
        _run(root / "out", failing)
    log = re.search(r"workers' log: (\S+);", str(error.value)).group(1)
    folder = os.path.dirname(log)
    assert os.path.dirname(folder) == str(root) and folder != str(root)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    with open(log) as f:
        assert "worker noise" in f.read()
    assert target.read_text() == "precious\n"


def test_the_log_is_never_opened_through_a_link(private_tmp):
    root, target = private_tmp
    link = root / "link.log"
    os.symlink(target, link)
    with pytest.raises(OSError), quiet.worker_output_to(str(link)):
        os.write(2, b"must not reach the target\n")
    assert target.read_text() == "precious\n"
