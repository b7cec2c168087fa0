"""Mean Dice of RLE masks with either reader: SIIM's relative RLE (a mask per image) and
Severstal's absolute RLE (a mask per image and class); hand-computed, empty/empty scoring 1."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from harness.kit.segmentation.metric import RleReader, dice_metric, mask_dice, mask_dices
from harness.kit.segmentation.rle import absolute_runs, relative_runs

SHAPE = (4, 3)


@dataclass(frozen=True)
class Flavour:
    runs: RleReader
    empty: str
    first_pixel: str
    whole_image: str
    masks: str
    """What the rows are, as the message about no rows names them."""


RELATIVE = Flavour(relative_runs, "-1", "0 1", "0 12", "images")
ABSOLUTE = Flavour(absolute_runs, "", "1 1", "1 12", "(image, class) pairs")
FLAVOURS = {"relative": RELATIVE, "absolute": ABSOLUTE}


def _score(predictions: list[str], truths: list[str], runs: RleReader) -> float:
    """The metric a task declares, scoring rows of ``SHAPE`` images."""
    ids = [f"row{i}" for i in range(len(truths))]
    metric = dice_metric(
        id_column="ImageId", runs=runs, groups=lambda a: np.arange(len(a)), masks="images"
    )
    submission = pd.DataFrame({"ImageId": ids, "EncodedPixels": predictions})
    answers = submission.assign(EncodedPixels=truths, height=SHAPE[0], width=SHAPE[1])
    return metric.score(submission, answers)


@pytest.mark.parametrize("flavour", FLAVOURS.values(), ids=FLAVOURS)
def test_edge_cases(flavour: Flavour) -> None:
    def dice(prediction: str, truth: str) -> float:
        return mask_dice(prediction, truth, *SHAPE, runs=flavour.runs)

    assert dice(flavour.empty, flavour.empty) == 1.0
    assert dice(flavour.empty, flavour.first_pixel) == 0.0
    assert dice(flavour.first_pixel, flavour.empty) == 0.0
    assert dice(flavour.whole_image, flavour.whole_image) == 1.0


@pytest.mark.parametrize("flavour", FLAVOURS.values(), ids=FLAVOURS)
def test_inputs_must_pair_up_and_be_some(flavour: Flavour) -> None:
    with pytest.raises(ValueError, match="pair up"):
        mask_dices([flavour.empty], [flavour.empty] * 2, [SHAPE], runs=flavour.runs)
    with pytest.raises(ValueError, match=re.escape(f"no {flavour.masks}")):
        mask_dices([], [], [], runs=flavour.runs, masks=flavour.masks)


def test_hand_computed_mean_over_images() -> None:
    # Image 3: prediction pixels 2..5, truth 4..6 and 9 -> overlap 2, sizes 4 + 4 -> 0.5.
    predictions = ["-1", "-1", "2 4", "0 12"]
    truths = ["-1", "1 1", "4 3 2 1", "0 12"]
    score = _score(predictions, truths, relative_runs)
    assert score == pytest.approx((1 + 0 + 0.5 + 1) / 4)


def test_hand_computed_mean_over_image_class_pairs() -> None:
    # One image, four classes:
    #   class 1 both empty -> 1;
    #   class 2 prediction pixels 3..6 (1-based), truth 5..7 and 10 -> overlap {5, 6} = 2,
    #     sizes 4 + 4 -> 2 * 2 / 8 = 0.5;
    #   class 3 prediction 1..2, truth empty -> 0;
    #   class 4 prediction 1..3, truth 2..3 -> overlap 2, sizes 3 + 2 -> 0.8.
    predictions = ["", "3 4", "1 2", "1 3"]
    truths = ["", "5 3 10 1", "", "2 2"]
    score = _score(predictions, truths, absolute_runs)
    assert score == pytest.approx((1 + 0.5 + 0 + 0.8) / 4)


def test_absolute_rle_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        mask_dice("0 2", "", *SHAPE, runs=absolute_runs)
