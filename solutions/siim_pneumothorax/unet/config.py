"""Options of the unet solution and their sizes per budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UnetConfig:
    arch: str = "unet"
    """'unet' or 'unetplusplus' (smp names); the report's best model was a simplified UNet++."""
    encoder: str = "tu-resnet10t"
    """smp encoder name; the report used EfficientNet-B4 ('efficientnet-b4' on GPU presets)."""
    encoder_weights: str | None = None
    """smp encoder weights ('imagenet' downloads them); None trains from scratch (CPU presets)."""
    decoder_attention: str | None = None
    """smp's decoder_attention_type: None or 'scse' (smp has no residual decoder blocks)."""
    decoder_channels: list[int] = field(default_factory=lambda: [128, 64, 32, 16, 8])
    resolutions: list[int] = field(default_factory=lambda: [96, 128])
    """Progressive training resolutions (square); the last one is also the predict resolution."""
    epochs: list[int] = field(default_factory=lambda: [8, 10])
    """BCE + Dice epochs per resolution (fewer when the fit budget runs short)."""
    finetune_epochs: int = 4
    """Focal-loss fine-tuning epochs at the last resolution, SWA over the last ``swa_epochs``."""
    swa_epochs: int = 2
    batch_size: int = 16
    accumulate: int = 1
    """Gradient accumulation steps: the effective batch is batch_size * accumulate."""
    lr: float = 2e-3
    finetune_lr: float = 3e-4
    weight_decay: float = 1e-4
    val_fraction: float = 0.15
    """Patients held out of training (stratified on pneumothorax) to tune the threshold."""
    threshold: float = 0.5
    tune_threshold: bool = True
    """Pick the sigmoid threshold and min_area that maximise validation Dice."""
    min_area: int = 0
    """Predicted components smaller than this (pixels at the original image size) are dropped;
    tuned on validation when ``tune_threshold``."""
    tta_hflip: bool = True
    augment: bool = True
    second_model_resolutions: list[int] = field(default_factory=list)
    """Optional second model (e.g. trained up to 768 px), its probabilities averaged with the
    first's; empty = one model."""
    budget_fraction: float = 0.85
    """Share of the fit budget that training may use (the rest: validation, tuning, SWA BN)."""


_GPU: dict[str, Any] = {
    "arch": "unetplusplus",
    "encoder": "efficientnet-b4",
    "encoder_weights": "imagenet",
    "decoder_attention": "scse",
    "decoder_channels": [256, 128, 64, 32, 16],
    "resolutions": [256, 512],
    "epochs": [30, 20],
    "finetune_epochs": 8,
    "swa_epochs": 3,
    "batch_size": 4,
    "accumulate": 8,
    "lr": 5e-4,
    "finetune_lr": 1e-4,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {
        "decoder_channels": [32, 16, 8, 8, 4],
        "resolutions": [32],
        "epochs": [1],
        "finetune_epochs": 1,
        "swa_epochs": 1,
        "batch_size": 8,
        "tune_threshold": False,
    },
    "smoke": {
        "decoder_channels": [64, 32, 16, 8, 8],
        "resolutions": [64],
        "epochs": [8],
        "finetune_epochs": 2,
        "swa_epochs": 1,
    },
    "cpu-default": {},
    "kaggle-p100": _GPU,
    "kaggle-t4": _GPU,
    "gpu-full": {
        **_GPU,
        "resolutions": [256, 512, 768],
        "epochs": [30, 20, 15],
        "batch_size": 4,
        "accumulate": 12,
        "second_model_resolutions": [256, 512],
    },
}
