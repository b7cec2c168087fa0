"""From networks to RLE rows: hflip TTA, model averaging, threshold, small-component removal."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from harness.kit.amp import Precision
from harness.kit.segmentation.components import remove_small_components
from harness.kit.segmentation.dice import mean_dice
from harness.kit.segmentation.rle import encode_relative
from solutions.siim_pneumothorax.unet.training import resize_stack

THRESHOLDS: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_AREA_FRACTIONS: tuple[float, ...] = (0.0, 0.0005, 0.001, 0.002, 0.004)
"""Candidate min_area values as fractions of the image's pixels (1024^2 * 0.002 ~ 2100 px)."""


@dataclass(frozen=True)
class TrainedModel:
    network: nn.Module
    resolution: int


@torch.no_grad()
def probabilities(
    models: Sequence[TrainedModel],
    images: np.ndarray,
    size: int,
    device: torch.device,
    *,
    hflip: bool,
    batch_size: int,
) -> Iterator[np.ndarray]:
    """Per batch of uint8 (N, S, S) images, the (n, size, size) mean foreground probability
    over the models (each at its own resolution) and, with ``hflip``, mirrored inputs."""
    precision = Precision.for_device(device)
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        mean = np.zeros((len(batch), size, size), dtype=np.float32)
        for model in models:
            x = resize_stack(batch, model.resolution, cv2.INTER_AREA).astype(np.float32) / 255.0
            inputs = torch.from_numpy(x)[:, None].to(device)
            with precision.autocast(device):
                logits = model.network(inputs).float()
                if hflip:
                    flipped = model.network(inputs.flip(-1)).float().flip(-1)
                    logits = torch.stack((logits, flipped))
            probs = torch.sigmoid(logits)
            probs = probs.mean(0) if hflip else probs
            resized = resize_stack(probs[:, 0].cpu().numpy(), size, cv2.INTER_LINEAR)
            mean += resized / len(models)
        yield mean


def to_mask(probability: np.ndarray, threshold: float, min_area: int) -> np.ndarray:
    """Binary mask: probability above ``threshold``, components under ``min_area`` dropped."""
    return remove_small_components(probability > threshold, min_area)


def to_rle(probability: np.ndarray, shape: tuple[int, int], threshold: float, min_area: int) -> str:
    """The SIIM RLE of a probability map resized to the image's (height, width)."""
    height, width = shape
    full = cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)
    return encode_relative(to_mask(full, threshold, min_area))


def tune(
    probability_maps: np.ndarray, truths: np.ndarray, image_pixels: int
) -> tuple[float, int, float]:
    """(threshold, min_area at the original size, validation Dice) maximising mean Dice.

    Tuned at the maps' resolution: areas scale by the ratio of pixel counts.
    """
    scale = image_pixels / probability_maps[0].size
    best = (0.5, 0, -1.0)
    for threshold in THRESHOLDS:
        for fraction in MIN_AREA_FRACTIONS:
            min_area = round(fraction * image_pixels)
            score = mean_dice(
                (to_mask(p, threshold, math.ceil(min_area / scale)), t)
                for p, t in zip(probability_maps, truths, strict=True)
            )
            if score > best[2]:
                best = (threshold, min_area, score)
    return best
