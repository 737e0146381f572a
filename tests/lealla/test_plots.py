import pytest

from lealla import plots


def test_grouped_bar_chart_writes_a_png(tmp_path):
    path = tmp_path / "chart.png"
    plots.grouped_bar_chart(
        str(path), ["de", "ja"], {"teacher": [0.9, 0.8], "student": [0.7, 0.5]},
        title="accuracy", ylabel="accuracy", percent=True,
    )  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temp file left


def test_series_must_match_categories(tmp_path):
    with pytest.raises(ValueError, match="series 'student' has 1 values for 2 categories"):
        plots.grouped_bar_chart(
            str(tmp_path / "x.png"), ["de", "ja"], {"student": [0.5]}, title="t", ylabel="y"
        )


def test_line_chart_writes_a_png_and_checks_lengths(tmp_path):
    path = tmp_path / "curve.png"
    plots.line_chart(
        str(path), {"loss": ([1, 2, 3], [3.0, 2.0, 1.5]), "empty": ([], [])},
        title="t", xlabel="step", ylabel="loss", log_y=True,
    )  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="3 x values and 2 y values"):
        plots.line_chart(str(path), {"bad": ([1, 2, 3], [1, 2])}, title="", xlabel="", ylabel="")


def test_histogram_chart_writes_a_png_and_checks_its_bins(tmp_path):
    path = tmp_path / "scores.png"
    plots.histogram_chart(str(path), [1.0, 1.1, 1.2], [3, 5], title="t", xlabel="score",
                          threshold=1.05)  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="3 bin edges for 3 counts"):
        plots.histogram_chart(str(path), [1.0, 1.1, 1.2], [3, 5, 1], title="t", xlabel="x")
