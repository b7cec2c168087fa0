"""Radiographs as cached square arrays, and their masks at the same size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from harness.kit.imaging.cache import ArrayCache, CachedImages, load_cached_images
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.intensity import to_unit_range
from harness.kit.segmentation.rle import decode_relative


def preprocess(path: Path, size: int) -> np.ndarray:
    """One DICOM as a uint8 (size, size) image: VOI/LUT to [0, 1], area resize, 8 bits."""
    image = to_unit_range(read_dicom(path))
    resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return np.round(resized * 255).astype(np.uint8)


def load_images(frame: pd.DataFrame, cache_dir: Path, size: int) -> CachedImages:
    """Images of every row of ``frame`` at ``size`` x ``size``; unreadable files reported."""
    cache = ArrayCache(cache_dir / "unet-images", {"size": size, "v": 1})
    return load_cached_images(
        list(frame["path"]), cache, lambda p: preprocess(p, size), (size, size), np.uint8
    )


def load_masks(frame: pd.DataFrame, size: int) -> np.ndarray:
    """(N, size, size) uint8 0/1 masks of a labelled frame, resized like the images."""
    masks = np.zeros((len(frame), size, size), dtype=np.uint8)
    rows = zip(frame["EncodedPixels"], frame["height"], frame["width"], strict=True)
    for i, (rle, height, width) in enumerate(rows):
        mask = decode_relative(str(rle), (int(height), int(width))).astype(np.float32)
        if mask.any():
            masks[i] = cv2.resize(mask, (size, size), interpolation=cv2.INTER_AREA) >= 0.5
    return masks
