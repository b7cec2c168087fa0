"""Steel images and their four class masks as in-memory arrays at the network's input size.

Images are read grey (the competition's JPEGs are grey pictures stored in 3 channels). The
four masks of an image are packed into the bits of one uint8 array (bit k-1 = class k), a
quarter of the memory of four masks: the real training set is 12,568 images of 256 x 1600.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from harness.kit.segmentation.rle import decode_absolute
from tasks.severstal_steel.layout import CLASS_IDS, MASK_COLUMNS, ImageReadError, read_grey

log = logging.getLogger(__name__)


class LoadedImages(NamedTuple):
    images: np.ndarray
    """(N, height, width) uint8; zeros where ``ok`` is False."""
    ok: np.ndarray
    unreadable: list[str]


def input_size(frame: pd.DataFrame, scale: float, stride: int) -> tuple[int, int]:
    """(height, width) of the network input: the images' usual size x ``scale``, each side
    rounded to a multiple of ``stride`` (an smp encoder of depth d downsamples by 2**d)."""

    def rounded(side: float) -> int:
        return max(stride, round(side * scale / stride) * stride)

    return rounded(float(frame["height"].median())), rounded(float(frame["width"].median()))


def load_images(frame: pd.DataFrame, size: tuple[int, int]) -> LoadedImages:
    """Every row's image resized to ``size`` (area interpolation); unreadable files logged."""
    height, width = size
    loaded = LoadedImages(
        np.zeros((len(frame), height, width), dtype=np.uint8), np.zeros(len(frame), bool), []
    )
    for i, path in enumerate(frame["path"]):
        try:
            grey = read_grey(path)
        except ImageReadError as err:
            log.warning("skipping unreadable image: %s", err)
            loaded.unreadable.append(str(path))
            continue
        loaded.images[i] = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
        loaded.ok[i] = True
    return loaded


def load_masks(frame: pd.DataFrame, size: tuple[int, int]) -> np.ndarray:
    """(N, height, width) uint8 with bit k-1 set where class k is, resized like the images."""
    height, width = size
    packed = np.zeros((len(frame), height, width), dtype=np.uint8)
    columns = [frame[c].astype(str) for c in ("height", "width", *MASK_COLUMNS)]
    for i, (image_height, image_width, *rles) in enumerate(zip(*columns, strict=True)):
        for k, rle in zip(CLASS_IDS, rles, strict=True):
            if not rle:
                continue
            mask = decode_absolute(rle, (int(image_height), int(image_width)))
            resized = cv2.resize(
                mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA
            )
            packed[i] |= (resized >= 0.5).astype(np.uint8) << (k - 1)
    return packed


def unpack(packed: np.ndarray) -> np.ndarray:
    """(..., 4, height, width) 0/1 uint8 masks from packed (..., height, width) bits."""
    bits = np.arange(len(CLASS_IDS), dtype=np.uint8).reshape(-1, 1, 1)
    return (packed[..., None, :, :] >> bits) & 1
