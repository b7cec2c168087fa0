"""The competition metric: mean over images of the Dice of the predicted and true masks.

An image scores 1 when both masks are empty (``-1``), 0 when exactly one is. Masks are compared
as runs (harness.kit.segmentation.dice.runs_dice), never decoded; each image's Dice is computed once
(``image_dices``) and the bootstrap averages those per resample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.kit.segmentation.dice import runs_dice
from harness.kit.segmentation.rle import relative_runs


def image_dice(prediction: str, truth: str, height: int, width: int) -> float:
    """Dice of two SIIM relative RLEs over a ``height`` x ``width`` image (1 if both empty)."""
    shape = (height, width)
    return runs_dice(relative_runs(prediction, shape), relative_runs(truth, shape))


def mean_dice(
    predictions: Sequence[str], truths: Sequence[str], shapes: Sequence[tuple[int, int]]
) -> float:
    """The competition score: mean ``image_dice`` over images given in the same order."""
    return float(np.mean(image_dices(predictions, truths, shapes)))


def image_dices(
    predictions: Sequence[str], truths: Sequence[str], shapes: Sequence[tuple[int, int]]
) -> np.ndarray:
    """``image_dice`` of each image, in order (a resample averages them)."""
    if not len(predictions) == len(truths) == len(shapes):
        raise ValueError(
            f"{len(predictions)} predictions, {len(truths)} truths and {len(shapes)} image sizes: "
            "they must pair up one to one"
        )
    if not predictions:
        raise ValueError("mean Dice of no images is undefined")
    return np.array(
        [
            image_dice(p, t, int(h), int(w))
            for p, t, (h, w) in zip(predictions, truths, shapes, strict=True)
        ],
        dtype=np.float64,
    )
