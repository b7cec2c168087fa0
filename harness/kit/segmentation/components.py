"""Post-processing of predicted masks: dropping connected components too small to be real."""

from __future__ import annotations

import cv2
import numpy as np


def remove_small_components(
    mask: np.ndarray, min_area: int, *, connectivity: int = 8
) -> np.ndarray:
    """A uint8 0/1 copy of a 2-D mask without the components of fewer than ``min_area`` pixels.

    Components are found with ``cv2.connectedComponentsWithStats`` (8- or 4-connectivity);
    ``min_area <= 1`` keeps every component.
    """
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    binary = (np.asarray(mask) != 0).astype(np.uint8)
    if min_area <= 1:
        return binary
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=connectivity)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False  # label 0 is the background
    return keep[labels].astype(np.uint8) if n_labels > 1 else binary
