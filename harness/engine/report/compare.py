"""Paired bootstrap comparisons over the same holdout cases, and the intervals that go with them.

Two solutions scored on the same cases share most of their sampling noise: a hard patient is
hard for both. Scoring both on the same resamples (``group_resamples`` is seeded) cancels that
shared part, so a real difference much smaller than either CI's width can still be detected,
and identical submissions differ by exactly 0 on every resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.kit.stats import (
    Metric,
    Statistics,
    group_resamples,
    percentile_interval,
    resampled_scores,
)

LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """``a - b`` in metric units, with its paired-bootstrap percentile interval."""

    observed: float
    low: float
    high: float
    n_resamples: int
    level: float = LEVEL

    @property
    def distinguishable(self) -> bool:
        """False when the interval holds 0: the holdout cannot tell the two apart."""
        return not self.low <= 0.0 <= self.high


def paired_difference(
    a: np.ndarray, b: np.ndarray, observed: float, level: float = LEVEL
) -> Difference:
    """``a - b`` from scores of the same resamples, in the same order."""
    if a.shape != b.shape:
        raise ValueError("paired scores must come from the same resamples")
    low, high = percentile_interval(a - b, level)
    return Difference(observed, low, high, len(a), level)


def paired_bootstrap(
    metric: Metric,
    a: pd.DataFrame,
    b: pd.DataFrame,
    answers: pd.DataFrame,
    groups: np.ndarray,
    *,
    n: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    statistics: Statistics | None = None,
) -> Difference:
    """``metric(a) - metric(b)`` with a cluster-bootstrap interval; both aligned with answers.

    ``statistics`` (``task.bootstrap_statistics``) gives the fast path, as in bootstrap_ci.
    """
    resamples = group_resamples(groups, n, seed)
    observed = metric(a, answers) - metric(b, answers)
    return paired_difference(
        resampled_scores(metric, [a], answers, resamples, statistics),
        resampled_scores(metric, [b], answers, resamples, statistics),
        observed,
        level,
    )
