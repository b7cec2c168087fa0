"""Mammograms as small, cached, model-ready arrays for the baseline.

Decode (pydicom) -> modality/VOI LUT and MONOCHROME1 inversion -> right breasts mirrored so
every breast faces the same way -> area resize. Unreadable files are logged by name and
skipped, never fatal: one corrupt DICOM must not cost a nine-hour run.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from harness.kit.imaging.cache import ArrayCache, CachedImages, load_cached_images
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.intensity import to_unit_range


def preprocess(path: Path, height: int, width: int) -> np.ndarray:
    """One DICOM as a float16 (height, width) image in [0, 1]."""
    image = to_unit_range(read_dicom(path))
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return resized.astype(np.float16)


def load_images(frame: pd.DataFrame, cache_dir: Path, height: int, width: int) -> CachedImages:
    """Images of every row of ``frame``, right breasts mirrored; unreadable files reported."""
    cache = ArrayCache(cache_dir / "baseline-images", {"height": height, "width": width, "v": 1})
    loaded = load_cached_images(
        list(frame["path"]),
        cache,
        lambda p: preprocess(p, height, width),
        (height, width),
        np.float16,
    )
    right = (frame["laterality"] == "R").to_numpy()
    loaded.images[right] = loaded.images[right][:, :, ::-1]
    return loaded
