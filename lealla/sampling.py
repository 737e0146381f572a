"""Temperature-based language sampling, as LaBSE, LEALLA and EMS use for low-resource languages."""

from __future__ import annotations

import math
from collections.abc import Mapping


def temperature_weights(counts: Mapping[str, int], temperature: float) -> dict[str, float]:
    """Sampling probability of each language group under temperature sampling.

        q_i = p_i ** (1 / T) / sum_j p_j ** (1 / T),   p_i = n_i / sum_j n_j

    T = 1 samples in proportion to the data; larger T flattens the mix towards
    uniform (T -> inf). Papers that speak of an exponent alpha use alpha = 1 / T
    (XLM's alpha = 0.3 is T ~ 3.33; LaBSE/LEALLA's alpha = 0.3 likewise).

    Args:
      counts: examples per group, e.g. {"de-en": 40000, "th-en": 3000}; all > 0.
      temperature: T >= 1 (values below 1 would favour high-resource groups even
        more than their share, which no recipe wants).

    Returns:
      Probabilities per group, summing to 1, in the order of `counts`.

    Raises:
      ValueError: empty counts, a non-positive count, or temperature < 1.
    """
    if not counts:
        raise ValueError("temperature_weights needs at least one language group")
    if not (temperature >= 1.0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a finite number >= 1, got {temperature!r}")
    for group, n in counts.items():
        if n <= 0:
            raise ValueError(f"language group {group!r} has {n} examples; expected > 0")
    total = sum(counts.values())
    # Computed in log space so large corpora and large T stay exact.
    logits = {g: math.log(n / total) / temperature for g, n in counts.items()}
    top = max(logits.values())
    unnorm = {g: math.exp(v - top) for g, v in logits.items()}
    z = sum(unnorm.values())
    return {g: v / z for g, v in unnorm.items()}
