"""UN-style pool retrieval: P@1 over the whole other side, duplicates, validation."""

import numpy as np
import pytest

from lealla.embeddings.text_encoder import BatchEncoder
from lealla.evaluation import un
from lealla.files import textio
from lealla.mining import line_file

VECTORS = {
    "uno": [1, 0, 0], "dos": [0, 1, 0], "tres": [0.1, 0.1, 1], "tres bis": [0, 0, 1],
    "one": [1, 0.1, 0], "two": [1, 0.2, 0], "three": [0, 0, 1], "three.": [0, 0, 1],
}  # fmt: skip


def fake_embed(texts):
    v = np.array([VECTORS[t] for t in texts], np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


FAKE = BatchEncoder("fake", 3, fake_embed)


def test_precision_at_1_counts_text_duplicates(write):
    en = line_file.LineFile(write("en.txt", "one\nthree\nthree\n"))
    pool = fake_embed(["one", "three", "three"])
    queries = fake_embed(["uno", "tres", "tres bis"])
    # Query 2 retrieves row 1 (same text as its gold row 2): right with keys, wrong by index.
    assert un.pool_precision_at_1(queries, pool, method="exact") == pytest.approx(2 / 3)
    keys = un.line_keys(en)
    assert un.pool_precision_at_1(queries, pool, keys, method="exact") == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["exact", "scann"])
def test_evaluate_un_folder(write, tmp_path, method):
    write("UNv1.0.testset.es", "uno\ndos\ntres\n")
    write("UNv1.0.testset.en", "one\ntwo\nthree.\n")
    report = un.evaluate_un(FAKE, str(tmp_path), ["es"], method=method)
    (r,) = report.results
    # es->en: uno->one, dos->two, tres->three. = 1; en->es: one->uno, two->uno (wrong), three.->tres.
    assert r.details["xx_to_en"] == pytest.approx(1.0)
    assert r.details["en_to_xx"] == pytest.approx(2 / 3)
    assert r.score == pytest.approx(5 / 6)


def test_un_errors(write, tmp_path):
    write("UNv1.0.testset.fr", "uno\n")
    with pytest.raises(FileNotFoundError, match="missing the English side .*UNv1.0.testset.en"):
        un.find_un_languages(str(tmp_path))
    write("UNv1.0.testset.en", "one\ntwo\n")
    with pytest.raises(textio.CorpusError, match=r"testset.fr: has 1 lines but .*en has 2"):
        un.evaluate_un(FAKE, str(tmp_path), method="exact")
    with pytest.raises(FileNotFoundError, match="no UN test file for 'ru'; found: fr"):
        un.evaluate_un(FAKE, str(tmp_path), ["ru"])
