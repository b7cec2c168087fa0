"""Bootstrap confidence intervals that resample the task's groups, not rows.

Each task names its groups (``Task.groups``): patients for rsna-breast, studies for rsna-ich
and rsna-cervical, images for the segmentation tasks. Rows of one group are correlated (both
breasts, several slices, several labels), so resampling rows would give intervals that are
too narrow. The resample indices depend only on the groups and the
seed, so two solutions scored on the same holdout see the same resamples (paired comparison).

A resample is the ``n_groups`` groups drawn with replacement, i.e. how many times each group
was drawn. A task whose metric is a function of per-group sums (``Task.bootstrap_statistics``)
is scored on every resample at once as ``combine(counts @ sums)``, without building the
resampled rows; any other metric is called on the rows of each resample (the reference path).
Both paths see the very same draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

Metric = Callable[[pd.DataFrame, pd.DataFrame], float]

CHUNK_DRAWS = 1 << 22
"""Group draws generated at once (32 MiB of int64): bounds the memory of any resample count."""


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    n_resamples: int


@dataclass(frozen=True)
class GroupStatistics:
    """A metric as additive per-group statistics: ``score = combine(counts @ sums)``.

    ``sums`` has one row per group, in the sorted order of the groups' unique values (as
    ``group_sums`` and ``GroupResamples`` order them), and K columns; ``combine`` maps the
    count-weighted sums of R resamples, (R x K), to their R scores.
    """

    sums: np.ndarray
    combine: Callable[[np.ndarray], np.ndarray]

    def scores(self, counts: np.ndarray) -> np.ndarray:
        """The score of each resample, from its (R x n_groups) draw counts."""
        return self.combine(counts.astype(np.float64) @ self.sums)

    def score(self) -> float:
        """The score of the holdout itself (every group once)."""
        return float(self.scores(np.ones((1, len(self.sums))))[0])


Statistics = Callable[[pd.DataFrame, pd.DataFrame], GroupStatistics | None]
"""``Task.bootstrap_statistics``: a submission's GroupStatistics, or None (no fast path)."""


def group_codes(groups: np.ndarray) -> tuple[np.ndarray, int]:
    """The index of each row's group among the sorted unique groups, and the number of groups."""
    codes, uniques = pd.factorize(pd.Series(groups), sort=True)
    return codes, len(uniques)


def group_sums(groups: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per group (sorted order), the sums of the columns of ``rows`` (n_rows x K)."""
    codes, n_groups = group_codes(groups)
    columns = np.asarray(rows, dtype=np.float64).reshape(len(codes), -1).T
    return np.stack([np.bincount(codes, c, minlength=n_groups) for c in columns], axis=1)


def ratio_of_sums(sums: np.ndarray) -> np.ndarray:
    """``combine`` of a weighted mean: column 0 (weighted values) over column 1 (weights)."""
    return sums[:, 0] / sums[:, 1]


def mean_of_rows(
    groups: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None
) -> GroupStatistics:
    """The statistics of a metric that is ``sum(values) / sum(weights)`` over the rows (a plain
    mean when ``weights`` is None): per group, the two sums."""
    weights = np.ones_like(values, dtype=np.float64) if weights is None else weights
    return GroupStatistics(group_sums(groups, np.stack([values, weights], axis=1)), ratio_of_sums)


class GroupResamples:
    """``n`` cluster-bootstrap resamples of ``groups``, kept as their seed, never all at once.

    The draws are ``np.random.default_rng(seed).integers(0, n_groups, size=(n, n_groups))``
    over the sorted unique groups, generated ``chunk_draws`` at a time (the generator's stream
    is the same whatever the chunking). Iterating gives each resample's row indices: the rows
    of each drawn group, in draw order.
    """

    def __init__(
        self, groups: np.ndarray, n: int, seed: int, *, chunk_draws: int = CHUNK_DRAWS
    ) -> None:
        self.codes, self.n_groups = group_codes(groups)
        self.n = n
        self.seed = seed
        self.chunk_draws = chunk_draws

    def __len__(self) -> int:
        return self.n

    def draws(self) -> Iterator[np.ndarray]:
        """The drawn group indices, a (resamples x n_groups) block of consecutive resamples at
        a time."""
        rng = np.random.default_rng(self.seed)
        step = max(1, self.chunk_draws // max(1, self.n_groups))
        for start in range(0, self.n, step):
            yield rng.integers(0, self.n_groups, size=(min(step, self.n - start), self.n_groups))

    def counts(self) -> Iterator[np.ndarray]:
        """How many times each group was drawn, per resample, block by block as ``draws``."""
        for draws in self.draws():
            offsets = np.arange(len(draws))[:, None] * self.n_groups
            flat = np.bincount((draws + offsets).ravel(), minlength=draws.size)
            yield flat.reshape(draws.shape)

    def __iter__(self) -> Iterator[np.ndarray]:
        order = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[order], np.arange(self.n_groups + 1))
        members = [order[bounds[g] : bounds[g + 1]] for g in range(self.n_groups)]
        for draws in self.draws():
            for draw in draws:
                yield np.concatenate([members[g] for g in draw])


def group_resamples(groups: np.ndarray, n: int, seed: int) -> GroupResamples:
    """``n`` cluster-bootstrap resamples (groups drawn with replacement); iterate for row
    indices."""
    return GroupResamples(groups, n, seed)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of resampled values."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def resampled_scores(
    metric: Metric,
    submissions: Sequence[pd.DataFrame],
    answers: pd.DataFrame,
    resamples: GroupResamples,
    statistics: Statistics | None = None,
) -> np.ndarray:
    """Per resample, the metric averaged over ``submissions`` (e.g. the seeds of a solution).

    Every submission must already be aligned row for row with ``answers``. With
    ``statistics`` (the task's ``bootstrap_statistics``) giving every submission's
    GroupStatistics, all resamples are scored from the draw counts; otherwise ``metric`` is
    called on each resample's rows.
    """
    found = [statistics(s, answers) for s in submissions] if statistics else []
    fast = [s for s in found if s is not None]
    if fast and len(fast) == len(submissions):
        return _scores_from_counts(fast, resamples)
    return _scores_from_rows(metric, submissions, answers, resamples)


def _scores_from_counts(
    statistics: Sequence[GroupStatistics], resamples: GroupResamples
) -> np.ndarray:
    for stats in statistics:
        if len(stats.sums) != resamples.n_groups:
            raise ValueError(
                f"the task's statistics have {len(stats.sums)} groups, the resamples "
                f"{resamples.n_groups}: both must come from the same answers"
            )
    blocks = []
    for counts in resamples.counts():
        total = np.zeros(len(counts))
        for stats in statistics:
            total += stats.scores(counts)
        blocks.append(total)
    return np.concatenate(blocks) / len(statistics)


def _scores_from_rows(
    metric: Metric,
    submissions: Sequence[pd.DataFrame],
    answers: pd.DataFrame,
    resamples: GroupResamples,
) -> np.ndarray:
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
    statistics: Statistics | None = None,
) -> Interval:
    """Percentile interval of ``metric`` over group resamples of aligned rows.

    ``statistics`` (``task.bootstrap_statistics``) scores the resamples from per-group sums
    when the task provides them; the interval is the same as ``metric``'s.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not len(submission) == len(answers) == len(groups):
        raise ValueError("submission, answers and groups must be aligned row for row")
    resamples = group_resamples(groups, n, seed)
    scores = resampled_scores(metric, [submission], answers, resamples, statistics)
    low, high = percentile_interval(scores, level)
    return Interval(low, high, n)
