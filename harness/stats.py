"""Bootstrap confidence intervals that resample the task's groups, not rows.

Each task names its groups (``Task.groups``): patients for rsna-breast, studies for rsna-ich
and rsna-cervical, images for the segmentation tasks. Rows of one group are correlated (both
breasts, several slices, several labels), so resampling rows would give intervals that are
too narrow. The resample indices depend only on the groups and the
seed, so two solutions scored on the same holdout see the same resamples (paired comparison).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

Metric = Callable[[pd.DataFrame, pd.DataFrame], float]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    n_resamples: int


def group_resamples(groups: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """Row indices of ``n`` cluster-bootstrap resamples (groups drawn with replacement)."""
    codes, uniques = pd.factorize(pd.Series(groups), sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    members = [order[bounds[g] : bounds[g + 1]] for g in range(len(uniques))]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(uniques), size=(n, len(uniques)))
    return [np.concatenate([members[g] for g in draw]) for draw in draws]


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of resampled values."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def resampled_scores(
    metric: Metric,
    submissions: Sequence[pd.DataFrame],
    answers: pd.DataFrame,
    resamples: Sequence[np.ndarray],
) -> np.ndarray:
    """Per resample, the metric averaged over ``submissions`` (e.g. the seeds of a solution).

    Every submission must already be aligned row for row with ``answers``.
    """
    scores = np.zeros(len(resamples))
    with warnings.catch_warnings():
        # A resample without positives is legitimate; metrics warn about it, the CI does not.
        warnings.simplefilter("ignore")
        for i, idx in enumerate(resamples):
            truth = answers.iloc[idx].reset_index(drop=True)
            for submission in submissions:
                scores[i] += metric(submission.iloc[idx].reset_index(drop=True), truth)
    return scores / len(submissions)


def bootstrap_ci(
    metric: Metric,
    submission: pd.DataFrame,
    answers: pd.DataFrame,
    groups: np.ndarray,
    *,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Percentile interval of ``metric`` over group resamples of aligned rows."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not len(submission) == len(answers) == len(groups):
        raise ValueError("submission, answers and groups must be aligned row for row")
    scores = resampled_scores(metric, [submission], answers, group_resamples(groups, n, seed))
    low, high = percentile_interval(scores, level)
    return Interval(low, high, n)
