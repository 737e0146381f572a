"""The examples in the docstrings of what `lealla` exports run as written.

They run in a scratch folder that holds evaluation sets in the public formats, built
from the demo corpus (`tatoeba/`, `bucc/`, `un/`), with the offline USE-m teacher.
Training and exporting take minutes: those two examples are large tests.
"""

import doctest
import importlib
import os

import numpy as np
import pytest

import lealla
from lealla.data import demo_corpus

SLOW = {"distill", "export"}  # they train and export a model
NAMES = sorted(set(lealla.__all__) - SLOW)


def _write_eval_sets(root) -> None:
    en = demo_corpus.read_split("test", "en")
    (root / "tatoeba").mkdir()
    for lang, code in (("de", "deu"), ("fr", "fra")):
        for side, lines in ((code, demo_corpus.read_split("test", lang)), ("eng", en)):
            path = root / "tatoeba" / f"tatoeba.{code}-eng.{side}"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # BUCC: the 50 German test sentences against their translations shuffled among 50
    # unrelated English sentences; 40 of the true pairs are gold.
    (root / "bucc").mkdir()
    pool = en + demo_corpus.read_split("dev", "en")
    order = np.random.default_rng(0).permutation(len(pool))
    de = demo_corpus.read_split("test", "de")
    files = {
        "de": "".join(f"de-{i}\t{s}\n" for i, s in enumerate(de)),
        "en": "".join(f"en-{j}\t{pool[j]}\n" for j in order),
        "gold": "".join(f"de-{i}\ten-{i}\n" for i in range(40)),
    }
    for ext, text in files.items():
        (root / "bucc" / f"de-en.sample.{ext}").write_text(text, encoding="utf-8")
    (root / "un").mkdir()
    for lang in ("en", "es"):
        lines = demo_corpus.read_split("test", lang)
        (root / "un" / f"UNv1.0.testset.{lang}").write_text("\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctests")
    _write_eval_sets(root)
    return root


_TEACHERS: dict = {}


@pytest.fixture
def in_scratch(scratch, use_m_module, monkeypatch, tmp_path):
    """A fresh working folder per example (its outputs do not meet), the sets linked in;
    each teacher module is loaded once for all examples (the loading is not what they show)."""
    from lealla.models.teachers import loading

    for name in ("tatoeba", "bucc", "un"):
        os.symlink(scratch / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEALLA_CACHE_DIR", os.path.dirname(os.path.dirname(use_m_module)))
    real = loading.load_teacher

    def load_once(spec, *args, **kwargs):
        if args or kwargs:
            return real(spec, *args, **kwargs)
        if spec not in _TEACHERS:
            _TEACHERS[spec] = real(spec)
        return _TEACHERS[spec]

    monkeypatch.setattr(loading, "load_teacher", load_once)
    return tmp_path


def _examples(obj, name: str, globs: dict) -> list[doctest.DocTest]:
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs=globs)
    return [t for t in tests if t.examples]


def _run(obj, name: str, globs: dict | None = None) -> None:
    tests = _examples(obj, name, dict(globs or {}))
    assert tests, f"lealla.{name} has no docstring example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) of lealla.{name} failed (see above)"


def test_every_exported_name_has_an_example():
    missing = [name for name in lealla.__all__ if not _examples(getattr(lealla, name), name, {})]
    assert not missing, f"no docstring example: {missing}"


def test_the_package_example(in_scratch):
    _run(importlib.import_module("lealla"), "lealla")


@pytest.mark.parametrize("name", NAMES)
def test_example(name, in_scratch):
    _run(getattr(lealla, name), name)


@pytest.mark.large  # trains two steps and exports (minutes on 2 cores)
def test_training_examples(in_scratch, trained_run):
    _run(lealla.distill, "distill")
    _run(lealla.export, "export", {"model_dir": trained_run[0]})
