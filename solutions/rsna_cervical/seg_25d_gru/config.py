"""Options of seg-2.5d-gru and their presets per budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Seg25dGruConfig:
    """Defaults are the CPU sizes; the GPU presets follow the 2nd-place write-up."""

    seg_encoder: str = "tu-resnet10t"
    """smp encoder of the stage-1 U-Net (the write-up: efficientnet-b0)."""
    seg_depth: int = 3
    """Encoder stages used by the U-Net: 3 suits the CPU presets' small slices, 5 the GPU's."""
    seg_pretrained: bool = False
    """ImageNet weights for the U-Net encoder (downloaded by smp)."""
    seg_size: int = 48
    """Side of the 2.5D slices the U-Net sees (the write-up: 320)."""
    seg_epochs: int = 8
    seg_batch_size: int = 32
    seg_lr: float = 3e-3
    seg_time_fraction: float = 0.3
    """Share of the fit budget the U-Net may train for (then it segments every study)."""
    n_sample: int = 12
    """Slices sampled evenly per vertebra with np.linspace (the write-up: 24)."""
    crop_size: int = 40
    crop_margin: float = 0.15
    """Context added around a vertebra's predicted mask, as a fraction of its size."""
    backbone: str = "resnet10t"
    """timm CNN applied to every sampled slice (the write-up: tf_efficientnetv2_s, resnest50d).
    On CPU, timm's tiny test_convnext did not learn the fractures from scratch at all."""
    pretrained: bool = False
    pretrained_path: str | None = None
    gru_hidden: int = 64
    spatial_dropout: float = 0.2
    overall: str = "noisy_or"
    """patient_overall as 1 - prod(1 - p_C1..C7) ('noisy_or') or from its own head ('head')."""
    epochs: int = 20
    """At most; the fit budget usually ends training first."""
    batch_size: int = 4
    """Studies per step (7 vertebrae x n_sample slices each)."""
    lr: float = 1e-3
    weight_decay: float = 1e-2
    crops_in_memory: bool = True
    """Keep every crop in memory (CPU sizes); False re-reads the DICOM slices of a crop each
    time from the boxes kept on disk, as the write-up did to fit the full dataset."""
    num_workers: int = 0


_GPU: dict[str, Any] = {
    "seg_encoder": "efficientnet-b0",
    "seg_depth": 5,
    "seg_pretrained": True,
    "seg_size": 320,
    "seg_epochs": 10,
    "seg_batch_size": 32,
    "seg_lr": 1e-3,
    "seg_time_fraction": 0.25,
    "n_sample": 24,
    "crop_size": 256,
    "backbone": "tf_efficientnetv2_s",
    "pretrained": True,
    "gru_hidden": 256,
    "epochs": 15,
    "batch_size": 4,
    "lr": 2e-4,
    "crops_in_memory": False,
    "num_workers": 8,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {
        "backbone": "test_convnext",
        "seg_size": 32,
        "seg_epochs": 1,
        "n_sample": 4,
        "crop_size": 32,
        "epochs": 1,
        "gru_hidden": 16,
    },
    "smoke": {
        "seg_size": 32,
        "seg_epochs": 20,
        "seg_time_fraction": 0.35,
        "n_sample": 8,
        "crop_size": 32,
        "epochs": 20,
    },
    "cpu-default": {"seg_size": 64, "seg_epochs": 10, "n_sample": 12, "crop_size": 40},
    "kaggle-p100": _GPU,
    "kaggle-t4": _GPU,
    "gpu-full": {**_GPU, "backbone": "resnest50d", "crop_size": 320, "batch_size": 6},
}
