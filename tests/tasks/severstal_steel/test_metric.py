"""Mean Dice over (image, class) pairs (absolute RLE), hand-computed, empty/empty scoring 1."""

from __future__ import annotations

from functools import partial

import pytest

from harness.kit.segmentation.metric import mask_dice, mean_dice
from harness.kit.segmentation.rle import absolute_runs

SHAPE = (4, 3)
pair_dice = partial(mask_dice, runs=absolute_runs)
mean_pair_dice = partial(mean_dice, runs=absolute_runs, masks="(image, class) pairs")


def test_edge_cases() -> None:
    assert pair_dice("", "", *SHAPE) == 1.0
    assert pair_dice("", "1 1", *SHAPE) == 0.0
    assert pair_dice("1 1", "", *SHAPE) == 0.0
    assert pair_dice("1 12", "1 12", *SHAPE) == 1.0


def test_hand_computed_mean_over_image_class_pairs() -> None:
    # One image, four classes:
    #   class 1 both empty -> 1;
    #   class 2 prediction pixels 3..6 (1-based), truth 5..7 and 10 -> overlap {5, 6} = 2,
    #     sizes 4 + 4 -> 2 * 2 / 8 = 0.5;
    #   class 3 prediction 1..2, truth empty -> 0;
    #   class 4 prediction 1..3, truth 2..3 -> overlap 2, sizes 3 + 2 -> 0.8.
    predictions = ["", "3 4", "1 2", "1 3"]
    truths = ["", "5 3 10 1", "", "2 2"]
    expected = (1 + 0.5 + 0 + 0.8) / 4
    assert mean_pair_dice(predictions, truths, [SHAPE] * 4) == pytest.approx(expected)


def test_malformed_rle_and_unpaired_inputs_raise() -> None:
    with pytest.raises(ValueError, match="1-based"):
        pair_dice("0 2", "", *SHAPE)
    with pytest.raises(ValueError, match="pair up"):
        mean_pair_dice([""], ["", ""], [SHAPE])
    with pytest.raises(ValueError, match="no \\(image, class\\) pairs"):
        mean_pair_dice([], [], [])
