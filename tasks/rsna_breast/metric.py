"""The competition's probabilistic F-beta score (pF1 with beta=1).

Re-implements the host's reference code, vectorised, with two differences in the cases where
the reference divides by zero: all-zero predictions and a truth without any positive both score
0.0 with a RuntimeWarning instead of raising ZeroDivisionError.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from harness.kit.stats import GroupStatistics, group_sums
from harness.kit.task import Metric


def probabilistic_precision_recall(
    labels: ArrayLike, predictions: ArrayLike
) -> tuple[float, float]:
    """Probabilistic precision and recall: predictions count as fractional true/false positives.

    Predictions are clipped to [0, 1]. ``ctp`` sums them over positives, ``cfp`` over negatives;
    precision = ctp / (ctp + cfp) and recall = ctp / #positives. Where a denominator is 0
    (all predictions 0, or no positive) the value is 0.0 and a RuntimeWarning says why.
    """
    positive, p = _checked(labels, predictions)
    ctp = float(p[positive].sum())
    cfp = float(p[~positive].sum())
    n_positive = int(positive.sum())

    if ctp + cfp == 0.0:
        warnings.warn(
            "pF1: every prediction is 0, so precision is 0/0 (the reference code raises "
            "ZeroDivisionError); scoring 0.0",
            RuntimeWarning,
            stacklevel=2,
        )
        precision = 0.0
    else:
        precision = ctp / (ctp + cfp)
    if n_positive == 0:
        warnings.warn(
            "pF1: the labels have no positive, so recall is 0/0 (the reference code raises "
            "ZeroDivisionError); scoring 0.0",
            RuntimeWarning,
            stacklevel=2,
        )
        recall = 0.0
    else:
        recall = ctp / n_positive
    return precision, recall


def _checked(labels: ArrayLike, predictions: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(positive mask, predictions clipped to [0, 1]); ValueError says what is wrong."""
    y = np.asarray(labels)
    p = np.asarray(predictions, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1:
        raise ValueError(f"labels and predictions must be 1-D, got shapes {y.shape} and {p.shape}")
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} predictions: they must pair up one to one")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, found values {np.unique(y)[:10].tolist()}")
    if np.isnan(p).any():
        where = np.flatnonzero(np.isnan(p))[:5].tolist()
        raise ValueError(f"predictions contain NaN (first positions: {where})")

    return y.astype(bool), np.clip(p, 0.0, 1.0)


def pfbeta(labels: ArrayLike, predictions: ArrayLike, beta: float = 1.0) -> float:
    """Probabilistic F-beta: (1 + b^2) P R / (b^2 P + R), and 0.0 when P or R is 0."""
    precision, recall = probabilistic_precision_recall(labels, predictions)
    if precision <= 0.0 or recall <= 0.0:
        return 0.0
    beta_squared = beta * beta
    return (1 + beta_squared) * precision * recall / (beta_squared * precision + recall)


def pfbeta_row_terms(labels: ArrayLike, predictions: ArrayLike) -> np.ndarray:
    """Per row (p if positive, p if negative, 1 if positive), p clipped: summed over rows,
    the ``ctp``, ``cfp`` and positive count of ``probabilistic_precision_recall``."""
    positive, p = _checked(labels, predictions)
    return np.stack([np.where(positive, p, 0.0), np.where(positive, 0.0, p), positive], axis=1)


def pfbeta_from_sums(sums: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """``pfbeta`` of many row sets at once from their summed ``pfbeta_row_terms`` (R x 3).

    The same arithmetic and the same 0.0 where a denominator is 0, without the warnings.
    """
    ctp, cfp, n_positive = sums[:, 0], sums[:, 1], sums[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ctp + cfp == 0.0, 0.0, ctp / (ctp + cfp))
        recall = np.where(n_positive == 0.0, 0.0, ctp / n_positive)
        beta_squared = beta * beta
        f = (1 + beta_squared) * precision * recall / (beta_squared * precision + recall)
    return np.where((precision <= 0.0) | (recall <= 0.0), 0.0, f)


def patients(answers: pd.DataFrame) -> np.ndarray:
    """The patient of each breast: bootstrap resamples patients, as the split groups them."""
    return answers["prediction_id"].astype(str).str.rsplit("_", n=1).str[0].to_numpy()


def score(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    """pF1 of an aligned submission."""
    return pfbeta(*_labels_and_predictions(submission, answers))


def bootstrap_statistics(submission: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics:
    """Per patient, the sums of pF1's ctp, cfp and positives."""
    terms = pfbeta_row_terms(*_labels_and_predictions(submission, answers))
    return GroupStatistics(group_sums(patients(answers), terms), pfbeta_from_sums)


def _labels_and_predictions(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    return answers["cancer"].to_numpy(), submission["cancer"].to_numpy(dtype=np.float64)


METRIC = Metric(
    name="pF1",
    greater_is_better=True,
    id_column="prediction_id",
    score=score,
    groups=patients,
    bootstrap_statistics=bootstrap_statistics,
    best=1.0,
)
