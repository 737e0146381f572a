"""The `lealla` command line: the dispatcher (`main.py`) and one absl entry point per command
(`*_main.py`).
"""
