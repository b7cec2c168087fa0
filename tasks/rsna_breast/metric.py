"""The competition's probabilistic F-beta score (pF1 with beta=1).

Re-implements the host's reference code, vectorised, with two differences in the cases where
the reference divides by zero: all-zero predictions and a truth without any positive both score
0.0 with a RuntimeWarning instead of raising ZeroDivisionError.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike


def probabilistic_precision_recall(
    labels: ArrayLike, predictions: ArrayLike
) -> tuple[float, float]:
    """Probabilistic precision and recall: predictions count as fractional true/false positives.

    Predictions are clipped to [0, 1]. ``ctp`` sums them over positives, ``cfp`` over negatives;
    precision = ctp / (ctp + cfp) and recall = ctp / #positives. Where a denominator is 0
    (all predictions 0, or no positive) the value is 0.0 and a RuntimeWarning says why.
    """
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

    positive = y.astype(bool)
    p = np.clip(p, 0.0, 1.0)
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


def pfbeta(labels: ArrayLike, predictions: ArrayLike, beta: float = 1.0) -> float:
    """Probabilistic F-beta: (1 + b^2) P R / (b^2 P + R), and 0.0 when P or R is 0."""
    precision, recall = probabilistic_precision_recall(labels, predictions)
    if precision <= 0.0 or recall <= 0.0:
        return 0.0
    beta_squared = beta * beta
    return (1 + beta_squared) * precision * recall / (beta_squared * precision + recall)
