"""From probabilities to masks, and the per-class rules tuned on validation images.

A class's mask on an image is empty unless the classifier's probability reaches the class's
gate threshold; otherwise it is the pixels above the class's pixel threshold, without the
connected components smaller than its minimum area. Since the score is a plain mean over
(image, class) pairs, each class's rule can be tuned on its own.

Tuning computes, per image and pixel threshold, the connected components once, with each
component's area and overlap with the truth: the Dice of every minimum area follows without
recomputing masks, and the gate only chooses between that Dice and the empty mask's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from harness.kit.segmentation.components import remove_small_components

NEVER = 1.1
"""A gate threshold above any probability: the class is never predicted."""
GATE_THRESHOLDS: tuple[float, ...] = (NEVER, 0.8, 0.65, 0.5, 0.35, 0.2, 0.0)
"""Candidate classifier thresholds, strictest first so that ties go to the stricter gate:
a class is predicted only where that beats leaving it empty on validation. 0.0 lets every
image through (no gate)."""
PIXEL_THRESHOLDS: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_AREA_FRACTIONS: tuple[float, ...] = (0.0, 0.001, 0.002, 0.004, 0.008, 0.016)
"""Candidate minimum component areas as fractions of the image (real: 400 to 6,500 pixels)."""


@dataclass(frozen=True)
class ClassRule:
    gate_threshold: float
    pixel_threshold: float
    min_area: int
    """Pixels at the image's own size."""


def to_mask(gate_probability: float, probability: np.ndarray, rule: ClassRule) -> np.ndarray:
    """The uint8 0/1 mask of one class on one image under ``rule`` (areas at the map's size)."""
    if gate_probability < rule.gate_threshold:
        return np.zeros(probability.shape, dtype=np.uint8)
    return remove_small_components(probability > rule.pixel_threshold, rule.min_area)


def area_dices(
    probability: np.ndarray, truth: np.ndarray, threshold: float, min_areas: np.ndarray
) -> np.ndarray:
    """Dice of ``probability > threshold`` against ``truth`` after dropping components under
    each of ``min_areas`` (8-connectivity, as ``remove_small_components``); 1 when both are
    empty."""
    binary = (probability > threshold).astype(np.uint8)
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    overlaps = np.bincount(labels[truth.astype(bool)], minlength=n_labels)[1:]
    keep = areas[None, :] >= np.maximum(min_areas, 1)[:, None]
    predicted = (keep * areas).sum(axis=1)
    overlap = (keep * overlaps).sum(axis=1)
    total = predicted + int(truth.sum())
    return np.where(total == 0, 1.0, 2.0 * overlap / np.maximum(total, 1))


def tune_class(
    gate_probabilities: np.ndarray,
    probabilities: np.ndarray,
    truths: np.ndarray,
    image_pixels: int,
) -> tuple[ClassRule, float]:
    """The rule maximising the mean Dice of one class over validation images, and that Dice.

    ``probabilities`` and ``truths`` are (N, h, w) at the network's size; minimum areas are
    tried as fractions of the image and returned in pixels at its own size (``image_pixels``).
    """
    map_pixels = probabilities[0].size
    min_areas = np.array([round(f * image_pixels) for f in MIN_AREA_FRACTIONS])
    map_areas = np.array([math.ceil(a * map_pixels / image_pixels) for a in min_areas])
    # dices[t, a, i]: Dice of image i at pixel threshold t and minimum area a, gate open.
    dices = np.stack(
        [
            np.stack(
                [
                    area_dices(p, t, threshold, map_areas)
                    for p, t in zip(probabilities, truths, strict=True)
                ],
                axis=1,
            )
            for threshold in PIXEL_THRESHOLDS
        ]
    )
    empty = (truths.reshape(len(truths), -1).sum(axis=1) == 0).astype(np.float64)
    best = (ClassRule(NEVER, PIXEL_THRESHOLDS[0], 0), -1.0)
    for gate in GATE_THRESHOLDS:
        gated = np.where(gate_probabilities >= gate, dices, empty).mean(axis=2)
        t, a = np.unravel_index(int(np.argmax(gated)), gated.shape)
        if gated[t, a] > best[1]:
            best = (ClassRule(gate, PIXEL_THRESHOLDS[t], int(min_areas[a])), float(gated[t, a]))
    return best
