"""The competition's weighted multi-label log loss.

Every image has six rows, one per subtype; a row's weight is 2 for ``any`` and 1 for the five
hemorrhage subtypes (the weights the community established by probing the leaderboard; the host
never published the evaluation code). The score is the weighted mean of the binary log losses
over all rows::

    score = -sum_i w_i * (y_i * log(p_i) + (1 - y_i) * log(1 - p_i)) / sum_i w_i

which, with six rows per image, equals the per-image weighted mean (weights summing to 7)
averaged over images. Predictions are clipped to [EPSILON, 1 - EPSILON] first, with
EPSILON = 1e-15, the default of scikit-learn's ``log_loss`` at the time of the competition
(2019): an exact 0 or 1 on a wrong row costs -log(1e-15) = 34.5 instead of infinity.
Lower is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from harness.kit.stats import GroupStatistics, mean_of_rows
from harness.kit.task import Metric
from tasks.rsna_ich.submission import GROUP_COLUMN

EPSILON = 1e-15
SUBTYPE_WEIGHTS: dict[str, float] = {
    "epidural": 1.0,
    "intraparenchymal": 1.0,
    "intraventricular": 1.0,
    "subarachnoid": 1.0,
    "subdural": 1.0,
    "any": 2.0,
}


def weighted_log_loss(labels: ArrayLike, predictions: ArrayLike, weights: ArrayLike) -> float:
    """Weighted mean binary log loss over rows, predictions clipped to [EPSILON, 1 - EPSILON].

    Raises ValueError for mismatched shapes, labels other than 0/1, NaN predictions or
    non-positive total weight.
    """
    weighted, w = weighted_row_losses(labels, predictions, weights)
    return float(np.sum(weighted) / np.sum(w))


def weighted_row_losses(
    labels: ArrayLike, predictions: ArrayLike, weights: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """(w * loss, w) of each row: ``weighted_log_loss`` is the sum of one over the other."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(predictions, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if not (y.ndim == p.ndim == w.ndim == 1):
        raise ValueError(
            f"labels, predictions and weights must be 1-D, got {y.shape}, {p.shape}, {w.shape}"
        )
    if not len(y) == len(p) == len(w):
        raise ValueError(
            f"{len(y)} labels, {len(p)} predictions and {len(w)} weights: they must pair up"
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 or 1, found {np.unique(y)[:10].tolist()}")
    if np.isnan(p).any():
        raise ValueError(f"predictions contain NaN (positions {np.flatnonzero(np.isnan(p))[:5]})")
    if w.sum() <= 0:
        raise ValueError("the weights sum to zero: nothing to score")
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    losses = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
    return w * losses, w


def row_weights(subtypes: ArrayLike) -> np.ndarray:
    """The weight of each row from its subtype name; ValueError names an unknown subtype."""
    names = np.asarray(subtypes, dtype=object)
    unknown = sorted({str(s) for s in names} - set(SUBTYPE_WEIGHTS))
    if unknown:
        raise ValueError(f"unknown subtype(s) {unknown}; known: {', '.join(SUBTYPE_WEIGHTS)}")
    return np.array([SUBTYPE_WEIGHTS[str(s)] for s in names], dtype=np.float64)


def studies(answers: pd.DataFrame) -> np.ndarray:
    """The study of each row: the bootstrap resamples whole studies (their slices are
    correlated), falling back to the image where the answers name no study."""
    if GROUP_COLUMN in answers.columns:
        return answers[GROUP_COLUMN].astype(str).to_numpy()
    return answers["ID"].astype(str).str.rsplit("_", n=1).str[0].to_numpy()


def score(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    """The weighted log loss of an aligned submission."""
    return weighted_log_loss(*_metric_inputs(submission, answers))


def bootstrap_statistics(submission: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics:
    """Per study, the sums of its rows' weighted losses and of their weights."""
    weighted, weights = weighted_row_losses(*_metric_inputs(submission, answers))
    return mean_of_rows(studies(answers), weighted, weights)


def _metric_inputs(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions and weights of each row of an aligned pair."""
    subtypes = answers["ID"].astype(str).str.rsplit("_", n=1).str[1]
    return (
        answers["Label"].to_numpy(),
        submission["Label"].to_numpy(dtype=np.float64),
        row_weights(subtypes.to_numpy()),
    )


METRIC = Metric(
    name="weighted log loss",
    greater_is_better=False,
    id_column="ID",
    score=score,
    groups=studies,
    bootstrap_statistics=bootstrap_statistics,
    best=0.0,
)
