"""DICOM -> model-ready ROI crop, decoded in batches with DALI and cached by file content.

Decode (DALI, pydicom fallback counted by the decoder) -> modality/VOI LUT and MONOCHROME1
inversion -> right breasts mirrored so the chest wall is on the left -> OpenCV ROI crop that
drops burned-in markers -> aspect-preserving resize and pad. Unreadable files are logged by
name and reported back, never fatal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.kit.imaging.cache import ArrayCache
from harness.kit.imaging.dali_decode import DecodeStats, DicomDecoder
from harness.kit.imaging.dicom import DicomImage
from harness.kit.imaging.intensity import to_unit_range
from harness.kit.imaging.roi import breast_box, crop_to_box, resize_pad

log = logging.getLogger(__name__)

CACHE_VERSION = 1
"""Bump when the preprocessing changes in a way its parameters do not capture."""


@dataclass
class PreparedImages:
    """Where each row's crop is cached; crops are loaded lazily so that a full-size dataset
    (54k images at 1024x512 is ~57 GB in float16) never has to fit in memory."""

    files: list[Path | None]
    """The cached float16 (height, width) crop of each row; None for an unreadable file."""
    unreadable: list[str] = field(default_factory=list)
    decode: DecodeStats = field(default_factory=DecodeStats)
    cache_hits: int = 0

    @property
    def ok(self) -> np.ndarray:
        return np.array([f is not None for f in self.files], dtype=bool)


def crop_image(
    image: DicomImage, laterality: str, height: int, width: int, crop: bool
) -> np.ndarray:
    """One decoded DICOM as a float16 (height, width) crop, chest wall on the left."""
    unit = to_unit_range(image)
    if laterality == "R":
        unit = unit[:, ::-1]
    if crop:
        unit = crop_to_box(unit, breast_box(unit))
    return resize_pad(np.ascontiguousarray(unit), height, width).astype(np.float16)


def prepare_images(
    frame: pd.DataFrame,
    cache_dir: Path,
    *,
    height: int,
    width: int,
    crop: bool,
    decode_device: str,
    decode_batch_size: int,
    num_threads: int,
    fallback_workers: int = 0,
) -> PreparedImages:
    """Crops for every row of ``frame`` (columns ``path`` and ``laterality``); pydicom's
    fallbacks are decoded in ``fallback_workers`` processes (0: here)."""
    params = {"height": height, "width": width, "crop": crop, "v": CACHE_VERSION}
    cache = ArrayCache(cache_dir / "ensemble-crops", params)
    paths = [Path(p) for p in frame["path"]]
    lateralities = frame["laterality"].tolist()
    keys = [cache.key(p) for p in paths]
    files: list[Path | None] = [cache.file(k) if cache.file(k).is_file() else None for k in keys]
    prepared = PreparedImages(files, cache_hits=sum(f is not None for f in files))
    missing = [i for i, f in enumerate(files) if f is None]
    if missing:
        with DicomDecoder(
            device=decode_device,
            batch_size=decode_batch_size,
            num_threads=num_threads,
            fallback_workers=fallback_workers,
        ) as decoder:
            decoded = decoder.decode([paths[i] for i in missing])
            for i, (path, result) in zip(missing, decoded, strict=True):
                if not isinstance(result, DicomImage):
                    log.warning("skipping unreadable image: %s", result)
                    prepared.unreadable.append(str(path))
                    continue
                cache.save(keys[i], crop_image(result, lateralities[i], height, width, crop))
                prepared.files[i] = cache.file(keys[i])
            prepared.decode = decoder.stats
    log.info(
        "%d crops ready: %d cached, %d decoded (%s), %d unreadable",
        int(prepared.ok.sum()),
        prepared.cache_hits,
        len(missing) - len(prepared.unreadable),
        prepared.decode,
        len(prepared.unreadable),
    )
    return prepared
