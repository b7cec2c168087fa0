"""Paired bootstrap comparisons over the same holdout cases, and the intervals that go with them.

Two solutions scored on the same cases share most of their sampling noise: a hard patient is
hard for both. Scoring both on the same resamples (``group_resamples`` is seeded) cancels that
shared part, so a real difference much smaller than either CI's width can still be detected,
and identical submissions differ by exactly 0 on every resample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import HarnessError, Task
from harness.kit.stats import (
    GroupResamples,
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


@dataclass
class Holdout:
    """A task's holdout answers rebuilt from a dataset root, with its fixed resamples."""

    task: Task
    answers: pd.DataFrame
    resamples: GroupResamples

    def score(self, submissions: Sequence[pd.DataFrame]) -> tuple[list[float], np.ndarray]:
        """Each submission's score on the whole holdout, and their mean on each resample."""
        aligned = [self.task.validate(s, self.answers) for s in submissions]
        full = [self.task.score(a, self.answers) for a in aligned]
        resampled = resampled_scores(
            self.task.score, aligned, self.answers, self.resamples, self.task.bootstrap_statistics
        )
        return full, resampled


def load_holdout(task_name: str, data_root: str, n: int, seed: int) -> Holdout:
    """Rebuild the answers a run was scored against; HarnessError says why it cannot."""
    from harness.engine.registry import load_task

    if not data_root:
        raise HarnessError("the run's record.json (which names its data folder) is missing")
    if not Path(data_root).is_dir():
        raise HarnessError(f"the data folder {data_root} no longer exists")
    task = load_task(task_name)
    try:
        _, holdout = task.split(task.load(Path(data_root)))
        answers = task.answers(holdout)
    except (OSError, ValueError, KeyError) as exc:
        raise HarnessError(f"{data_root} cannot be read: {type(exc).__name__}: {exc}") from exc
    return Holdout(task, answers, group_resamples(task.groups(answers), n, seed))
