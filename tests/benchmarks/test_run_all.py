"""The benchmark driver: every section resolves to its function, hand-written ones survive."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

from benchmarks import run_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_section_has_a_function_and_the_folder_stays_small():
    for name in run_all.BENCHMARKS:
        assert callable(run_all.section_function(name)), name
    modules = glob.glob(os.path.join(ROOT, "benchmarks", "*.py"))
    assert len(modules) <= 18, sorted(os.path.basename(m) for m in modules)


def test_a_rerun_keeps_the_hand_written_sections(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmark results\n\n<!-- benchmark: ablations -->\n## Ablations and decisions\n\n"
        "| lever |\n\n<!-- benchmark: mining -->\n## Mining\n\nold\n\n"
        "<!-- benchmark: gone -->\n## A section of no module\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(run_all, "RESULTS", str(results))
    sections = run_all._previous_sections()
    assert sections["ablations"] == "## Ablations and decisions\n\n| lever |\n\n"
    assert sections["mining"] == "## Mining\n\nold\n\n"
    assert "gone" not in sections


def test_help_lists_the_sections():
    # absl's --help exits with status 1 after printing the flags.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--help"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
    )  # fmt: skip
    assert "quality_120" in done.stdout and "cache_throughput" in done.stdout
    assert "Traceback" not in done.stderr
