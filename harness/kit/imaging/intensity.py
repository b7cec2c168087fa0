"""Stored DICOM values to display intensities in [0, 1], bright = dense tissue.

The order is the DICOM grayscale pipeline (PS3.4 N.2.1): modality LUT (rescale slope and
intercept), VOI LUT or window, then MONOCHROME1 inversion in place of the presentation LUT.
pydicom's own ``apply_modality_lut``, ``apply_voi`` and ``apply_windowing`` do the
transformations; this module only decides which one applies and maps their output range to
[0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi, apply_windowing

from harness.api import HarnessError
from harness.kit.imaging.dicom import DicomImage

_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


def to_unit_range(image: DicomImage) -> np.ndarray:
    """Float32 intensities in [0, 1] of a MONOCHROME1/2 image, bright = dense tissue.

    1. Modality LUT: RescaleSlope/RescaleIntercept (or a Modality LUT Sequence) when present.
    2. VOI: the first item of a VOI LUT Sequence when present (preferred over a window, as
       pydicom's ``apply_voi_lut`` does); else the first value of WindowCenter/WindowWidth
       with VOILUTFunction LINEAR (default), LINEAR_EXACT or SIGMOID; else min-max scaling of
       the image itself.
    3. MONOCHROME1 images are inverted (``1 - x``) so that bright means dense for both.

    Normalisation. pydicom's windowing maps values onto the output range
    ``[y_min, y_max]`` that it derives from BitsStored, PixelRepresentation and the rescale
    (e.g. [0, 4095] for 12-bit unsigned data without rescale). Rather than re-derive that
    range, it is read back by windowing ``-inf`` and ``+inf``: LINEAR clamps them to exactly
    ``y_min`` and ``y_max``, SIGMOID tends to them. ``(y - y_min) / (y_max - y_min)`` is then
    exactly the standard's windowing function on [0, 1], e.g. for LINEAR
    ``((x - (c - 0.5)) / (w - 1) + 0.5)`` clipped to [0, 1] (PS3.3 C.11.2.1.2) and for SIGMOID
    ``1 / (1 + exp(-4 (x - c) / w))``. A VOI LUT's output is scaled by the minimum and maximum
    entries of the LUT itself rather than by its nominal bit depth, which some writers set
    larger than the entries they use.
    """
    header = image.header
    if image.photometric not in _MONOCHROME:
        raise HarnessError(
            f"{image.path}: Photometric Interpretation {image.photometric!r} is not grayscale; "
            "only MONOCHROME1 and MONOCHROME2 images can be mapped to [0, 1]"
        )
    values = apply_modality_lut(image.pixels, header)
    try:
        if _has_voi_lut(header):
            unit = _voi_lut_unit(values, header)
        elif _has_window(header):
            unit = _window_unit(values, header)
        else:
            unit = _min_max_unit(values)
    except ValueError as err:  # e.g. a window width < 1 or an unknown VOILUTFunction
        raise HarnessError(f"{image.path}: cannot apply its VOI LUT or window: {err}") from err
    if image.photometric == "MONOCHROME1":
        unit = 1.0 - unit
    return np.clip(unit, 0.0, 1.0).astype(np.float32)


def unit_lut(header: pydicom.Dataset, path: Path) -> tuple[np.ndarray, int] | None:
    """``to_unit_range`` as a table over every stored value, or None where it depends on the
    image (no VOI LUT and no window: min-max scaling).

    Returns ``(table, first)``: the stored value ``v`` maps to ``table[v - first]``. The table
    is ``to_unit_range`` itself applied to every value BitsStored and PixelRepresentation
    allow (every step of it is a function of the stored value alone), so looking values up
    gives its result exactly, wherever the lookup runs (``harness.kit.imaging.device_preprocess``
    does it on the GPU); 12-bit data needs 4096 entries, 16-bit 65536.
    """
    if not (_has_voi_lut(header) or _has_window(header)):
        return None
    bits, allocated = int(header.BitsStored), int(header.get("BitsAllocated", 16))
    signed = int(header.get("PixelRepresentation", 0)) == 1
    first = -(2 ** (bits - 1)) if signed else 0
    dtype = np.dtype(f"{'i' if signed else 'u'}{max(1, allocated // 8)}")
    stored = np.arange(first, first + 2**bits).astype(dtype)
    table = to_unit_range(DicomImage(pixels=stored[None, :], header=header, path=path))
    return table[0], first


def _has_voi_lut(header: pydicom.Dataset) -> bool:
    items = header.get("VOILUTSequence")
    return bool(items) and "LUTDescriptor" in items[0] and "LUTData" in items[0]


def _has_window(header: pydicom.Dataset) -> bool:
    # Empty DS elements read back as None; both must hold a value.
    return all(header.get(keyword) not in (None, "") for keyword in ("WindowCenter", "WindowWidth"))


def _window_unit(values: np.ndarray, header: pydicom.Dataset) -> np.ndarray:
    windowed = apply_windowing(values, header, index=0)
    y_min, y_max = apply_windowing(np.array([-np.inf, np.inf]), header, index=0)
    return (windowed - y_min) / (y_max - y_min)


def _voi_lut_unit(values: np.ndarray, header: pydicom.Dataset) -> np.ndarray:
    if not np.issubdtype(values.dtype, np.integer):
        # A LUT indexes integers; a rescale produced floats holding integer values.
        values = np.rint(values).astype(np.int64)
    descriptor = header.VOILUTSequence[0].LUTDescriptor
    n_entries, first_mapped = int(descriptor[0]) or 2**16, int(descriptor[1])
    lut = apply_voi(np.arange(first_mapped, first_mapped + n_entries), header, index=0)
    low, high = float(lut.min()), float(lut.max())
    mapped = apply_voi(values, header, index=0).astype(np.float64)
    return (mapped - low) / (high - low) if high > low else np.zeros_like(mapped)


def _min_max_unit(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)
