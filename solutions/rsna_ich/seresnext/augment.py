"""The write-up's augmentations (torchvision v2) and its five test-time views.

Training, per image: HorizontalFlip, RandomResizedCrop, RandomBrightnessContrast (ColorJitter's
brightness and contrast), Rotate and Cutout (RandomErasing with zeros). Random draws come from
torch's global generator, which the trainer seeds per fold.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

TTA_VIEWS = 5
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def train_transform(size: int) -> v2.Compose:
    """Augmentation of one float (3, size, size) image in [0, 1]."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomResizedCrop(size, scale=(0.75, 1.0), ratio=(0.9, 1.1), antialias=True),
            v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
            v2.RandomRotation(15),
            v2.RandomErasing(p=0.5, scale=(0.02, 0.08), ratio=(0.5, 2.0), value=0),
        ]
    )


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """ImageNet mean/std per channel: what the pretrained GPU presets expect."""
    mean = torch.tensor(IMAGENET_MEAN, device=batch.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=batch.device).view(1, 3, 1, 1)
    return (batch - mean) / std


def tta_view(batch: torch.Tensor, view: int) -> torch.Tensor:
    """Test-time view ``view`` (0-4) of a (N, 3, H, W) batch: identity, horizontal flip,
    rotation by +10 and -10 degrees, a 90% centre zoom."""
    if view == 0:
        return batch
    if view == 1:
        return F.horizontal_flip(batch)
    if view in (2, 3):
        return F.rotate(batch, 10.0 if view == 2 else -10.0)
    if view == 4:
        height, width = batch.shape[-2:]
        crop_h, crop_w = round(0.9 * height), round(0.9 * width)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        return F.resized_crop(batch, top, left, crop_h, crop_w, [height, width], antialias=True)
    raise ValueError(f"TTA view must be 0..{TTA_VIEWS - 1}, got {view}")
