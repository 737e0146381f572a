"""atomic.folder_built_aside: a folder is whole under its name or absent."""

import os
import stat

import pytest

from lealla.files import atomic, fileio, output_dirs


def test_a_folder_appears_whole_when_the_block_ends(tmp_path):
    dest = tmp_path / "sub" / "module"
    with atomic.folder_built_aside(str(dest)) as tmp:
        assert not dest.exists()
        assert os.path.basename(tmp).startswith(f"module{fileio.TEMP_MARK}")
        (tmp_path / "sub" / os.path.basename(tmp) / "weights.bin").write_bytes(b"w")
    assert (dest / "weights.bin").read_bytes() == b"w"
    assert os.listdir(tmp_path / "sub") == ["module"]
    mode = stat.S_IMODE(dest.stat().st_mode)
    assert mode == 0o777 & ~atomic.current_umask()  # not mkdtemp's 0700


def test_a_killed_build_is_debris_the_next_writer_removes(tmp_path, monkeypatch):
    dest = tmp_path / "module"
    monkeypatch.setattr(atomic.shutil, "rmtree", lambda *a, **k: None)  # killed: no clean-up
    with pytest.raises(KeyboardInterrupt), atomic.folder_built_aside(str(dest)) as tmp:
        (tmp_path / os.path.basename(tmp) / "half.bin").write_bytes(b"h")
        raise KeyboardInterrupt
    monkeypatch.undo()
    assert output_dirs.remove_debris_beside(str(dest)) == [tmp]
    assert os.listdir(tmp_path) == []


def test_a_failed_build_leaves_nothing(tmp_path):
    dest = tmp_path / "module"
    with pytest.raises(RuntimeError), atomic.folder_built_aside(str(dest)) as tmp:
        (tmp_path / os.path.basename(tmp) / "half.bin").write_bytes(b"h")
        raise RuntimeError("killed")
    assert os.listdir(tmp_path) == []


def test_a_folder_another_process_finished_is_kept(tmp_path):
    dest = tmp_path / "module"

    def finished(path):
        return os.path.isfile(os.path.join(path, "done"))

    with atomic.folder_built_aside(str(dest), done=finished) as tmp:
        (tmp_path / os.path.basename(tmp) / "ours").write_text("ours")
        dest.mkdir()
        (dest / "done").write_text("theirs")
    assert sorted(os.listdir(dest)) == ["done"] and os.listdir(tmp_path) == ["module"]


def test_an_unfinished_folder_in_the_way_is_an_error_and_kept(tmp_path):
    dest = tmp_path / "module"
    with pytest.raises(OSError), atomic.folder_built_aside(str(dest), done=lambda p: False) as tmp:
        (tmp_path / os.path.basename(tmp) / "ours").write_text("ours")
        dest.mkdir()
        (dest / "users_file").write_text("keep")
    assert (dest / "users_file").read_text() == "keep" and os.listdir(tmp_path) == ["module"]
