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


def check_shares(mono_share: float | None, min_share: float) -> None:
    """Raises ValueError unless mono_share is None or in [0, 1) and min_share >= 0."""
    if mono_share is not None and not 0.0 <= mono_share < 1.0:
        raise ValueError(f"mono_share must be in [0, 1), got {mono_share}")
    if min_share < 0:
        raise ValueError(f"min_share must be >= 0, got {min_share}")


def mixture_weights(
    counts: Mapping[str, int],
    temperature: float,
    *,
    monolingual: frozenset[str] | set[str] = frozenset(),
    mono_share: float | None = None,
    min_share: float = 0.0,
    fixed: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Sampling probabilities of parallel and monolingual groups, with language floors.

        q_g = s_g for the groups given a fixed share (F = sum of s_g), and for the others
        q = temperature weights within each kind, scaled to (1 - m) for parallel
            groups and m for monolingual ones (m = mono_share), then
        q_i <- max(q_i, min_share) and renormalized (repeated until the floors hold),
        then scaled by (1 - F).

    Monolingual text feeds only the feature (teacher) terms, so its share is a
    recipe choice of its own rather than an accident of corpus sizes.

    Args:
      counts: examples per group ("de-en", or "de" for monolingual text); all > 0.
      temperature: T >= 1, applied within each kind.
      monolingual: the groups that are monolingual.
      mono_share: the total probability of the monolingual groups, in [0, 1); None
        treats all groups as one pool (plain `temperature_weights`).
      min_share: a floor per group (e.g. 0.02 for languages with little data); at most
        1 / number of groups; before the scaling by (1 - F).
      fixed: groups of `counts` drawn with a share of their own (`--train_data=f@0.05`),
        whatever their size; F < 1 unless every group is fixed, in which case the shares
        are normalized.

    Returns:
      Probabilities per group, summing to 1, in the order of `counts`.
    """
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(counts))
    if unknown:
        raise ValueError(f"groups with a share but no examples: {', '.join(unknown)}")
    if any(not 0.0 < s < 1.0 for s in fixed.values()):
        raise ValueError(f"every fixed share must be in (0, 1), got {fixed}")
    total = sum(fixed.values())
    rest = {g: n for g, n in counts.items() if g not in fixed}
    if not rest:
        return {g: fixed[g] / total for g in counts}
    if total >= 1.0:
        raise ValueError(
            f"the fixed shares add up to {total:g}, leaving nothing for the other groups; "
            f"they must add up to less than 1"
        )
    free = _mixture(rest, temperature, monolingual, mono_share, min_share)
    return {g: fixed[g] if g in fixed else (1.0 - total) * free[g] for g in counts}


def _mixture(
    counts: Mapping[str, int],
    temperature: float,
    monolingual: frozenset[str] | set[str],
    mono_share: float | None,
    min_share: float,
) -> dict[str, float]:
    if not 0.0 <= min_share <= 1.0 / max(len(counts), 1):
        raise ValueError(f"min_share must be in [0, 1/{len(counts)}], got {min_share}")
    mono = {g: n for g, n in counts.items() if g in monolingual}
    parallel = {g: n for g, n in counts.items() if g not in monolingual}
    if mono_share is None or not mono or not parallel:
        weights = temperature_weights(counts, temperature)
    else:
        if not 0.0 <= mono_share < 1.0:
            raise ValueError(f"mono_share must be in [0, 1), got {mono_share}")
        weights = {
            g: (1 - mono_share) * w for g, w in temperature_weights(parallel, temperature).items()
        }
        weights.update(
            {g: mono_share * w for g, w in temperature_weights(mono, temperature).items()}
        )
    if min_share:
        for _ in range(len(weights)):
            low = {g for g, w in weights.items() if 0 < w < min_share}
            if not low:
                break
            rest = sum(w for g, w in weights.items() if g not in low)
            free = 1.0 - min_share * len(low)
            weights = {g: min_share if g in low else w * free / rest for g, w in weights.items()}
    return {g: weights[g] for g in counts}
