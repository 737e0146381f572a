"""Mining the demo corpus's test split with the offline USE-m teacher recovers the pairs."""

import os

import numpy as np
import pytest

from lealla.data import demo_corpus
from lealla.mining import mine, neighbors


@pytest.fixture(scope="module")
def teacher(use_m_module):
    from lealla.models.teachers import loading

    old = os.environ.get("LEALLA_CACHE_DIR")
    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    try:
        yield loading.load_teacher("use-multilingual")
    finally:
        if old is None:
            os.environ.pop("LEALLA_CACHE_DIR")
        else:
            os.environ["LEALLA_CACHE_DIR"] = old


@pytest.mark.parametrize("method", ["exact", "scann"])
def test_demo_test_split_de_en_is_recovered(teacher, method):
    de = demo_corpus.read_split("test", "de")
    en = demo_corpus.read_split("test", "en")
    # Shuffle the target side so that the row index carries no answer.
    perm = np.random.default_rng(0).permutation(len(en))
    src = np.asarray(teacher.embed(de))
    tgt = np.asarray(teacher.embed([en[i] for i in perm]))
    pairs = mine.mine_pairs(src, tgt, k=4, mode="mutual",
                            search=lambda q, b, k: neighbors.knn_search(q, b, k, method=method))  # fmt: skip
    found = {(s, int(perm[t])) for s, t in zip(pairs.src.tolist(), pairs.tgt.tolist(), strict=True)}
    correct = sum(s == t for s, t in found)
    assert len(de) == 50
    assert correct >= 48 and len(found) - correct <= 1
    assert pairs.score.min() > 1.0
