"""Dice per pair of masks and its mean, with the competitions' empty-mask convention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.kit.segmentation.dice import dice, mean_dice, runs_dice
from harness.kit.segmentation.rle import mask_runs

EMPTY = np.zeros((4, 4), dtype=np.uint8)


def _mask(*pixels: tuple[int, int]) -> np.ndarray:
    mask = EMPTY.copy()
    for row, column in pixels:
        mask[row, column] = 1
    return mask


def test_both_empty_is_one() -> None:
    assert dice(EMPTY, EMPTY) == 1.0


def test_empty_against_non_empty_is_zero() -> None:
    assert dice(EMPTY, _mask((0, 0))) == 0.0
    assert dice(_mask((0, 0)), EMPTY) == 0.0


def test_hand_computed_overlap() -> None:
    # |P| = 3, |T| = 2, |P & T| = 1 -> 2 * 1 / 5.
    prediction = _mask((0, 0), (0, 1), (1, 1))
    truth = _mask((0, 1), (3, 3))
    assert dice(prediction, truth) == pytest.approx(0.4)


def test_mean_over_pairs_hand_computed() -> None:
    pairs = [
        (EMPTY, EMPTY),  # 1
        (EMPTY, _mask((2, 2))),  # 0
        (_mask((0, 0), (0, 1), (1, 1)), _mask((0, 1), (3, 3))),  # 0.4
        (_mask((1, 1)) * 255, _mask((1, 1))),  # 1, any nonzero value is foreground
    ]
    assert mean_dice(pairs) == pytest.approx((1 + 0 + 0.4 + 1) / 4)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        dice(EMPTY, np.zeros((4, 5)))


def test_mean_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        mean_dice([])


@st.composite
def mask_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = (draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    masks = arrays(np.uint8, shape, elements=st.integers(0, 1))
    return draw(masks), draw(masks)


@settings(max_examples=300, deadline=None)
@given(mask_pairs())
def test_runs_dice_equals_mask_dice(pair: tuple[np.ndarray, np.ndarray]) -> None:
    prediction, truth = pair
    assert runs_dice(mask_runs(prediction), mask_runs(truth)) == pytest.approx(
        dice(prediction, truth)
    )


def test_runs_dice_hand_computed() -> None:
    # Runs [2, 6) and [10, 12) against [4, 11): overlap 2 + 1 = 3, sizes 6 and 7 -> 6 / 13.
    prediction = (np.array([2, 10]), np.array([4, 2]))
    truth = (np.array([4]), np.array([7]))
    assert runs_dice(prediction, truth) == pytest.approx(6 / 13)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert runs_dice(empty, empty) == 1.0
    assert runs_dice(empty, truth) == 0.0
