import itertools

import pytest

from lealla.ui import plots


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


@pytest.mark.parametrize("speeds", [(600, 900, 1400), (350, 1100, 2800, 48000), (2, 40000)])
def test_log_x_tick_labels_do_not_overlap(speeds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    ax.scatter(speeds, [0.5] * len(speeds))
    ax.set_xscale("log")
    plots.readable_log_x(ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    low, high = ax.get_xlim()
    labels = [t for t in ax.xaxis.get_ticklabels(which="both")
              if t.get_text() and t.get_visible() and low <= t.get_position()[0] <= high]  # fmt: skip
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    plt.close(fig)
    assert len(boxes) >= 2, [t.get_text() for t in labels]
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, [t.get_text() for t in labels]
    assert all("$" not in t.get_text() for t in labels)  # plain numbers, no 10^x notation
