"""The competition's weighted multi-label log loss.

Every study has eight rows: C1..C7 and ``patient_overall``. A row's binary log loss is weighted
by its target and its truth: C1..C7 weigh 1 when negative and 2 when positive,
``patient_overall`` 7 and 14. The host's code normalises each study by its own weight sum and
averages the studies (``weighted_log_loss``); ``weighted_log_loss_all_rows`` is the variant that
normalises once over all rows (sum of weighted losses / sum of weights), which many public
notebooks used as a training loss. Lower is better.

Predictions are clipped to [EPSILON, 1 - EPSILON] before the logarithm (EPSILON = 1e-15, the
clip of scikit-learn's ``log_loss`` at the time of the competition), so a confident mistake
costs at most -log(1e-15) ~ 34.5 times its weight instead of infinity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from harness.kit.stats import GroupStatistics, group_sums, ratio_of_sums
from harness.kit.task import Metric
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.submission import split_row_ids

EPSILON = 1e-15
NEGATIVE_WEIGHT: dict[str, float] = {**{t: 1.0 for t in TARGETS[:-1]}, "patient_overall": 7.0}
POSITIVE_WEIGHT: dict[str, float] = {**{t: 2.0 for t in TARGETS[:-1]}, "patient_overall": 14.0}


def row_weights(targets: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """The weight of each row: by its target name and its 0/1 truth."""
    names = np.asarray(targets).astype(str)
    y = np.asarray(labels)
    unknown = sorted(set(names.tolist()) - set(TARGETS))
    if unknown:
        raise ValueError(f"unknown target(s) {unknown[:5]}; targets are {', '.join(TARGETS)}")
    negative = np.asarray([NEGATIVE_WEIGHT[n] for n in names], dtype=np.float64)
    positive = np.asarray([POSITIVE_WEIGHT[n] for n in names], dtype=np.float64)
    return np.where(y == 1, positive, negative)


def row_losses(labels: ArrayLike, predictions: ArrayLike) -> np.ndarray:
    """Unweighted binary log loss of each row, predictions clipped to [EPSILON, 1 - EPSILON]."""
    y = np.asarray(labels)
    p = np.asarray(predictions, dtype=np.float64)
    if y.ndim != 1 or y.shape != p.shape:
        raise ValueError(f"labels and predictions must be 1-D of one length: {y.shape}, {p.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, found {np.unique(y)[:10].tolist()}")
    if np.isnan(p).any():
        raise ValueError(f"predictions contain NaN (first rows: {np.flatnonzero(np.isnan(p))[:5]})")
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def weighted_log_loss(
    labels: ArrayLike, predictions: ArrayLike, targets: ArrayLike, studies: ArrayLike
) -> float:
    """The host's metric: per study sum(w * loss) / sum(w), then the mean over studies.

    ``studies`` keys the rows of one study (its UID, or an occurrence number when a bootstrap
    resample holds a study twice: each copy then counts as a study of its own).
    """
    weights = row_weights(targets, labels)
    weighted = weights * row_losses(labels, predictions)
    keys = np.asarray(studies)
    if keys.shape != weights.shape:
        raise ValueError(f"{len(keys)} study keys for {len(weights)} rows")
    _, codes = np.unique(keys, return_inverse=True)
    per_study = np.bincount(codes, weighted) / np.bincount(codes, weights)
    return float(per_study.mean())


def weighted_log_loss_all_rows(
    labels: ArrayLike, predictions: ArrayLike, targets: ArrayLike
) -> float:
    """The all-rows variant: sum(w * loss) / sum(w) over every row of every study."""
    weights = row_weights(targets, labels)
    return float((weights * row_losses(labels, predictions)).sum() / weights.sum())


def study_occurrences(uids: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """A number per row for each run of one study's rows in TARGETS order.

    A new occurrence starts where the UID changes or the target order restarts, so a study
    drawn twice by a bootstrap resample (its eight rows repeated back to back) counts twice.
    """
    ids = np.asarray(uids).astype(str)
    rank = np.asarray([TARGETS.index(t) for t in np.asarray(targets).astype(str)])
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = (ids[1:] != ids[:-1]) | (rank[1:] <= rank[:-1])
    return np.cumsum(starts) - 1


def one_run_per_study(uids: ArrayLike, targets: ArrayLike) -> bool:
    """True when each study's rows, taken in table order, are in strictly increasing TARGETS
    order: ``study_occurrences`` then sees each copy of a study in a resample as exactly one
    study, whatever the other draws.

    Otherwise (a repeated or out-of-order target) the number of studies a copy counts for
    depends on its neighbours in the resample, which no per-study statistic can reproduce.
    """
    ids = np.asarray(uids).astype(str)
    rank = np.asarray([TARGETS.index(t) for t in np.asarray(targets).astype(str)])
    order = np.argsort(ids, kind="stable")
    same_study = ids[order][1:] == ids[order][:-1]
    return bool(np.all(rank[order][1:][same_study] > rank[order][:-1][same_study]))


def studies(answers: pd.DataFrame) -> np.ndarray:
    """The study of each row: the bootstrap resamples studies, as the split groups them."""
    return split_row_ids(answers["row_id"])[0].to_numpy()


def score(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    """The host's per-study weighted log loss of an aligned submission."""
    labels, predictions, uids, targets = _metric_inputs(submission, answers)
    return weighted_log_loss(labels, predictions, targets, study_occurrences(uids, targets))


def bootstrap_statistics(submission: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics | None:
    """Per study, its own normalised loss and 1: the host's mean over studies, each copy of
    a study in a resample counting as one. None where a study's rows are not in target
    order (see ``one_run_per_study``): the bootstrap then scores the resampled rows."""
    labels, predictions, uids, targets = _metric_inputs(submission, answers)
    if not one_run_per_study(uids, targets):
        return None
    weights = row_weights(targets, labels)
    rows = np.stack([weights * row_losses(labels, predictions), weights], axis=1)
    per_study = ratio_of_sums(group_sums(uids, rows))
    return GroupStatistics(np.stack([per_study, np.ones_like(per_study)], axis=1), ratio_of_sums)


def _metric_inputs(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions, study UIDs and targets of each row of an aligned pair."""
    uids, targets = split_row_ids(answers["row_id"].astype(str))
    return (
        answers["fractured"].to_numpy(),
        submission["fractured"].to_numpy(dtype=np.float64),
        uids.to_numpy(),
        targets.to_numpy(),
    )


METRIC = Metric(
    name="weighted log loss",
    greater_is_better=False,
    id_column="row_id",
    score=score,
    groups=studies,
    bootstrap_statistics=bootstrap_statistics,
    best=0.0,
)
