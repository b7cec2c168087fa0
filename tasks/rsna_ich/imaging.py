"""A CT slice as the competition's 3-window image: brain, subdural and soft tissue channels.

The standard input of RSNA ICH models (the 48th-place write-up's "brain, blood and soft
tissues"): stored values to HU with the 12-bit intercept quirk undone
(``harness.kit.imaging.ct.to_hu``), then three windows stacked as channels, each mapped to [0, 1].
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from harness.kit.imaging.ct import stack_windows, to_hu
from harness.kit.imaging.dicom import read_dicom

WINDOW_NAMES: tuple[str, ...] = ("brain", "subdural", "soft_tissue")
"""(40, 80), (80, 200) and (40, 380) HU: center and width, see harness.kit.imaging.ct.WINDOWS."""


def windowed_slice(path: str | os.PathLike[str], size: int | None = None) -> np.ndarray:
    """A (3, size, size) float32 image in [0, 1] (native size when ``size`` is None).

    Raises DicomReadError naming the file when it cannot be read or decoded.
    """
    image = read_dicom(path)
    channels = stack_windows(to_hu(image.pixels, image.header), WINDOW_NAMES)
    if size is not None and channels.shape[:2] != (size, size):
        channels = cv2.resize(channels, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(channels.transpose(2, 0, 1), dtype=np.float32)
