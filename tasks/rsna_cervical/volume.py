"""A study as a volume: slices ordered along the patient axis, HU, and its aligned segmentation.

Slice order comes from ImagePositionPatient projected on the slice normal
(``harness.kit.imaging.ct.slice_order``), ascending, i.e. from the feet up. File names (``1.dcm``,
``2.dcm``, ...) usually run from the head down, but not in every study, so they are never used
for order.

The segmentation NIfTI files are not stored in the DICOM stack's (slice, row, column) order.
Their arrays are (column, row, slice) with the rows mirrored (the image's anterior side at
the high end of axis 1) and slices from the feet up, NIfTI's inferior-to-superior convention,
which is the reverse of the usual file numbering. That is why the Kaggle notebooks that stack
slices by file number load them with ``seg[:, ::-1, ::-1].transpose(2, 1, 0)``; stacked by
position, as here, only the rows need the flip: ``seg.transpose(2, 1, 0)[:, ::-1, :]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import Dataset

from harness.api import DataError
from harness.kit.imaging.ct import WINDOWS, slice_geometry, slice_order, to_hu, window
from harness.kit.imaging.dicom import read_dicom, read_header

NIFTI_AFFINE = np.diag([-1.0, 1.0, 1.0, 1.0])
"""Voxel-to-world (RAS mm) orientation of the Kaggle segmentations' arrays: axis 0 towards the
patient's left, axis 1 anterior, axis 2 superior ('LAS', radiological). The synthetic files
carry it scaled by the voxel spacing."""


@dataclass
class Volume:
    """A study's slices in position order."""

    hu: np.ndarray
    """(slices, rows, columns) float32 Hounsfield units."""
    paths: list[Path]
    """The slice files, in the same order as ``hu``."""
    positions: np.ndarray
    """Each slice's position along the slice normal (mm), ascending."""


def slice_files(study_dir: Path) -> list[Path]:
    """A study's ``*.dcm`` files in file-name order (not slice order: ``ordered_slice_paths``)."""
    return sorted(study_dir.glob("*.dcm"), key=lambda p: (len(p.stem), p.stem))


def ordered_slice_paths(study_dir: str | Path) -> list[Path]:
    """A study's slice files sorted by position along the slice normal (reads headers only)."""
    paths = slice_files(Path(study_dir))
    headers = [read_header(path) for path in paths]
    return [paths[i] for i in _order(headers, paths)]


def read_volume(study_dir: str | Path) -> Volume:
    """Every slice of a study decoded to HU and stacked by position.

    Raises DicomReadError naming an unreadable slice, DataError naming a slice without
    ImagePositionPatient or of another size than the rest.
    """
    paths = slice_files(Path(study_dir))
    if not paths:
        raise DataError(f"{study_dir} holds no .dcm file")
    images = [read_dicom(path) for path in paths]
    order = _order([image.header for image in images], paths)
    shapes = {image.pixels.shape for image in images}
    if len(shapes) > 1:
        raise DataError(f"the slices of {study_dir} differ in size: {sorted(shapes)}")
    hu = np.stack([to_hu(images[i].pixels, images[i].header) for i in order])
    positions = np.asarray([slice_geometry(images[i].header).position for i in order])
    return Volume(hu=hu, paths=[paths[i] for i in order], positions=positions)


def read_slice_hu(path: str | Path) -> np.ndarray:
    """One slice in HU (float32)."""
    image = read_dicom(path)
    return to_hu(image.pixels, image.header)


def bone_window(hu: np.ndarray) -> np.ndarray:
    """HU in the bone window (center 400, width 1800) mapped to [0, 1], float32."""
    return window(hu, *WINDOWS["bone"])


def read_segmentation(path: str | Path) -> np.ndarray:
    """A segmentation NIfTI as uint8 labels (slices, rows, columns), aligned with ``read_volume``.

    Raises DataError naming the file when nibabel cannot read it or it is not a 3-D volume.
    """
    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
        raw = np.asanyarray(image.dataobj)
    except Exception as err:  # nibabel raises ImageFileError, OSError, EOFError, ...
        raise DataError(f"cannot read segmentation {path}: {type(err).__name__}: {err}") from err
    if raw.ndim != 3:
        raise DataError(f"segmentation {path} has shape {raw.shape}; expected a 3-D volume")
    return from_nifti_array(raw)


def from_nifti_array(raw: np.ndarray) -> np.ndarray:
    """Kaggle NIfTI array (column, mirrored row, slice from the feet up) -> (slice, row, column)."""
    return np.ascontiguousarray(raw.transpose(2, 1, 0)[:, ::-1, :]).astype(np.uint8)


def to_nifti_array(labels: np.ndarray) -> np.ndarray:
    """The inverse of ``from_nifti_array``: how the Kaggle files store (slice, row, column)."""
    return np.ascontiguousarray(labels[:, ::-1, :].transpose(2, 1, 0))


def _order(headers: list[Dataset], paths: list[Path]) -> np.ndarray:
    for header, path in zip(headers, paths, strict=True):
        if "ImagePositionPatient" not in header:
            raise DataError(
                f"{path} has no ImagePositionPatient: the slice cannot be placed in its volume; "
                "re-download the study"
            )
    return slice_order(headers)
