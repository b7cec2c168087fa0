"""Mammograms as small square 8-bit arrays, preprocessed once and cached by file content.

The write-up's notebooks found that loading full-size scans left the GPU ~3% busy, so they
resized every scan to 512x512 once and trained from the small copies. Same here: decode
(pydicom), modality/VOI LUT and MONOCHROME1 inversion (harness.kit.imaging), then a plain square
resize with no crop and no mirroring, as the notebooks did, stored as uint8 (the full Kaggle
train set at 512x512 is ~14 GB in memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from harness.kit.imaging.cache import ArrayCache, CachedImages, load_cached_images
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.intensity import to_unit_range


def preprocess(path: Path, size: int) -> np.ndarray:
    """One DICOM as a (size, size) uint8 image, 255 = dense tissue."""
    image = to_unit_range(read_dicom(path))
    resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return np.rint(np.clip(resized, 0.0, 1.0) * 255.0).astype(np.uint8)


def load_images(paths: Sequence[str], cache_dir: Path, size: int) -> CachedImages:
    """(size x size uint8 images, mask of files that decoded, unreadable file paths)."""
    cache = ArrayCache(cache_dir / "images", {"size": size, "dtype": "uint8", "v": 1})
    return load_cached_images(paths, cache, lambda p: preprocess(p, size), (size, size), np.uint8)
