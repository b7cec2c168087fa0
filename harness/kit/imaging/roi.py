"""Cropping a mammogram to the breast and fitting it into a fixed model input.

``breast_box`` finds the breast as the largest bright blob: Otsu's threshold separates tissue
from the dark background, an opening removes noise specks, and keeping only the largest
external contour drops burned-in markers and labels, which are small and apart from the breast.
Kernel sizes scale with the image, so a box found on a downscaled copy matches the full image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """A half-open pixel rectangle: rows ``top:bottom``, columns ``left:right``."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def breast_box(image: np.ndarray, min_area_fraction: float = 0.05, *, padding: float = 0.01) -> Box:
    """The bounding box of the breast in ``image``, or the full frame if none is found.

    ``image`` is a 2-D float array in [0, 1] after windowing and MONOCHROME1 inversion (bright =
    dense). The image is blurred and thresholded with Otsu's method on an 8-bit copy, opened
    with a square kernel about 2% of its shorter side, and the largest external contour is
    boxed, widened by ``padding`` (a fraction of each side) and clipped to the image. When that
    contour covers less than ``min_area_fraction`` of the image (a blank or noise-only image, or
    one where Otsu's split finds no breast) the full frame is returned.
    """
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {image.shape}")
    height, width = image.shape
    full_frame = Box(0, 0, height, width)
    gray = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    gray = cv2.GaussianBlur(gray, (_odd(min(height, width) / 100),) * 2, 0)
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    kernel = np.ones((_odd(min(height, width) / 50),) * 2, np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return full_frame
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < min_area_fraction * height * width:
        return full_frame
    left, top, box_width, box_height = cv2.boundingRect(largest)
    pad_y, pad_x = round(padding * height), round(padding * width)
    return Box(
        top=max(0, top - pad_y),
        left=max(0, left - pad_x),
        bottom=min(height, top + box_height + pad_y),
        right=min(width, left + box_width + pad_x),
    )


def crop_to_box(image: np.ndarray, box: Box) -> np.ndarray:
    """The part of ``image`` inside ``box`` (a view, not a copy)."""
    height, width = image.shape[:2]
    if not (0 <= box.top < box.bottom <= height and 0 <= box.left < box.right <= width):
        raise ValueError(f"{box} is empty or outside the {height}x{width} image")
    return image[box.top : box.bottom, box.left : box.right]


def resize_pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` scaled to fit inside (height, width) keeping its aspect ratio, zero-padded.

    The result is anchored against the left edge and centred vertically: callers mirror right
    breasts first so that the chest wall is on the left for every image. Shrinking uses
    ``cv2.INTER_AREA`` (no aliasing), enlarging ``cv2.INTER_LINEAR``. The dtype is kept.
    """
    if height < 1 or width < 1:
        raise ValueError(f"target size must be positive, got {height}x{width}")
    source_height, source_width = image.shape[:2]
    if source_height == 0 or source_width == 0:
        raise ValueError(f"cannot resize an empty image of shape {image.shape}")
    scale = min(height / source_height, width / source_width)
    new_height = min(height, max(1, round(source_height * scale)))
    new_width = min(width, max(1, round(source_width * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_width, new_height), interpolation=interpolation)
    out = np.zeros((height, width, *image.shape[2:]), dtype=image.dtype)
    top = (height - new_height) // 2
    out[top : top + new_height, :new_width] = resized.reshape(
        new_height, new_width, *image.shape[2:]
    )
    return out


def _odd(size: float) -> int:
    """An odd kernel size of at least 3 close to ``size``."""
    return max(3, int(size) // 2 * 2 + 1)
