"""The teacher cache as an Apache Beam pipeline on the local runner (2 worker processes):
the same files as the in-process path, data errors named, a failed run resumed."""

import filecmp
import functools
import os

import pytest
import tensorflow as tf

from lealla.data import corpus
from lealla.files import textio
from lealla.models.teachers import embedding_cache, loading
from lealla.shards import shard_runner
from tests.teachers import cache_faults

pytestmark = pytest.mark.large
LOCAL = shard_runner.RunnerConfig("local", num_workers=2)
CONFIG = embedding_cache.CacheConfig(shard_size=300, batch_size=64)


def _same_folders(a: str, b: str) -> None:
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b))
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)


@pytest.fixture(scope="module")
def use_m(use_m_module):
    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    return loading.load_teacher("use-multilingual")


@pytest.fixture(scope="module")
def inprocess_cache(use_m, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("inprocess") / "cache")
    embedding_cache.build_cache(use_m, corpus.resolve_sources("demo:train"), out, CONFIG)
    return out


def test_local_runner_writes_the_inprocess_cache_and_training_reads_it(
    use_m, inprocess_cache, tmp_path
):
    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller

    out = str(tmp_path / "cache")
    load = functools.partial(loading.load_teacher, "use-multilingual")
    manifest = embedding_cache.build_cache(
        use_m, corpus.resolve_sources("demo:train"), out, CONFIG, runner=LOCAL, load_teacher=load
    )
    assert manifest["complete"] and manifest["num_examples"] == 13 * 300
    _same_folders(out, inprocess_cache)  # byte for byte: shards, records, manifest
    config = DistillConfig().override(
        {
            "student.name": "tiny_test",
            "student.overrides": {"max_sequence_length": 32},
            "data.train_data": ("demo:train",),
            "data.dev_data": ("demo:dev",),
            "data.batch_size": 16,
            "data.seq_length": 32,
            "data.bucket_lengths": (32,),
            "optimizer.warmup_steps": 1,
            "trainer.steps": 3,
            "trainer.checkpoint_every": 3,
            "trainer.eval_every": 3,
            "trainer.log_every": 3,
            "teacher.cache": (out,),
        }
    )
    metrics = Distiller(config, str(tmp_path / "run"), tf.distribute.get_strategy()).train()
    assert metrics["step"] == 3


def test_a_worker_that_dies_leaves_only_whole_shards_and_a_rerun_finishes(
    use_m, inprocess_cache, use_m_module, tmp_path
):
    out = str(tmp_path / "cache")
    sources = corpus.resolve_sources("demo:train")
    dying = functools.partial(cache_faults.load_dying_once, use_m_module, str(tmp_path / "marker"))
    with pytest.raises(RuntimeError, match="pipeline failed: .*worker killed mid-shard"):
        embedding_cache.build_cache(use_m, sources, out, CONFIG, runner=LOCAL, load_teacher=dying)
    manifest = embedding_cache.read_manifest(out)
    assert not manifest["complete"]
    published = [n for n in os.listdir(out) if n.endswith(".tfrecord")]
    assert len(published) < 13, "the dead worker's shard was published"
    for name in published:  # every published shard is whole
        assert filecmp.cmp(os.path.join(out, name), os.path.join(inprocess_cache, name), False)
    load = functools.partial(loading.load_teacher, "use-multilingual")
    embedding_cache.build_cache(use_m, sources, out, CONFIG, runner=LOCAL, load_teacher=load)
    _same_folders(out, inprocess_cache)


def test_a_bad_line_is_named_as_the_inprocess_path_names_it(use_m, write, tmp_path):
    lines = [f"Satz {i}.\tSentence {i}.\n" for i in range(40)]
    lines[33] = "only one field\n"
    sources = corpus.resolve_sources(write("de-en.tsv", "".join(lines)))
    load = functools.partial(loading.load_teacher, "use-multilingual")
    config = embedding_cache.CacheConfig(shard_size=10)
    with pytest.raises(textio.CorpusError) as inprocess:
        embedding_cache.build_cache(use_m, sources, str(tmp_path / "a"), config)
    with pytest.raises(textio.CorpusError) as local:
        embedding_cache.build_cache(
            use_m, sources, str(tmp_path / "b"), config, runner=LOCAL, load_teacher=load
        )
    assert str(local.value) == str(inprocess.value)
    assert "de-en.tsv:34: expected 2 tab-separated fields, found 1" in str(local.value)
    skip = embedding_cache.CacheConfig(shard_size=10, on_bad_line="skip")
    manifest = embedding_cache.build_cache(
        use_m, sources, str(tmp_path / "c"), skip, runner=LOCAL, load_teacher=load
    )
    assert manifest["num_examples"] == 39
    assert manifest["skipped_lines"] == {"wrong field count": 1}
