"""Options of the seresnext solution and their presets per budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SeresnextConfig:
    """Defaults are the CPU sizes; the GPU presets follow the 48th-place write-up."""

    model: str = "seresnext26d_32x4d"
    """A timm model name, or ``seresnext_tiny`` (an SE-ResNeXt with one block per stage and a
    quarter of the channels, for the smoke and contract budgets)."""
    pretrained: bool = False
    pretrained_path: str | None = None
    """Local checkpoint of ``model`` for machines without access to the model hub."""
    image_size: int = 64
    """Slices are resized to image_size x image_size (the write-up: 512)."""
    folds: int = 3
    """Patient-grouped folds; one model per fold, their predictions averaged."""
    epochs: int = 8
    """Most epochs per fold; fewer when the fold's share of the fit budget would not hold one."""
    batch_size: int = 32
    lr: float = 1e-3
    """Adam learning rate, cosine-decayed over the fold's epochs (GPU presets fine-tune: 1e-4)."""
    augment: bool = True
    """HorizontalFlip, RandomResizedCrop, brightness/contrast, Rotate and Cutout while training."""
    tta: int = 5
    """Test-time views averaged (1-5): identity, horizontal flip, rotations by +-10 degrees, a
    90% centre zoom."""
    num_workers: int = 0
    """DataLoader workers; -1 = the budget's cpu_workers."""
    threads: int = 0
    """torch intra-op threads; 0 keeps the harness's (the budget's cpu_workers). The CPU presets
    use 1: on two cores shared with other jobs, two threads that wait for each other made a
    training step 3-10x slower than one (seresnext26d_32x4d 6.6 s vs 2.0 s, seresnext_tiny
    0.74 s vs 0.16 s per batch of 32 at 64 px); on idle cores two threads gain < 2x."""


_GPU: dict[str, Any] = {
    "model": "seresnext50_32x4d",
    "pretrained": True,
    "image_size": 512,
    "folds": 5,
    "epochs": 4,
    "batch_size": 32,
    "lr": 1e-4,
    "num_workers": -1,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {
        "model": "seresnext_tiny",
        "image_size": 32,
        "folds": 2,
        "epochs": 1,
        "batch_size": 16,
        "tta": 2,
        "threads": 1,
    },
    "smoke": {
        "model": "seresnext_tiny",
        "image_size": 32,
        "folds": 2,
        "epochs": 10,
        "batch_size": 16,
        "lr": 2e-3,
        "threads": 1,
    },
    "cpu-default": {"image_size": 64, "folds": 3, "epochs": 8, "threads": 1},
    # Kaggle's 12 h hold about one 384 px epoch per fold of the 750k slices on a P100/T4.
    "kaggle-p100": {**_GPU, "image_size": 384},
    "kaggle-t4": {**_GPU, "image_size": 384},
    "gpu-full": {**_GPU, "batch_size": 64},
}
