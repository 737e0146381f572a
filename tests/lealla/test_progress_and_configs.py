import dataclasses
import io

import pytest

from lealla import configs, progress


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
class Tiny(configs.ConfigMixin):
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
    configs.atomic_write_text(str(target), "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(configs.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        configs.atomic_write_text(str(target), "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
