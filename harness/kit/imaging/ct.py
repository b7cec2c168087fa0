"""CT slices: stored values to Hounsfield units, display windows, and slice order in a series.

Shared by the CT tasks (rsna-ich, rsna-cervical). Two facts drive the details:

- RescaleSlope/RescaleIntercept map stored values to HU, and a known share of the RSNA ICH
  slices (12-bit, unsigned, intercept near 0 instead of about -1024) store values shifted by
  1000 with a wrap at 4096; ``correct_shifted_intercept`` undoes it the way the Kaggle
  community did (shift by +1000, wrap at 4096, intercept -1000).
- A series' slice order is the position along the slice normal (ImagePositionPatient projected
  on the cross product of the ImageOrientationPatient cosines), not the file name and not
  always InstanceNumber.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pydicom

from harness.kit.imaging.dicom_check import HeaderValues

WINDOWS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "subdural": (80.0, 200.0),
    "soft_tissue": (40.0, 380.0),
    "bone": (400.0, 1800.0),
}
"""Display windows as (center, width) in HU."""

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
"""ImageOrientationPatient of an axial slice: row and column direction cosines."""


def correct_shifted_intercept(
    pixels: np.ndarray, header: pydicom.Dataset
) -> tuple[np.ndarray, float]:
    """Stored values and intercept with the RSNA ICH 12-bit intercept quirk undone.

    Applies when BitsStored is 12, PixelRepresentation is 0 (unsigned) and the intercept is
    above -100: values are shifted by +1000, those at or above 4096 wrapped down by 4096, and
    the intercept becomes -1000. Anything else comes back unchanged (as int32, never wrapped).
    """
    intercept = float(header.get("RescaleIntercept", 0.0))
    values = pixels.astype(np.int32)
    quirky = (
        int(header.get("BitsStored", 16)) == 12
        and int(header.get("PixelRepresentation", 0)) == 0
        and intercept > -100
    )
    if not quirky:
        return values, intercept
    values = values + 1000
    values[values >= 4096] -= 4096
    return values, -1000.0


def to_hu(pixels: np.ndarray, header: pydicom.Dataset) -> np.ndarray:
    """Hounsfield units (float32) of a slice's stored values, with the intercept quirk fixed."""
    values, intercept = correct_shifted_intercept(pixels, header)
    slope = float(header.get("RescaleSlope", 1.0))
    return (values * slope + intercept).astype(np.float32)


def window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """HU mapped linearly to [0, 1] over center +- width/2, clipped outside (float32)."""
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width}")
    low = center - width / 2
    return np.clip((hu - low) / width, 0.0, 1.0).astype(np.float32)


def stack_windows(
    hu: np.ndarray, windows: Sequence[str] = ("brain", "subdural", "soft_tissue")
) -> np.ndarray:
    """An HxWxC float32 image, one channel per named window of ``WINDOWS``."""
    unknown = [name for name in windows if name not in WINDOWS]
    if unknown:
        raise ValueError(f"unknown window(s) {unknown}; known: {', '.join(WINDOWS)}")
    return np.stack([window(hu, *WINDOWS[name]) for name in windows], axis=-1)


@dataclass(frozen=True)
class SliceGeometry:
    """Where a slice sits: its position along the series' normal (mm) and its InstanceNumber."""

    position: float
    instance_number: int | None


def slice_geometry(header: HeaderValues) -> SliceGeometry:
    """A slice's position along its normal (axial orientation when the header has none).

    ``header`` is a ``pydicom.Dataset`` or a dict of the values read by keyword. Raises
    ValueError naming the missing tag when ImagePositionPatient is absent.
    """
    position = header.get("ImagePositionPatient")
    if position is None:
        raise ValueError("the slice has no ImagePositionPatient")
    x, y, z = (float(v) for v in position)
    rx, ry, rz, cx, cy, cz = (float(v) for v in header.get("ImageOrientationPatient", AXIAL))
    normal = (ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx)  # row x column cosines
    number = header.get("InstanceNumber")
    return SliceGeometry(
        position=x * normal[0] + y * normal[1] + z * normal[2],
        instance_number=None if number is None else int(number),
    )


def slice_order(headers: Sequence[pydicom.Dataset]) -> np.ndarray:
    """Indices that sort a series' slices along the slice normal (ascending position).

    Ties in position are broken by InstanceNumber. Raises ValueError naming the first slice
    (by index) that lacks ImagePositionPatient.
    """
    keys = []
    for index, header in enumerate(headers):
        try:
            geometry = slice_geometry(header)
        except ValueError as err:
            raise ValueError(f"slice {index}: {err}") from err
        number = geometry.instance_number if geometry.instance_number is not None else index
        keys.append((geometry.position, number))
    return np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
