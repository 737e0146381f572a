"""lealla.shards.output (manifest, identity, records, resume, debris) and atomic writes."""

import ast
import json
import os

import pytest

from lealla.files import atomic, fileio
from lealla.shards import output
from lealla.shards.line_shards import LineShard


class ToyMismatchError(ValueError):
    pass


def _read(folder: str) -> dict:
    with open(os.path.join(folder, output.MANIFEST), encoding="utf-8") as f:
        return json.load(f)


def _mismatch(out_dir: str, old: dict, new: dict) -> ToyMismatchError:
    keys = output.differing_keys(old, new)
    return ToyMismatchError(f"{out_dir}: {', '.join(keys)} differ")


TOY = output.OutputKind("toy", _read, _mismatch, header=(("format", "toy"),), verify=True)


def _publish_shard(folder: str, name: str, data: bytes) -> dict:
    path = os.path.join(folder, f"{name}.bin")
    atomic.atomic_write_bytes(path, data)
    size, sha256 = fileio.sha256(path)
    record = {"file": f"{name}.bin", "count": 1, "bytes": size, "sha256": sha256}
    output.write_record(folder, name, record)
    return record


def test_identity_mismatch_names_what_differs_and_keeps_the_folder(tmp_path):
    out = str(tmp_path / "out")
    output.open_output(out, {"encoder": "a", "dim": 8}, TOY)
    _publish_shard(out, "000-00000", b"x")
    with pytest.raises(ToyMismatchError, match=r"out: dim, encoder differ"):
        output.open_output(out, {"encoder": "b", "dim": 4}, TOY)
    assert os.path.exists(os.path.join(out, "000-00000.bin"))
    # Asked to, another identity starts over: our shard files go, the manifest is new.
    manifest = output.open_output(out, {"encoder": "b"}, TOY, replace_mismatch=True)
    assert manifest == {
        "format": "toy", "identity": {"encoder": "b"}, "shards": [], "complete": False
    }  # fmt: skip
    assert sorted(os.listdir(out)) == [output.MANIFEST]


def test_cache_mismatch_message_names_each_difference():
    from lealla.models.teachers.embedding_cache import identity

    error = identity.mismatch("c", {"dtype": "float16", "corpus": [1]}, {"dtype": "float32"})
    assert isinstance(error, identity.CacheMismatchError)
    assert str(error) == (
        "the cache at c was built differently: corpus: the files' names, sizes or contents "
        "changed; dtype: cache has 'float16', asked 'float32'; use another --out or pass "
        "--overwrite"
    )


def test_resume_keeps_complete_shards_and_rebuilds_a_damaged_one(tmp_path):
    out = str(tmp_path / "out")
    identity = {"encoder": "a"}
    output.open_output(out, identity, TOY)
    first = _publish_shard(out, "000-00000", b"first")
    _publish_shard(out, "000-00001", b"second")
    with open(os.path.join(out, "000-00001.bin"), "ab") as f:
        f.write(b"!")  # altered after its record was written
    manifest = output.open_output(out, identity, TOY)
    assert manifest["complete"] is False
    assert output.published_records(out) == [first]
    assert not os.path.exists(output.record_path(out, "000-00001"))

    # A finished output of the same identity is returned as it is.
    finished = output.completed(manifest, output.published_records(out), "num_things")
    output.write_manifest(out, finished)
    assert output.open_output(out, identity, TOY) == finished
    assert finished["num_things"] == 1 and finished["skipped_lines"] == {}


def test_recorded_shards_are_done_once_their_record_is_published(tmp_path):
    class Job(output.RecordedShards):
        out_dir = str(tmp_path)

    shard = LineShard(source=0, index=3, first_line=30, num_lines=10, offsets=(0,))
    job = Job()
    name = shard.name
    assert name == "000-00003"
    assert not job.is_done(shard)
    job.write_record(shard, {"file": f"{name}.bin", "count": 0})
    assert job.is_done(shard) and job.record(shard)["count"] == 0


def test_resume_removes_only_our_temp_names(tmp_path):
    out = str(tmp_path / "out")
    identity = {"encoder": "a"}
    output.open_output(out, identity, TOY)
    debris = [
        f".000-00000.bin{fileio.TEMP_MARK}x1y2",  # atomic.built_aside's
        f"000-00001.json{fileio.TEMP_MARK}42",
        "000-00004.tfrecord.tmp",  # what older versions built aside
    ]
    kept = ["notes.txt", "000-00002.bin.bak", "x.tmp"]  # names we never build aside
    for name in [*debris, *kept]:
        (tmp_path / "out" / name).write_bytes(b"partial")
    output.open_output(out, identity, TOY)
    assert sorted(os.listdir(out)) == sorted([output.MANIFEST, *kept])


def test_atomic_write_leaves_no_partial_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "shard.npy"
    target.write_bytes(b"old")
    with (
        pytest.raises(RuntimeError, match="killed"),
        atomic.built_aside(str(target)) as tmp,
        open(tmp, "wb") as f,
    ):
        f.write(b"half of the new")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["shard.npy"]
    atomic.atomic_write_json(str(tmp_path / "r.json"), {"a": [1]})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [1]}
    assert sorted(os.listdir(tmp_path)) == ["r.json", "shard.npy"]


def test_beam_pipeline_does_not_import_the_runner():
    import lealla.shards

    folder = os.path.dirname(lealla.shards.__file__)
    with open(os.path.join(folder, "beam_pipeline.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "shard_runner" not in imported
