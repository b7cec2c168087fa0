"""Mean Dice of RLE masks: the metric of Kaggle's segmentation competitions (SIIM, Severstal).

A row pairs a predicted and a true RLE of one mask (an image, or an image and a class) and
scores 2|P & T| / (|P| + |T|), 1 when both are empty; the competition score is the mean over
rows. The competitions differ only in how an RLE reads (``rle.relative_runs``,
``rle.absolute_runs``), so the reader is a parameter. Masks are compared as runs
(``dice.runs_dice``), never decoded; each row's Dice is computed once (``mask_dices``) and the
bootstrap averages those per resample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from harness.kit.segmentation.dice import Runs, runs_dice
from harness.kit.stats import GroupStatistics, mean_of_rows
from harness.kit.task import Metric

RleReader = Callable[[str, tuple[int, int]], Runs]
"""Runs of an RLE over a (height, width) image; raises ValueError saying what is malformed."""


def mask_dice(prediction: str, truth: str, height: int, width: int, *, runs: RleReader) -> float:
    """Dice of two RLEs over a ``height`` x ``width`` image (1 if both are empty)."""
    shape = (height, width)
    return runs_dice(runs(prediction, shape), runs(truth, shape))


def mask_dices(
    predictions: Sequence[str],
    truths: Sequence[str],
    shapes: Sequence[tuple[int, int]],
    *,
    runs: RleReader,
    masks: str = "masks",
) -> np.ndarray:
    """``mask_dice`` of each row, in order (a resample averages them).

    ``masks`` names the rows in the message about an empty input ("images", ...).
    """
    if not len(predictions) == len(truths) == len(shapes):
        raise ValueError(
            f"{len(predictions)} predictions, {len(truths)} truths and {len(shapes)} image sizes: "
            "they must pair up one to one"
        )
    if not predictions:
        raise ValueError(f"mean Dice of no {masks} is undefined")
    return np.array(
        [
            mask_dice(p, t, int(h), int(w), runs=runs)
            for p, t, (h, w) in zip(predictions, truths, shapes, strict=True)
        ],
        dtype=np.float64,
    )


def dice_metric(
    *,
    id_column: str,
    runs: RleReader,
    groups: Callable[[pd.DataFrame], np.ndarray],
    masks: str,
) -> Metric:
    """The mean Dice of a submission's ``EncodedPixels`` against the answers', whose rows give
    each image's ``height`` and ``width``; ``groups`` is the bootstrap unit of each row."""

    def row_dices(submission: pd.DataFrame, answers: pd.DataFrame) -> np.ndarray:
        return mask_dices(
            submission["EncodedPixels"].astype(str).tolist(),
            answers["EncodedPixels"].astype(str).tolist(),
            list(zip(answers["height"], answers["width"], strict=True)),
            runs=runs,
            masks=masks,
        )

    def score(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return float(np.mean(row_dices(submission, answers)))

    def bootstrap_statistics(submission: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics:
        """Per group, the sum of its rows' Dice and its row count: a resample's mean Dice."""
        return mean_of_rows(groups(answers), row_dices(submission, answers))

    return Metric(
        name="Dice",
        greater_is_better=True,
        id_column=id_column,
        score=score,
        groups=groups,
        bootstrap_statistics=bootstrap_statistics,
        best=1.0,
    )
