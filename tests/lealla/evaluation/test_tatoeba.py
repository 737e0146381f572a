"""Tatoeba: discovery of languages, validation errors, accuracy on a hand-checked case."""

import numpy as np
import pytest

from lealla.embeddings.text_encoder import BatchEncoder
from lealla.evaluation import tatoeba
from lealla.files import textio

# Embeddings keyed by sentence: "b" (deu) is closest to "x" (eng), not its own pair "y".
VECTORS = {
    "a": [1, 0, 0], "b": [0.9, 0.1, 0], "c": [0, 0, 1],   # deu
    "x": [1, 0.05, 0], "y": [0, 1, 0], "z": [0, 0.1, 1],  # eng
}  # fmt: skip


def fake_embed(texts):
    v = np.array([VECTORS[t] for t in texts], np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


FAKE = BatchEncoder("fake", 3, fake_embed)


@pytest.fixture
def data(write, tmp_path):
    write("tatoeba.deu-eng.deu", "a\nb\nc\n")
    write("tatoeba.deu-eng.eng", "x\ny\nz\n")
    write("README.md", "not a tatoeba file\n")
    return str(tmp_path)


def test_hand_checked_accuracy(data):
    report = tatoeba.evaluate_tatoeba(FAKE, data)
    (result,) = report.results
    # deu->eng: a->x ok, b->x wrong, c->z ok = 2/3; eng->deu: x->a ok, y->b ok, z->c ok.
    assert result.language == "deu"
    assert result.details["xx_to_en"] == pytest.approx(2 / 3)
    assert result.details["en_to_xx"] == pytest.approx(1.0)
    assert report.average == pytest.approx(5 / 6)
    assert report.to_dict()["per_language"] == {"deu": pytest.approx(5 / 6, abs=1e-6)}


def test_languages_by_any_code(data):
    assert tatoeba.select_languages(["deu", "fra"], ["de"]) == ["deu"]
    assert tatoeba.select_languages(["deu", "fra"], ["fra", "deu"]) == ["fra", "deu"]
    with pytest.raises(ValueError, match="Unknown language code 'xx1' in --languages"):
        tatoeba.select_languages(["deu"], ["xx1"])
    with pytest.raises(FileNotFoundError, match=r"no Tatoeba files for 'ita' \(ita\); found: deu"):
        tatoeba.evaluate_tatoeba(FAKE, data, ["ita"])


def test_mismatched_line_counts(write, tmp_path):
    write("tatoeba.fra-eng.fra", "a\nb\n")
    write("tatoeba.fra-eng.eng", "x\ny\nz\n")
    with pytest.raises(
        textio.CorpusError, match=r"tatoeba.fra-eng.fra: has 2 lines but .*eng has 3"
    ):
        tatoeba.evaluate_tatoeba(FAKE, str(tmp_path))


def test_missing_side_and_empty_folder(write, tmp_path):
    write("tatoeba.fra-eng.fra", "a\n")
    with pytest.raises(
        FileNotFoundError, match=r"fra-eng is incomplete: missing .*tatoeba.fra-eng.eng"
    ):
        tatoeba.find_languages(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no Tatoeba files"):
        tatoeba.find_languages(str(empty))
    with pytest.raises(FileNotFoundError, match="Tatoeba folder not found"):
        tatoeba.find_languages(str(tmp_path / "nope"))


def test_bad_utf8_and_empty_line_name_file_and_line(write, tmp_path):
    write("tatoeba.deu-eng.deu", b"a\n\xc3\x28\n")
    write("tatoeba.deu-eng.eng", "x\ny\n")
    with pytest.raises(textio.CorpusError, match=r"tatoeba.deu-eng.deu:2: invalid UTF-8"):
        tatoeba.evaluate_tatoeba(FAKE, str(tmp_path))
    write("tatoeba.deu-eng.deu", "a\n\n")
    with pytest.raises(textio.CorpusError, match=r"tatoeba.deu-eng.deu:2: empty line"):
        tatoeba.evaluate_tatoeba(FAKE, str(tmp_path))
