"""Slices as cached 3-window uint8 images (brain, subdural, soft tissue), one file per slice.

Decoding a DICOM and windowing it costs far more than training reads, so each slice is done
once and stored under the cache folder, keyed by the file's content and the image size; runs
that share the cache skip the work. Images are stored as files, not kept in memory: the full
Kaggle train set at 512 x 512 is ~590 GB as uint8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.kit import slices
from harness.kit.imaging.cache import ArrayCache
from harness.kit.slices import PreparedSlices
from tasks.rsna_ich.imaging import windowed_slice

CACHE_VERSION = 1
"""Bump when the preprocessing changes in a way its parameters do not capture."""


def slice_image(path: Path, size: int) -> np.ndarray:
    """One DICOM slice as (3, size, size) uint8, 255 = the top of each window."""
    return np.rint(windowed_slice(path, size) * 255.0).astype(np.uint8)


def prepare_slices(paths: Sequence[str], cache_dir: Path, size: int) -> PreparedSlices:
    """The cache file of every path, computing the missing ones; unreadable files are logged
    by name and left out (None), never fatal."""
    cache = ArrayCache(cache_dir / "slices", {"size": size, "windows": 3, "v": CACHE_VERSION})
    return slices.prepare_slices(paths, cache, lambda path: slice_image(path, size))
