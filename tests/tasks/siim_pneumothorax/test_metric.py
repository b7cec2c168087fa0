"""Mean Dice over images (SIIM's relative RLE), hand-computed, with the empty-mask convention."""

from __future__ import annotations

from functools import partial

import pytest

from harness.kit.segmentation.metric import mask_dice, mean_dice
from harness.kit.segmentation.rle import relative_runs

SHAPE = (4, 3)
image_dice = partial(mask_dice, runs=relative_runs)
mean_image_dice = partial(mean_dice, runs=relative_runs, masks="images")


def test_edge_cases() -> None:
    assert image_dice("-1", "-1", *SHAPE) == 1.0
    assert image_dice("-1", "0 1", *SHAPE) == 0.0
    assert image_dice("0 1", "-1", *SHAPE) == 0.0


def test_hand_computed_mean() -> None:
    # Image 3: prediction pixels 2..5, truth 4..6 and 9 -> overlap 2, sizes 4 + 4 -> 0.5.
    predictions = ["-1", "-1", "2 4", "0 12"]
    truths = ["-1", "1 1", "4 3 2 1", "0 12"]
    assert mean_image_dice(predictions, truths, [SHAPE] * 4) == pytest.approx((1 + 0 + 0.5 + 1) / 4)


def test_inputs_must_pair_up() -> None:
    with pytest.raises(ValueError, match="pair up"):
        mean_image_dice(["-1"], ["-1", "-1"], [SHAPE])
    with pytest.raises(ValueError, match="no images"):
        mean_image_dice([], [], [])
