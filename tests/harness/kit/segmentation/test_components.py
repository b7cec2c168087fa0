"""Removal of connected components below a minimum area."""

from __future__ import annotations

import numpy as np
import pytest

from harness.kit.segmentation.components import remove_small_components


def _mask() -> np.ndarray:
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[1:4, 1:4] = 255  # 9 pixels
    mask[7, 7:9] = 1  # 2 pixels
    mask[5, 5] = 1  # 1 pixel, diagonal to nothing
    mask[4, 4] = 1  # touches the 3x3 block at a corner only
    return mask


def test_small_components_go_and_large_ones_stay() -> None:
    cleaned = remove_small_components(_mask(), min_area=3)
    expected = np.zeros((10, 10), dtype=np.uint8)
    # With 8-connectivity (4,4) and (5,5) join the block through its corner: 11 pixels.
    expected[1:4, 1:4] = 1
    expected[4, 4] = expected[5, 5] = 1
    np.testing.assert_array_equal(cleaned, expected)


def test_four_connectivity_separates_corner_neighbours() -> None:
    cleaned = remove_small_components(_mask(), min_area=2, connectivity=4)
    expected = np.zeros((10, 10), dtype=np.uint8)
    expected[1:4, 1:4] = 1
    expected[7, 7:9] = 1
    np.testing.assert_array_equal(cleaned, expected)


def test_threshold_is_inclusive_and_can_remove_everything() -> None:
    assert remove_small_components(_mask(), min_area=11).sum() == 11
    assert remove_small_components(_mask(), min_area=12).sum() == 0


def test_min_area_one_keeps_the_mask_as_zero_one() -> None:
    np.testing.assert_array_equal(remove_small_components(_mask(), 1), (_mask() != 0))


def test_empty_mask_stays_empty() -> None:
    assert remove_small_components(np.zeros((3, 3), dtype=bool), 5).sum() == 0


def test_bad_connectivity_is_an_error() -> None:
    with pytest.raises(ValueError, match="connectivity"):
        remove_small_components(_mask(), 2, connectivity=6)
