"""Benchmarks of the toolkit; `python -m benchmarks.run_all` regenerates RESULTS.md."""
