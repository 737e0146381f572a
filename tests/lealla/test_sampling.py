import numpy as np
import pytest

from lealla import sampling


def test_temperature_formula():
    counts = {"de-en": 9000, "th-en": 1000}
    assert sampling.temperature_weights(counts, 1.0) == pytest.approx({"de-en": 0.9, "th-en": 0.1})
    w = sampling.temperature_weights(counts, 2.0)
    expected = np.sqrt([0.9, 0.1]) / np.sqrt([0.9, 0.1]).sum()
    assert [w["de-en"], w["th-en"]] == pytest.approx(expected.tolist())
    flat = sampling.temperature_weights(counts, 1e9)
    assert flat["de-en"] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    "counts, t, message",
    [({}, 1.0, "at least one"), ({"a": 1}, 0.5, "temperature must be"), ({"a": 0}, 1.0, "has 0")],
)
def test_bad_arguments(counts, t, message):
    with pytest.raises(ValueError, match=message):
        sampling.temperature_weights(counts, t)
