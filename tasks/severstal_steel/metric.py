"""The competition metric: mean Dice over every (image, class) pair of the test set.

A pair scores 2|P & T| / (|P| + |T|), and 1 when both masks are empty, so an image without
defects contributes four 1s to a submission that leaves it empty. Masks are compared as runs of
the absolute RLEs (harness.kit.segmentation.dice.runs_dice), never decoded; each pair's Dice is
computed once (``pair_dices``) and the bootstrap averages those per resample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.kit.segmentation.dice import runs_dice
from harness.kit.segmentation.rle import absolute_runs


def pair_dice(prediction: str, truth: str, height: int, width: int) -> float:
    """Dice of two absolute RLEs over a ``height`` x ``width`` image (1 if both are empty)."""
    shape = (height, width)
    return runs_dice(absolute_runs(prediction, shape), absolute_runs(truth, shape))


def mean_dice(
    predictions: Sequence[str], truths: Sequence[str], shapes: Sequence[tuple[int, int]]
) -> float:
    """The competition score: mean ``pair_dice`` over (image, class) pairs in the same order."""
    return float(np.mean(pair_dices(predictions, truths, shapes)))


def pair_dices(
    predictions: Sequence[str], truths: Sequence[str], shapes: Sequence[tuple[int, int]]
) -> np.ndarray:
    """``pair_dice`` of each (image, class) pair, in order (a resample averages them)."""
    if not len(predictions) == len(truths) == len(shapes):
        raise ValueError(
            f"{len(predictions)} predictions, {len(truths)} truths and {len(shapes)} image sizes: "
            "they must pair up one to one"
        )
    if not predictions:
        raise ValueError("mean Dice of no (image, class) pairs is undefined")
    return np.array(
        [
            pair_dice(p, t, int(h), int(w))
            for p, t, (h, w) in zip(predictions, truths, shapes, strict=True)
        ],
        dtype=np.float64,
    )
