"""Calibrated noise for the sandbox's released figures, from OpenDP's measurements.

Neighbouring data sets differ by one row (added or removed). One row falls in one group, so a
grouped table costs what one cell costs (parallel composition). Each query splits its epsilon
between the count of each group and the measure:

- count: the discrete Laplace mechanism (`make_laplace` on integers), sensitivity 1;
- sum of values clamped into [lo, hi]: Laplace on floats, sensitivity max(|lo|, |hi|);
- min / max of clamped values: Laplace, sensitivity hi - lo (one row moves either by at most
  the width of the bounds);
- mean: the noisy sum divided by the noisy count of values (post-processing, no extra cost).

Each measurement is checked with OpenDP's privacy map: it must not use more than its share.
"""

from __future__ import annotations

from functools import lru_cache

import opendp.prelude as dp

dp.enable_features("contrib")

# A measurement's privacy loss may exceed its share by floating error only.
TOLERANCE = 1e-9


@lru_cache(maxsize=256)
def _integer_laplace(scale: float):
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


@lru_cache(maxsize=256)
def _float_laplace(scale: float):
    return dp.m.make_laplace(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=scale
    )


def _checked(measurement, d_in, epsilon: float):
    used = measurement.map(d_in)
    if used > epsilon * (1 + TOLERANCE) + TOLERANCE:
        raise ValueError(f"the mechanism spends {used}, more than {epsilon}")
    return measurement


def count_scale(epsilon: float) -> float:
    return 1.0 / epsilon


def sum_scale(epsilon: float, lo: float, hi: float) -> float:
    return max(abs(lo), abs(hi), 1e-12) / epsilon


def extreme_scale(epsilon: float, lo: float, hi: float) -> float:
    return max(hi - lo, 1e-12) / epsilon


def noisy_count(n: int, epsilon: float) -> int:
    m = _checked(_integer_laplace(count_scale(epsilon)), 1, epsilon)
    return int(m(int(n)))


def noisy_sum(total: float, epsilon: float, lo: float, hi: float) -> float:
    sensitivity = max(abs(lo), abs(hi))
    m = _checked(_float_laplace(sum_scale(epsilon, lo, hi)), float(sensitivity), epsilon)
    return float(m(float(total)))


def noisy_extreme(value: float, epsilon: float, lo: float, hi: float) -> float:
    m = _checked(_float_laplace(extreme_scale(epsilon, lo, hi)), float(hi - lo), epsilon)
    return min(max(float(m(float(value))), lo), hi)
