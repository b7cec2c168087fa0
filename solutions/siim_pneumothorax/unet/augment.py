"""The report's augmentations, on one (image, mask) pair with OpenCV.

Horizontal flip, crop-zoom (~0.8 of the side), elastic, grid and optical distortion are
composed into one sampling map and applied with a single ``cv2.remap`` (bilinear for the
image, nearest for the mask), so the mask follows the image exactly; then brightness,
contrast and gamma act on the image alone.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A randomly augmented copy of a float32 [0, 1] image and its uint8 mask (same shape)."""
    size = image.shape[0]
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float32)
    x, y = columns, rows
    if rng.random() < 0.5:  # crop-zoom: sample a window of ~0.8 of the side
        scale = rng.uniform(0.75, 0.9)
        offset = rng.uniform(0, (1 - scale) * size, size=2)
        x, y = x * scale + offset[0], y * scale + offset[1]
    if rng.random() < 0.5:
        x = (size - 1) - x
    dx, dy = np.zeros_like(x), np.zeros_like(y)
    distortion = rng.integers(4)  # one of: none, elastic, grid, optical
    if distortion == 1:
        dx, dy = _elastic(rng, size)
    elif distortion == 2:
        dx, dy = _grid(rng, size)
    elif distortion == 3:
        dx, dy = _optical(rng, size, x, y)
    map_x, map_y = (x + dx).astype(np.float32), (y + dy).astype(np.float32)
    image = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    mask = cv2.remap(mask, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)

    contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-0.1, 0.1)
    image = np.clip((image - 0.5) * contrast + 0.5 + brightness, 0.0, 1.0)
    image = image ** rng.uniform(0.8, 1.25)
    return image.astype(np.float32), mask


def _elastic(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random displacements (Simard et al.): noise blurred with sigma ~ size / 12."""
    sigma, alpha = size / 12, size / 25
    dx, dy = (
        cv2.GaussianBlur(rng.uniform(-1, 1, (size, size)).astype(np.float32), (0, 0), sigma)
        for _ in range(2)
    )
    peak = max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
    return dx * (alpha / peak), dy * (alpha / peak)


def _grid(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid distortion: each of 5x5 cells stretched or squeezed along x and y."""
    cells = 5
    steps = []
    for _ in range(2):
        widths = rng.uniform(0.7, 1.3, cells)
        edges = np.concatenate(([0.0], np.cumsum(widths) / widths.sum())) * (size - 1)
        uniform = np.linspace(0, size - 1, cells + 1)
        steps.append(np.interp(np.arange(size), uniform, edges) - np.arange(size))
    dx = np.broadcast_to(steps[0][None, :], (size, size)).astype(np.float32)
    dy = np.broadcast_to(steps[1][:, None], (size, size)).astype(np.float32)
    return dx, dy


def _optical(
    rng: np.random.Generator, size: int, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Barrel or pincushion lens distortion around the centre: r -> r (1 + k r^2)."""
    k = rng.uniform(-0.15, 0.15)
    center = (size - 1) / 2
    u, v = (x - center) / center, (y - center) / center
    factor = k * (u * u + v * v)
    return (u * factor * center).astype(np.float32), (v * factor * center).astype(np.float32)
