"""Options of the ensemble and their presets per budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EnsembleConfig:
    """Defaults are the CPU sizes; the GPU presets follow the 94th-place write-up."""

    models: list[str] = field(default_factory=lambda: ["convnextv2_atto", "seresnext26d_32x4d"])
    """timm backbones averaged by the ensemble (ConvNeXtV2 + SEResNeXt)."""
    pretrained: bool = False
    pretrained_paths: list[str] = field(default_factory=list)
    """Local checkpoint per model (same order as ``models``) where no model hub is reachable."""
    height: int = 128
    width: int = 64
    """Input size of the ROI crop (portrait, chest wall on the left)."""
    crop: bool = True
    epochs: int = 40
    """At most; the fit budget usually ends training first (each member gets its share)."""
    batch_size: int = 16
    lr: float = 1e-3
    """From-scratch CPU training needs a higher rate than fine-tuning (GPU presets: 2e-4)."""
    weight_decay: float = 1e-2
    gem_p: float = 3.0
    negative_fraction: float = 0.1
    """Negatives kept per epoch (all positives always are): the write-up kept 10%."""
    pos_weight: float = 1.0
    """BCE positive weight on top of the negative downsampling."""
    val_fraction: float = 0.2
    """Patients of the training split held out to pick epochs and the threshold."""
    aggregate: str = "mean"
    """Image probabilities to one per breast: 'mean' or 'max'."""
    binarize: bool = True
    """Submit 0/1 at the threshold that maximises validation pF1 (else probabilities)."""
    tta_vflip: bool = False
    """Average with the vertically flipped image (not horizontal: breasts are mirrored to one
    side, a horizontal flip would show the model an orientation it never trained on)."""
    decode_device: str = "auto"
    """'auto' (DALI mixed on CUDA, DALI CPU otherwise), 'cpu' or 'mixed'."""
    decode_batch_size: int = 8
    decode_workers: int = -1
    """Processes decoding what DALI does not (pydicom), overlapped with DALI; -1: the budget's
    CPU workers, 0: in the decoding process, one file after another."""
    predict_path: str = "cache"
    """'cache': crops prepared and cached on disk, then read by the members; 'stream': decoded,
    preprocessed and predicted batch by batch where DALI decoded, nothing written
    (harness.kit.imaging.device_preprocess); 'auto': 'stream' on CUDA, else 'cache'. 'cache' is
    the default until 'stream' has run on a GPU (it has been tested on CPU only)."""
    num_workers: int = 0
    channels_last: bool = True


_GPU: dict[str, Any] = {
    "models": ["convnextv2_nano", "seresnext50_32x4d"],
    "pretrained": True,
    "height": 1024,
    "width": 512,
    "epochs": 12,
    "batch_size": 16,
    "lr": 2e-4,
    "tta_vflip": True,
    "decode_batch_size": 16,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {"height": 64, "width": 32, "epochs": 1},
    "smoke": {"height": 64, "width": 32, "epochs": 30},
    "cpu-default": {"height": 96, "width": 48, "epochs": 20},
    "kaggle-p100": {**_GPU, "batch_size": 8},
    "kaggle-t4": {**_GPU, "batch_size": 8},
    "gpu-full": _GPU,
}
