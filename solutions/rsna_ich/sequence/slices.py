"""Slices as cached 3-window uint8 images (brain, subdural, soft tissue), one file per slice.

Decoding and windowing cost far more than a training step reads, so each slice is done once
and stored under the cache folder, keyed by the file's content and the preprocessing
parameters. Images stay on disk and are read by the DataLoader: the full Kaggle train set at
480 x 480 is ~520 GB as uint8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from harness.kit.imaging.cache import ArrayCache
from harness.kit.imaging.roi import Box, crop_to_box
from harness.kit.slices import prepare_slices as prepare
from tasks.rsna_ich.imaging import windowed_slice

CACHE_VERSION = 1
"""Bump when the preprocessing changes in a way its parameters do not capture."""
CROP_KERNEL_FRACTION = 1 / 15
"""Minimum-filter side as a fraction of the image side (the write-up: size // 15)."""


def head_box(channels: np.ndarray, kernel: int) -> Box | None:
    """The box around what is non-zero in some window after a ``kernel``-pixel minimum filter,
    widened by ``kernel``; None when nothing survives (an empty slice).

    ``channels`` is (H, W, C) in [0, 1]. The filter (grey erosion) wipes structures thinner
    than the kernel, such as a head-rest line, so they do not widen the box.
    """
    brightest = channels.max(axis=2)
    eroded = cv2.erode(brightest, np.ones((kernel, kernel), np.uint8))
    rows = np.flatnonzero(eroded.max(axis=1) > 0)
    cols = np.flatnonzero(eroded.max(axis=0) > 0)
    if not len(rows) or not len(cols):
        return None
    height, width = brightest.shape
    return Box(
        top=max(0, int(rows[0]) - kernel),
        left=max(0, int(cols[0]) - kernel),
        bottom=min(height, int(rows[-1]) + 1 + kernel),
        right=min(width, int(cols[-1]) + 1 + kernel),
    )


def pad_square(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) centred on a zero square of side max(H, W)."""
    height, width = image.shape[:2]
    side = max(height, width)
    out = np.zeros((side, side, *image.shape[2:]), image.dtype)
    top, left = (side - height) // 2, (side - width) // 2
    out[top : top + height, left : left + width] = image
    return out


def slice_image(path: Path, size: int, *, crop_head: bool) -> np.ndarray:
    """One DICOM slice as (3, size, size) uint8, 255 = the top of each window."""
    if crop_head:
        channels = windowed_slice(path).transpose(1, 2, 0)
        box = head_box(channels, max(3, round(min(channels.shape[:2]) * CROP_KERNEL_FRACTION)))
        if box is not None:
            channels = pad_square(crop_to_box(channels, box))
        channels = cv2.resize(channels, (size, size), interpolation=cv2.INTER_AREA)
        image = channels.transpose(2, 0, 1)
    else:
        image = windowed_slice(path, size)
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def prepare_slices(
    paths: Sequence[str], cache_dir: Path, size: int, *, crop_head: bool
) -> list[Path | None]:
    """The cache file of every path, computing the missing ones; an unreadable file is logged
    by name and left out (None), never fatal."""
    params = {"size": size, "crop_head": crop_head, "windows": 3, "v": CACHE_VERSION}
    cache = ArrayCache(cache_dir / "sequence-slices", params)
    return prepare(paths, cache, lambda path: slice_image(path, size, crop_head=crop_head)).files
