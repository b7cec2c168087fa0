"""Studies as bone-windowed uint8 volumes and their 2.5D views (slices i-1, i, i+1)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tasks.rsna_cervical.volume import bone_window, read_segmentation, read_volume

N_CLASSES = 9
"""Stage-1 classes: 0 background, 1-7 = C1-C7, 8 = any thoracic vertebra (labels 8-19)."""


def to_uint8(hu: np.ndarray) -> np.ndarray:
    """HU in the bone window as uint8 (0-255)."""
    return np.rint(bone_window(hu) * 255).astype(np.uint8)


def read_study(study_dir: str | Path) -> tuple[np.ndarray, list[Path]]:
    """A study's (slices, rows, columns) uint8 bone-window volume in position order, and its
    slice files in the same order."""
    volume = read_volume(study_dir)
    return to_uint8(volume.hu), volume.paths


def resize_slices(volume: np.ndarray, size: int, *, labels: bool = False) -> np.ndarray:
    """Every slice resized to size x size (area for images, nearest for label maps)."""
    interpolation = cv2.INTER_NEAREST if labels else cv2.INTER_AREA
    return np.stack([cv2.resize(s, (size, size), interpolation=interpolation) for s in volume])


def read_classes(path: str | Path, size: int) -> np.ndarray:
    """A segmentation as stage-1 classes at size x size (thoracic labels merged into 8)."""
    labels = read_segmentation(path)
    classes = np.where(labels >= 8, 8, labels).astype(np.uint8)
    return resize_slices(classes, size, labels=True)


def neighbour_indices(indices: np.ndarray, n_slices: int) -> np.ndarray:
    """(len, 3) slice indices i-1, i, i+1 of each index, clamped to the volume."""
    offsets = np.asarray([-1, 0, 1])
    return np.clip(np.asarray(indices)[:, None] + offsets, 0, n_slices - 1)


def stack_25d(volume: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(len, 3, rows, columns): each slice with its neighbours as channels."""
    return volume[neighbour_indices(indices, len(volume))]
