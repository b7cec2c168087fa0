"""A decoded mammogram to a model input with torch ops where its pixels lie (GPU or CPU).

The same steps as the OpenCV path (``intensity.to_unit_range``, ``roi.breast_box``,
``roi.resize_pad``), arranged so that no full-resolution array leaves the device:

1. Intensity: ``to_unit_range`` precomputed as a table over the stored values
   (``intensity.unit_lut``, a few thousand entries) and looked up on the device, so the values
   are the CPU path's exactly. Min-max scaling (no window, no VOI LUT) is computed in float64.
2. Right breasts mirrored.
3. ROI: the image shrunk on the device (area averaging) to ``roi_rows`` rows, copied to the
   host (a few hundred kB) and searched there by ``breast_box`` itself (Otsu, opening, largest
   contour: its kernels scale with the image, so a box found on the small copy fits the full
   one); the box is scaled back outwards to full resolution.
4. Crop (a view), then area resampling to fit the model input as two matrix products, which is
   what OpenCV's INTER_AREA computes, so both paths give the same values for the same box;
   bilinear when enlarging, as ``resize_pad``; zero padding below and to the right as there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from pydicom.pixels import apply_modality_lut

from harness.kit.imaging.dali_decode import DeviceImage
from harness.kit.imaging.dicom import DicomImage
from harness.kit.imaging.intensity import unit_lut
from harness.kit.imaging.roi import Box, breast_box


def unit_tensor(image: DeviceImage) -> torch.Tensor:
    """Float32 intensities in [0, 1] (bright = dense) on the pixels' device: the values of
    ``to_unit_range`` for the same stored values."""
    pixels = image.pixels
    lut = unit_lut(image.header, image.path)
    if lut is not None:
        table, first = lut
        index = (pixels - first).clamp_(0, len(table) - 1)
        if pixels.device.type == "cpu":  # numpy's gather is about 3x torch's on the CPU
            return torch.from_numpy(np.take(table, index.numpy()))
        return torch.from_numpy(table).to(pixels.device)[index]
    # Min-max scaling depends on the image: run the CPU path's float64 steps here.
    first, modality = _modality_table(image)
    values = modality[(pixels - first).clamp_(0, len(modality) - 1)]
    low, high = values.min(), values.max()
    unit = (values - low) / (high - low) if bool(high > low) else torch.zeros_like(values)
    if image.photometric == "MONOCHROME1":
        unit = 1.0 - unit
    return unit.clamp_(0.0, 1.0).to(torch.float32)


def _modality_table(image: DeviceImage) -> tuple[int, torch.Tensor]:
    """The modality LUT (rescale) over every stored value, float64, by pydicom's function:
    (the first stored value, the table)."""
    bits = int(image.header.BitsStored)
    signed = int(image.header.get("PixelRepresentation", 0)) == 1
    first = -(2 ** (bits - 1)) if signed else 0
    stored = np.arange(first, first + 2**bits)
    table = np.asarray(apply_modality_lut(stored, image.header), dtype=np.float64)
    return first, torch.from_numpy(table).to(image.pixels.device)


def area_matrix(source: int, target: int, device: torch.device) -> torch.Tensor:
    """(target, source) weights of area resampling (OpenCV's INTER_AREA when shrinking): each
    output pixel is the mean of the source interval it covers, partial pixels weighted by
    the fraction covered."""
    scale = source / target
    starts = torch.arange(target, dtype=torch.float64, device=device)[:, None] * scale
    pixels = torch.arange(source, dtype=torch.float64, device=device)[None, :]
    overlap = torch.minimum(pixels + 1, starts + scale) - torch.maximum(pixels, starts)
    return (overlap.clamp_(min=0) / scale).to(torch.float32)


def resize(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A 2-D float tensor resized: area resampling per axis when shrinking, bilinear (half-pixel
    centres, as OpenCV's INTER_LINEAR) otherwise."""
    source_height, source_width = image.shape
    if height <= source_height and width <= source_width:
        rows = area_matrix(source_height, height, image.device)
        columns = area_matrix(source_width, width, image.device)
        return rows @ image @ columns.T
    return F.interpolate(
        image[None, None], size=(height, width), mode="bilinear", align_corners=False
    )[0, 0]


def roi_box(unit: torch.Tensor, roi_rows: int) -> Box:
    """``breast_box`` of a copy shrunk to at most ``roi_rows`` rows, scaled to ``unit``'s size
    (outwards, so the breast stays inside)."""
    height, width = unit.shape
    factor = max(1.0, height / roi_rows)
    small_height = max(1, round(height / factor))
    small_width = max(1, round(width / factor))
    small = resize(unit, small_height, small_width) if factor > 1 else unit
    box = breast_box(small.cpu().numpy())
    along_rows, along_columns = height / small_height, width / small_width
    return Box(
        top=math.floor(box.top * along_rows),
        left=math.floor(box.left * along_columns),
        bottom=min(height, math.ceil(box.bottom * along_rows)),
        right=min(width, math.ceil(box.right * along_columns)),
    )


def fit(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``roi.resize_pad`` in torch: aspect kept, chest wall side anchored, zeros elsewhere."""
    source_height, source_width = image.shape
    scale = min(height / source_height, width / source_width)
    new_height = min(height, max(1, round(source_height * scale)))
    new_width = min(width, max(1, round(source_width * scale)))
    resized = resize(image, new_height, new_width)  # area exactly when scale < 1
    out = image.new_zeros((height, width))
    top = (height - new_height) // 2
    out[top : top + new_height, :new_width] = resized
    return out


def crop_tensor(
    image: DeviceImage,
    laterality: str,
    height: int,
    width: int,
    *,
    crop: bool = True,
    roi_rows: int = 512,
) -> tuple[torch.Tensor, Box]:
    """One decoded image as a float32 (height, width) model input on its device, and the box
    (in the mirrored image) it was cut from."""
    unit = unit_tensor(image)
    if laterality == "R":
        unit = unit.flip(-1)
    full = Box(0, 0, *unit.shape)
    box = roi_box(unit, roi_rows) if crop else full
    return fit(unit[box.top : box.bottom, box.left : box.right], height, width), box


def model_batch(
    images: Sequence[DeviceImage],
    lateralities: Sequence[str],
    height: int,
    width: int,
    *,
    crop: bool = True,
    roi_rows: int = 512,
) -> torch.Tensor:
    """(N, 1, height, width) model inputs, rounded through float16 as the cached crops are."""
    crops = [
        crop_tensor(image, side, height, width, crop=crop, roi_rows=roi_rows)[0]
        for image, side in zip(images, lateralities, strict=True)
    ]
    return torch.stack(crops)[:, None].to(torch.float16).to(torch.float32)


def as_device_image(image: DicomImage, device: torch.device | str = "cpu") -> DeviceImage:
    """A numpy-decoded image as a DeviceImage on ``device``."""
    pixels = torch.from_numpy(image.pixels.astype(np.int32)).to(device)
    return DeviceImage(pixels, image.header, image.path)
