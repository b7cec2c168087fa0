"""Mammograms as small, cached, model-ready arrays for the baseline.

Decode (pydicom) -> modality/VOI LUT and MONOCHROME1 inversion -> right breasts mirrored so
every breast faces the same way -> area resize. Unreadable files are logged by name and
skipped, never fatal: one corrupt DICOM must not cost a nine-hour run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from harness.imaging.cache import ArrayCache
from harness.imaging.dicom import DicomReadError, read_dicom
from harness.imaging.intensity import to_unit_range

log = logging.getLogger(__name__)


def preprocess(path: Path, height: int, width: int) -> np.ndarray:
    """One DICOM as a float16 (height, width) image in [0, 1]."""
    image = to_unit_range(read_dicom(path))
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return resized.astype(np.float16)


def load_images(
    frame: pd.DataFrame, cache_dir: Path, height: int, width: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images N x H x W, mask of rows that decoded, unreadable file paths) for ``frame``."""
    cache = ArrayCache(cache_dir / "baseline-images", {"height": height, "width": width, "v": 1})
    images = np.zeros((len(frame), height, width), dtype=np.float16)
    ok = np.zeros(len(frame), dtype=bool)
    unreadable: list[str] = []
    for i, (path, laterality) in enumerate(zip(frame["path"], frame["laterality"], strict=True)):
        try:
            image = cache.get(Path(path), lambda p: preprocess(p, height, width))
        except DicomReadError as exc:
            log.warning("skipping unreadable image: %s", exc)
            unreadable.append(str(path))
            continue
        images[i] = image[:, ::-1] if laterality == "R" else image
        ok[i] = True
    log.info(
        "%d images ready (%d from cache, %d decoded, %d unreadable)",
        int(ok.sum()),
        cache.hits,
        cache.misses,
        len(unreadable),
    )
    return images, ok, unreadable
