"""The Dice coefficient as Kaggle's segmentation competitions score it (SIIM, Severstal).

Each pair of masks (one image, or one image and class) gets 2|P & T| / (|P| + |T|), with 1 when
both masks are empty; the competition score is the plain mean over pairs. ``runs_dice`` gives the
same number from run-length runs (``rle.relative_runs`` / ``rle.absolute_runs``) without building
the masks, which keeps bootstrap resampling of a 1024x1024 holdout cheap.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Runs = tuple[np.ndarray, np.ndarray]
"""0-based starts and lengths of sorted, non-overlapping runs over a flattened mask."""


def dice(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Dice of two binary masks of the same shape (nonzero = foreground); 1.0 if both are empty."""
    if prediction.shape != truth.shape:
        raise ValueError(
            f"prediction and truth masks differ in shape: {prediction.shape} vs {truth.shape}"
        )
    p = np.asarray(prediction, dtype=bool)
    t = np.asarray(truth, dtype=bool)
    total = int(p.sum()) + int(t.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(p, t).sum()) / total


def mean_dice(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean Dice over (prediction, truth) pairs; raises ValueError when there are none."""
    scores = [dice(prediction, truth) for prediction, truth in pairs]
    if not scores:
        raise ValueError("mean Dice of no masks is undefined: pass at least one pair")
    return float(np.mean(scores))


def runs_dice(prediction: Runs, truth: Runs) -> float:
    """Dice of two masks given as runs over the same flattening; 1.0 if both are empty."""
    total = int(prediction[1].sum()) + int(truth[1].sum())
    if total == 0:
        return 1.0
    starts, lengths = prediction
    overlap = _covered_before(truth, starts + lengths) - _covered_before(truth, starts)
    return 2.0 * int(overlap.sum()) / total


def _covered_before(runs: Runs, positions: np.ndarray) -> np.ndarray:
    """For each position x, how many pixels of ``runs`` lie before x."""
    starts, lengths = runs
    if starts.size == 0:
        return np.zeros(positions.shape, dtype=np.int64)
    n_started = np.searchsorted(starts, positions, side="left")
    last = np.maximum(n_started - 1, 0)
    # Every run before the last one started lies wholly before x (runs are disjoint, sorted).
    whole = np.concatenate(([0], np.cumsum(lengths)))[last]
    partial = np.minimum(positions - starts[last], lengths[last])
    return np.where(n_started > 0, whole + partial, 0)
