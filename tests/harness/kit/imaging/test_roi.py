from __future__ import annotations

import numpy as np
import pytest

from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.intensity import to_unit_range
from harness.kit.imaging.roi import Box, breast_box, crop_to_box, resize_pad
from tasks.rsna_breast.synthetic import BreastSynthConfig, synthesize

HEIGHT, WIDTH = 256, 208
Views = list[tuple[str, str, np.ndarray]]


@pytest.fixture(scope="module")
def mammograms(tmp_path_factory: pytest.TempPathFactory) -> Views:
    """(laterality, photometric, unit-range image) of 12 synthetic views, 256x208."""
    root = tmp_path_factory.mktemp("breast")
    config = BreastSynthConfig(
        n_patients=3, height=HEIGHT, width=WIDTH, monochrome1_fraction=0.5, sigmoid_fraction=0.3
    )
    table = synthesize(root, config, seed=7)
    views = []
    for row in table.itertuples():
        image = read_dicom(root / "train_images" / str(row.patient_id) / f"{row.image_id}.dcm")
        views.append((str(row.laterality), image.photometric, to_unit_range(image)))
    return views


def _marker_mask(laterality: str) -> np.ndarray:
    """Where the generator burns its label in (tasks/rsna_breast/synthetic.py, _burn_in_marker)."""
    box_h, box_w = max(6, round(0.07 * HEIGHT)), max(12, round(0.2 * WIDTH))
    left = WIDTH - box_w - round(0.03 * WIDTH) if laterality == "L" else round(0.03 * WIDTH)
    top = round(0.03 * HEIGHT)
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[top : top + box_h, left : left + box_w] = True
    return mask


def test_box_holds_the_breast_and_leaves_out_the_marker(mammograms: Views) -> None:
    assert {photometric for _, photometric, _ in mammograms} == {"MONOCHROME1", "MONOCHROME2"}
    for laterality, _, image in mammograms:
        box = breast_box(image)
        inside = np.zeros(image.shape, bool)
        inside[box.top : box.bottom, box.left : box.right] = True
        marker = _marker_mask(laterality)
        tissue = np.where(marker | (image <= 0.1), 0.0, image)  # 0.1: above any background

        assert not (inside & marker).any(), (laterality, box)
        assert tissue[inside].sum() >= 0.995 * tissue.sum(), (laterality, box)
        assert box.height * box.width < 0.75 * image.size  # a crop, not the full frame
        # The chest wall is on the laterality's side, so the box touches that edge.
        assert (box.left == 0) if laterality == "L" else (box.right == WIDTH)


def test_exact_box_of_a_hand_made_image_without_padding() -> None:
    image = np.zeros((64, 52), np.float32)
    image[10:40, 0:30] = 0.8  # the "breast"
    image[2:6, 44:50] = 1.0  # a small bright label, apart from it

    assert breast_box(image, padding=0.0) == Box(top=10, left=0, bottom=40, right=30)
    # Padding widens each side by 1% of the image side (1 pixel here), clipped to the image.
    assert breast_box(image) == Box(top=9, left=0, bottom=41, right=31)


def test_a_blob_smaller_than_min_area_fraction_gives_the_full_frame() -> None:
    image = np.zeros((100, 100), np.float32)
    image[40:60, 30:45] = 1.0  # 3% of the image

    assert breast_box(image, padding=0.0) == Box(0, 0, 100, 100)
    assert breast_box(image, min_area_fraction=0.02, padding=0.0) == Box(40, 30, 60, 45)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((64, 52), np.float32),
        np.ones((64, 52), np.float32),
        np.random.default_rng(0).random((HEIGHT, WIDTH), dtype=np.float32),
    ],
    ids=["blank", "constant", "noise"],
)
def test_no_breast_gives_the_full_frame(image: np.ndarray) -> None:
    assert breast_box(image) == Box(0, 0, *image.shape)


def test_breast_box_rejects_non_2d_input() -> None:
    with pytest.raises(ValueError, match="2-D"):
        breast_box(np.zeros((4, 4, 3), np.float32))


def test_crop_to_box_is_a_view_of_the_box() -> None:
    image = np.arange(48, dtype=np.float32).reshape(6, 8)

    crop = crop_to_box(image, Box(top=1, left=2, bottom=4, right=7))

    np.testing.assert_array_equal(crop, image[1:4, 2:7])
    assert np.shares_memory(crop, image)
    for bad in (Box(0, 0, 7, 8), Box(2, 2, 2, 5), Box(0, -1, 3, 3)):
        with pytest.raises(ValueError, match="outside"):
            crop_to_box(image, bad)


@pytest.mark.parametrize(
    ("shape", "size", "placed"),
    [
        ((100, 50), (64, 64), (0, 64, 32)),  # tall: full height, left part
        ((50, 100), (64, 64), (16, 32, 64)),  # wide: full width, centred vertically
        ((10, 5), (40, 40), (0, 40, 20)),  # enlarged
        ((30, 20), (60, 40), (0, 60, 40)),  # same aspect: fills the output
    ],
)
def test_resize_pad_keeps_the_aspect_and_anchors_left(
    shape: tuple[int, int], size: tuple[int, int], placed: tuple[int, int, int]
) -> None:
    top, rows, columns = placed
    for dtype in (np.float32, np.uint16):
        image = np.ones(shape, dtype)

        out = resize_pad(image, *size)

        assert out.shape == size and out.dtype == dtype
        expected = np.zeros(size, dtype)
        expected[top : top + rows, :columns] = 1
        np.testing.assert_allclose(out, expected, atol=1e-6)
        assert columns / rows == pytest.approx(shape[1] / shape[0], rel=0.05)


def test_resize_pad_shrinks_without_aliasing() -> None:
    """INTER_AREA averages: a one-pixel checkerboard shrinks to flat grey, not to a pattern."""
    checkerboard = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32)

    out = resize_pad(checkerboard, 16, 16)

    np.testing.assert_allclose(out, 0.5)


def test_resize_pad_keeps_channels_and_rejects_bad_sizes() -> None:
    assert resize_pad(np.ones((20, 10, 3), np.float32), 8, 8).shape == (8, 8, 3)
    with pytest.raises(ValueError):
        resize_pad(np.ones((20, 10), np.float32), 0, 8)
    with pytest.raises(ValueError):
        resize_pad(np.ones((0, 10), np.float32), 8, 8)


def test_synthetic_breast_crops_and_fits_a_model_input(mammograms: Views) -> None:
    _, _, image = next(view for view in mammograms if view[0] == "R")
    mirrored = image[:, ::-1]  # chest wall on the left, as callers do for right breasts

    crop = crop_to_box(mirrored, breast_box(mirrored))
    model_input = resize_pad(crop, 128, 64)

    assert model_input.shape == (128, 64)
    assert model_input[:, 0].mean() > 0.2  # tissue against the left edge
