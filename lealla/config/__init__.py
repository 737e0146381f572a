"""Frozen dataclass configs: fields with flag help and bounds, and the absl flags generated
from them.
"""
