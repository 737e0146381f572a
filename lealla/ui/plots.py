"""PNG charts for reports (matplotlib, headless), written atomically."""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Mapping, Sequence

from lealla.files import atomic

_MIN_WIDTH, _MAX_WIDTH = 6.0, 12.0  # inches; readable on a laptop screen and in a README


def grouped_bar_chart(
    path: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    percent: bool = False,
) -> None:
    """Writes a grouped bar chart: one group per category, one bar per series.

    Args:
      path: the PNG to write.
      categories: x-axis groups, e.g. languages.
      series: name -> one value per category, e.g. {"teacher": [...], "student": [...]}.
      title: the chart title.
      ylabel: the y-axis label.
      percent: format the y axis as percentages (values are fractions).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(
                f"series {name!r} has {len(values)} values for {len(categories)} categories"
            )
    width = 0.8 / max(len(series), 1)
    width_inches = min(_MAX_WIDTH, max(_MIN_WIDTH, 0.25 * len(categories) * max(len(series), 1)))
    fig, ax = plt.subplots(figsize=(width_inches, 4.0))
    for i, (name, values) in enumerate(series.items()):
        xs = [c + (i - (len(series) - 1) / 2) * width for c in range(len(categories))]
        ax.bar(xs, values, width=width, label=name)
    ax.set_xticks(range(len(categories)), list(categories))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if len(series) > 1:
        ax.legend()
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def line_chart(
    path: str,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log_y: bool = False,
) -> None:
    """Writes a line chart, e.g. training curves: one line per series.

    Args:
      path: the PNG to write.
      series: name -> (xs, ys) of equal length; empty series are skipped.
      title, xlabel, ylabel: the labels.
      log_y: logarithmic y axis (losses spanning orders of magnitude).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(_MIN_WIDTH + 1.0, 4.0))
    for name, (xs, ys) in series.items():
        if len(xs) != len(ys):
            raise ValueError(f"series {name!r} has {len(xs)} x values and {len(ys)} y values")
        if len(xs):
            ax.plot(xs, ys, label=name, marker="o" if len(xs) < 20 else None)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)


def frontier_chart(
    path: str,
    points: Mapping[str, tuple[float, float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> None:
    """Writes an accuracy-vs-speed chart (log x): one labelled point per model, the
    chart a user picks a model from.

    Args:
      path: the PNG to write.
      points: model name -> (speed, accuracy).
      title, xlabel, ylabel: the labels.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(_MIN_WIDTH + 1.0, 4.0))
    for name, (x, y) in points.items():
        ax.scatter([x], [y], s=40)
        ax.annotate(name, (x, y), xytext=(5, -12), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    readable_log_x(ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ys = [y for _, y in points.values()]
    ax.set_ylim(max(0.0, min(ys) - 0.1), min(1.0, max(ys) + 0.05))
    _save(fig, path)


def readable_log_x(ax) -> None:
    """Labels a log x axis with plain numbers (1,000, 2,000, 5,000, ...) at steps its
    span leaves room for, and no minor-tick labels: matplotlib's defaults label minor
    ticks in scientific notation when the data span less than a decade or two, and the
    labels overlap."""
    from matplotlib import ticker

    low, high = ax.get_xlim()
    decades = math.log10(high / low) if low > 0 and high > low else 1.0
    inches = ax.get_window_extent().width / ax.figure.dpi
    # The finest steps whose closest two labels are _LABEL_GAP apart on this axis.
    subs = next((s for s in _LOG_STEPS if _closest(s) / decades * inches >= _LABEL_GAP), (1.0,))
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_plain_number))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


# Tick steps per decade, finest first, and the inches between label centres that leave
# room for a label such as "20,000".
_LOG_STEPS = (tuple(float(i) for i in range(1, 10)), (1.0, 2.0, 3.0, 5.0), (1.0, 2.0, 5.0),
              (1.0, 3.0), (1.0,))  # fmt: skip
_LABEL_GAP = 0.55


def _closest(subs: tuple[float, ...]) -> float:
    """The smallest gap, in decades, between neighbouring ticks of `subs`."""
    marks = [*subs, 10.0]
    return min(math.log10(b / a) for a, b in itertools.pairwise(marks))


def _plain_number(value: float, _position=None) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def histogram_chart(
    path: str,
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    title: str,
    xlabel: str,
    threshold: float | None = None,
) -> None:
    """Writes a histogram from precomputed bins (e.g. margin scores of mined pairs).

    Args:
      path: the PNG to write.
      edges: bin edges, one more than `counts`.
      counts: items per bin.
      title, xlabel: the labels.
      threshold: a vertical line at this x (a score cut), or None.
    """
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{len(edges)} bin edges for {len(counts)} counts")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(_MIN_WIDTH + 1.0, 4.0))
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ax.bar(edges[:-1], counts, width=widths, align="edge")
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle="--", label=f"threshold {threshold:g}")
        ax.legend()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def _save(fig, path: str) -> None:
    """Writes the figure as a PNG (atomically) and frees it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic.atomic_write_bytes(path, buffer.getvalue())
