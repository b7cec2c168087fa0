"""Options of the unet-cls-ensemble solution and their sizes per budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UnetClsEnsembleConfig:
    encoders: list[str] = field(default_factory=lambda: ["tu-test_resnet", "tu-test_efficientnet"])
    """smp encoders of the U-Nets whose probabilities are averaged; the write-up's team used
    ResNet34 and EfficientNet-B5 ('resnet34', 'efficientnet-b5' on GPU presets)."""
    encoder_weights: str | None = None
    """smp encoder weights ('imagenet' downloads them); None trains from scratch (CPU presets)."""
    decoder_channels: list[int] = field(default_factory=lambda: [32, 16, 8, 8])
    """One U-Net decoder block per encoder stage: 4 stages = input sides multiples of 16."""
    classifier: str = "test_efficientnet"
    """timm model of the classification gate (one sigmoid per class); ResNet34 on GPU presets."""
    classifier_pretrained: bool = False
    classifier_pretrained_path: str | None = None
    """Local checkpoint of the classifier's ImageNet weights where no hub is reachable."""
    scale: float = 1.0
    """Network input = image size x scale, each side rounded to a multiple of 2 ** (decoder
    stages): 16 with the CPU presets' four stages, 32 with the GPU presets' five."""
    crop_width: int | None = None
    """Train on random crops this wide (a multiple of 2 ** stages); None = whole images.
    Predict always sees whole images (the networks are fully convolutional)."""
    seg_epochs: int = 30
    cls_epochs: int = 30
    """Planned epochs; fewer run when the fit budget runs short."""
    batch_size: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-4
    classifier_share: float = 0.25
    """Share of the training time given to the classifier; the U-Nets split the rest."""
    budget_fraction: float = 0.8
    """Share of the fit budget that training may use (the rest: validation and tuning)."""
    val_fraction: float = 0.2
    """Training images held out (stratified on their classes) to tune the post-processing."""
    tune: bool = True
    """Tune per class: gate threshold, pixel threshold, minimum component area."""
    gate_thresholds: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5, 0.5])
    """Per class: the classifier probability below which the class's mask is left empty."""
    pixel_thresholds: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5, 0.5])
    min_areas: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    """Per class: components smaller than this (pixels at the image's size) are dropped."""
    tta_hflip: bool = True
    inference_limit_s: float = 3600.0
    """The competition's kernel limit (1 hour, CPU or GPU): predict time is recorded against it."""


_GPU: dict[str, Any] = {
    "encoders": ["resnet34", "efficientnet-b5"],
    "encoder_weights": "imagenet",
    "decoder_channels": [256, 128, 64, 32, 16],
    "classifier": "resnet34",
    "classifier_pretrained": True,
    "crop_width": 512,
    "seg_epochs": 40,
    "cls_epochs": 20,
    "batch_size": 8,
    "lr": 3e-4,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {
        "decoder_channels": [8, 8, 8, 8],
        "seg_epochs": 1,
        "cls_epochs": 1,
        "tune": False,
    },
    "smoke": {"decoder_channels": [16, 8, 8, 8], "seg_epochs": 10, "cls_epochs": 8},
    "cpu-default": {},
    "kaggle-p100": _GPU,
    "kaggle-t4": _GPU,
    "gpu-full": {**_GPU, "batch_size": 16, "seg_epochs": 60, "cls_epochs": 30},
}
