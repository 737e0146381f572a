import dataclasses
import io

import pytest

from lealla.config import json_config
from lealla.files import atomic
from lealla.ui import progress


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_line_rate_and_eta():
    clock = FakeClock()
    bar = progress.Progress(
        "caching", total=1000, unit="sentences", stream=io.StringIO(), clock=clock
    )
    clock.now = 5.0
    bar.update(250)
    assert bar.line() == "caching: 250/1000 sentences (25.0%) 50.0 sentences/s ETA 15s"


def test_progress_on_a_tty_redraws():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    clock, stream = FakeClock(), Tty()
    with progress.Progress("x", total=2, stream=stream, clock=clock) as bar:
        clock.now = 1.0
        bar.update(2)
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().endswith("\n")


def test_format_seconds():
    assert [progress.format_seconds(s) for s in (4.2, 65, 3725)] == ["4s", "1m05s", "1h02m05s"]


@dataclasses.dataclass(frozen=True)
class Tiny(json_config.ConfigMixin):
    size: int = 1
    lengths: tuple[int, ...] = (16, 32)


def test_config_round_trip_and_unknown_keys(tmp_path):
    path = str(tmp_path / "c.json")
    Tiny(size=3, lengths=(8,)).to_json_file(path)
    assert Tiny.from_json_file(path) == Tiny(size=3, lengths=(8,))
    with pytest.raises(ValueError, match=r"unknown Tiny key\(s\) \['szie'\]"):
        Tiny.from_dict({"szie": 2})
    (tmp_path / "bad.json").write_text("[1]")
    with pytest.raises(ValueError, match="bad.json: expected a JSON object"):
        Tiny.from_json_file(str(tmp_path / "bad.json"))


def test_atomic_write_leaves_no_temp_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic.atomic_write_text(str(target), "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_text(str(target), "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_progress_off_a_terminal_writes_few_lines(monkeypatch):
    # Off a terminal: a line after 30 s, then at doubling intervals, and the final one.
    monkeypatch.delenv("LEALLA_PROGRESS", raising=False)
    clock, stream = FakeClock(), io.StringIO()
    with progress.Progress(
        "training", total=10_000, unit="steps", stream=stream, clock=clock
    ) as bar:
        for _ in range(10_000):  # 10,000 s of work, a step a second
            clock.now += 1.0
            bar.update(1)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[1].split()[0] for line in lines] == [
        "30/10000", "90/10000", "270/10000", "810/10000", "2430/10000", "7290/10000",
        "10000/10000",
    ]  # fmt: skip
    assert "ETA" in lines[0] and "1.0 steps/s" in lines[0] and "elapsed" in lines[-1]


def test_progress_of_short_work_off_a_terminal_says_nothing(monkeypatch):
    monkeypatch.delenv("LEALLA_PROGRESS", raising=False)
    clock, stream = FakeClock(), io.StringIO()
    with progress.Progress("embedding", total=5, stream=stream, clock=clock) as bar:
        clock.now = 4.0
        bar.update(5)
    assert stream.getvalue() == ""


def test_progress_flag_draws_a_live_bar_off_a_terminal(monkeypatch):
    monkeypatch.setenv("LEALLA_PROGRESS", "1")  # what `lealla CMD --progress` sets
    clock, stream = FakeClock(), io.StringIO()
    with progress.Progress("embedding", total=4, unit="sentences", stream=stream,
                           clock=clock) as bar:  # fmt: skip
        clock.now = 2.0
        bar.update(4, postfix="loss 1.5")
    out = stream.getvalue()
    assert out.startswith("\rembedding:") and out.endswith("\n")
    assert "4/4" in out and "sentences/s" in out and "loss 1.5" in out


def test_progress_lines_leave_out_the_start_up_before_the_first_update(monkeypatch):
    # A first training step that traces for 40 s: no line claims 0.0 steps/s and a day's ETA.
    monkeypatch.delenv("LEALLA_PROGRESS", raising=False)
    clock, stream = FakeClock(), io.StringIO()
    bar = progress.Progress("training", total=100, unit="steps", stream=stream, clock=clock)
    clock.now = 40.0
    bar.update(1)  # the slow first step: no rate to report yet
    assert stream.getvalue() == ""
    clock.now = 50.0
    bar.update(20)  # 20 steps in the 10 s since
    assert stream.getvalue() == "training: 21/100 steps (21.0%) 2.0 steps/s ETA 40s\n"
