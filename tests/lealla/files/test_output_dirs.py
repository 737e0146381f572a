"""output_dirs: which folders a command may replace, refused targets, locks, debris."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from lealla.files import output_dirs

KINDS = {
    "export": (output_dirs.EXPORT, {"lealla_export.json": {"embedding_dim": 8},
                                    "saved_model.pb": b"pb", "variables/v.index": b"v",
                                    "model_float16.tflite": b"t"}),
    "mined": (output_dirs.MINED, {"summary.json": {"pairs": 1, "files": ["pairs-00000.tsv"]},
                                  "pairs-00000.tsv": b"1\ta\tb\n", "scores.png": b"png"}),
    "embeddings": (output_dirs.EMBEDDINGS, {
        "manifest.json": {"format": "lealla-embeddings", "identity": {}, "shards": []},
        "000-00000.npy": b"x", "000-00000.index.npy": b"x", "000-00000.json": {}}),
    "cache": (output_dirs.CACHE, {"manifest.json": {"identity": {}, "shards": []},
                                  "000-00000.tfrecord": b"x"}),
    "demo": (output_dirs.DEMO, {"lealla_demo.json": {"format": "lealla-demo"},
                                "model/distill_config.json": {}, "report/report.md": b"r"}),
    "run": (output_dirs.RUN, {"distill_config.json": {"student": "tiny_test"},
                              "checkpoints/ckpt-1.index": b"c"}),
    "vocab": (output_dirs.PRUNED_VOCAB, {"pruning.json": {"original_size": 9, "size": 5},
                                         "vocab.txt": b"a\n", "old_ids.npy": b"x"}),
}  # fmt: skip


def _make(root, files):
    for name, content in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        with open(path, "wb") as f:
            f.write(data)
    return str(root)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_folder_is_replaceable_only_when_wholly_its_commands(tmp_path, name):
    kind, files = KINDS[name]
    ours = _make(tmp_path / "ours", files)
    output_dirs.check_replaceable(ours, kind)  # marker + only its own names
    output_dirs.check_replaceable(str(tmp_path / "absent"), kind)
    # Debris of a killed run (temp names, a lock file) does not make a folder foreign.
    _make(
        tmp_path / "ours", {f"x{output_dirs.TEMP_MARK}1": b"", f".a{output_dirs.LOCK_SUFFIX}": b""}
    )
    output_dirs.check_replaceable(ours, kind)
    _make(tmp_path / "ours", {"notes.txt": b"mine"})
    with pytest.raises(output_dirs.NotOursError, match=r"ours holds notes.txt, which `lealla "):
        output_dirs.check_replaceable(ours, kind)
    unmarked = {k: v for k, v in files.items() if k not in kind.markers}
    victim = _make(tmp_path / "victim", unmarked)
    first = sorted(os.listdir(victim))[0]
    with pytest.raises(output_dirs.NotOursError, match=rf"victim holds {first}, which"):
        output_dirs.check_replaceable(victim, kind)


def test_a_marker_must_be_of_our_format(tmp_path):
    folder = _make(tmp_path / "cfg", {"manifest.json": {"name": "my-app"}})  # a user's manifest
    for kind in (output_dirs.EMBEDDINGS, output_dirs.CACHE):
        with pytest.raises(output_dirs.NotOursError, match="holds manifest.json"):
            output_dirs.check_replaceable(folder, kind)
        with pytest.raises(output_dirs.NotOursError, match="no manifest.json says"):
            output_dirs.check_fillable(folder, kind)
    (tmp_path / "cfg" / "manifest.json").write_text("{not json")
    assert not output_dirs.has_marker(folder, output_dirs.CACHE)


def test_files_and_symlinks_are_never_replaced(tmp_path):
    file = tmp_path / "report.pdf"
    file.write_bytes(b"%PDF")
    with pytest.raises(output_dirs.NotOursError, match=r"--out=.*report.pdf is a file"):
        output_dirs.check_replaceable(str(file), output_dirs.EXPORT)
    with pytest.raises(output_dirs.NotOursError, match="is a file"):
        output_dirs.check_fillable(str(file), output_dirs.CACHE)
    export = _make(tmp_path / "export", KINDS["export"][1])
    link = tmp_path / "link"
    link.symlink_to(export)
    with pytest.raises(output_dirs.NotOursError, match="is a symlink"):
        output_dirs.check_replaceable(str(link), output_dirs.EXPORT)


def test_fillable_folders_new_empty_or_marked(tmp_path):
    kind, files = KINDS["embeddings"]
    output_dirs.check_fillable(str(tmp_path / "new"), kind)
    (tmp_path / "empty").mkdir()
    output_dirs.check_fillable(str(tmp_path / "empty"), kind)
    marked = _make(tmp_path / "marked", {**files, "notes.txt": b"left alone"})
    output_dirs.check_fillable(marked, kind)  # resumed; its foreign file is not touched
    victim = _make(tmp_path / "victim", {"2024-01-report.pdf": b"%PDF", "10-20.csv": b"a,b"})
    with pytest.raises(
        output_dirs.NotOursError,
        match=r"victim holds 10-20.csv, and no "
        r"manifest.json says `lealla embed`",
    ):
        output_dirs.check_fillable(victim, kind)


def test_refused_targets(tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "home" / "work"
    cwd.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    data = tmp_path / "data"
    data.mkdir()
    (data / "en.txt").write_text("x\n")
    (tmp_path / "alias").symlink_to(data / "en.txt")
    inputs = [("--tgt", str(data / "en.txt")), ("--model_dir", str(tmp_path / "run"))]
    refused = {
        "/": "is the root folder",
        ".": "is the current folder",
        str(cwd) + "/": "is the current folder",
        "..": "is your home folder",
        str(tmp_path): "contains your home folder",
        str(data / "en.txt"): r"is also --tgt=.*en.txt: the output must not touch",
        str(tmp_path / "alias"): r"is also --tgt",
        str(data): r"contains --tgt=",
        str(tmp_path / "run"): r"is also --model_dir=",
        str(tmp_path / "run" / "export"): r"is inside --model_dir=",
    }
    for path, message in refused.items():
        with pytest.raises(output_dirs.UnsafeOutputError, match=rf"--out={path} {message}"):
            output_dirs.check_target(path, "--out", inputs)
    for path in ("export", str(tmp_path / "exports" / "x"), "gs://bucket/out", str(data) + "2"):
        output_dirs.check_target(path, "--out", inputs)


_HOLDER = textwrap.dedent("""
    import sys, time
    from lealla.files import output_dirs
    output_dirs.acquire(sys.argv[1])
    print("held", flush=True)
    time.sleep(120)
""")


def test_a_second_process_is_refused_until_the_holder_dies(tmp_path):
    folder = str(tmp_path / "out")
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, folder], stdout=subprocess.PIPE,
                              text=True, env=env)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(output_dirs.FolderInUseError,
                           match=rf"{folder} is in use by another lealla process "
                                 rf"\(pid {holder.pid}\)"):  # fmt: skip
            output_dirs.acquire(folder)
    finally:
        holder.kill()  # kill -9: the OS drops the lock, nothing stale is left to clear
        holder.wait()
    with output_dirs.locked(folder):
        with output_dirs.locked(folder):  # re-entrant within one process
            assert os.path.exists(output_dirs.lock_path(folder))
        assert os.path.exists(output_dirs.lock_path(folder))
    assert os.listdir(tmp_path) == []  # the lock file goes with its last holder


def test_locks_create_no_folder_they_leave_behind_and_follow_no_symlink(tmp_path):
    with output_dirs.locked(str(tmp_path / "a" / "b" / "out")):
        assert os.path.isdir(tmp_path / "a" / "b")
    assert os.listdir(tmp_path) == []
    target = tmp_path / "settings.json"
    target.write_text('{"keep": true}')
    os.symlink(target, output_dirs.lock_path(str(tmp_path / "out")))
    with pytest.raises(OSError):
        output_dirs.acquire(str(tmp_path / "out"))
    assert target.read_text() == '{"keep": true}'


def test_debris_removal_takes_only_our_names(tmp_path):
    mark = output_dirs.TEMP_MARK
    folder = _make(tmp_path / "cache", {
        f"000-00001.tfrecord{mark}123": b"", f".manifest.json{mark}abcd": b"",
        "000-00002.tfrecord.tmp-99": b"", ".manifest.json.k3j4h5g6.tmp": b"",  # older versions'
        "report.tmp-2024.txt": b"keep", "backup.tfrecord": b"keep", "notes.tmp": b"keep",
        "10-20.csv": b"keep",
    })  # fmt: skip
    removed = output_dirs.remove_debris(folder)
    assert len(removed) == 4
    assert sorted(os.listdir(folder)) == [
        "10-20.csv", "backup.tfrecord", "notes.tmp", "report.tmp-2024.txt"]  # fmt: skip
    beside = [f"export{mark}12-0123abcd", "export.lealla-old-12-89abcdef", "export.tmp-7-0123abcd"]
    kept = [f"export.v2{mark}12-0123abcd", "export.tmp-notes", "export-old"]
    for name in beside + kept:
        (tmp_path / name).mkdir()
    assert sorted(map(os.path.basename, output_dirs.remove_debris_beside(str(tmp_path / "export")))) \
        == sorted(beside)  # fmt: skip
    assert sorted(set(os.listdir(tmp_path)) - {"cache"}) == sorted(kept)


def test_replace_folder_replaces_ours_and_refuses_anything_else(tmp_path):
    out = _make(tmp_path / "mined", KINDS["mined"][1])
    staged = _make(tmp_path / "staged", {**KINDS["mined"][1], "pairs-00001.tsv": b"new"})
    output_dirs.replace_folder(staged, out, output_dirs.MINED)
    assert sorted(os.listdir(tmp_path)) == ["mined"]
    assert (tmp_path / "mined" / "pairs-00001.tsv").read_bytes() == b"new"
    (tmp_path / "mined" / "notes.txt").write_text("mine")
    staged = _make(tmp_path / "staged", KINDS["mined"][1])
    with pytest.raises(output_dirs.NotOursError, match="holds notes.txt"):
        output_dirs.replace_folder(staged, out, output_dirs.MINED)
    assert (tmp_path / "mined" / "notes.txt").read_text() == "mine"
    with pytest.raises(output_dirs.NotOursError, match="holds notes.txt"):
        output_dirs.remove_folder(out, output_dirs.MINED)
    assert (tmp_path / "mined" / "notes.txt").read_text() == "mine"
    demo = _make(tmp_path / "demo", KINDS["demo"][1])  # `lealla demo --fresh` on its own folder
    output_dirs.remove_folder(demo, output_dirs.DEMO)
    assert not os.path.exists(demo)


def test_created_folders_go_again_when_the_block_fails(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(KeyboardInterrupt), output_dirs.created(str(tmp_path / "kept" / "a" / "b")):
        assert os.path.isdir(tmp_path / "kept" / "a" / "b")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []
    with output_dirs.created(str(tmp_path / "kept" / "c")):
        pass
    assert os.listdir(tmp_path / "kept") == ["c"]


def test_check_writable_creates_no_folder(tmp_path):
    output_dirs.check_writable(str(tmp_path / "a" / "b" / "out.tsv"))
    assert os.listdir(tmp_path) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="cannot write there"):
        output_dirs.check_writable(str(tmp_path / "file" / "out"))
