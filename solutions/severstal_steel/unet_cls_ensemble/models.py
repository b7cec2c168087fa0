"""The networks: smp U-Nets (four sigmoid masks) and a timm classifier (four sigmoid logits)."""

from __future__ import annotations

from torch import nn

from harness.kit.models import create_backbone, create_smp_model
from solutions.severstal_steel.unet_cls_ensemble.config import UnetClsEnsembleConfig
from tasks.severstal_steel.layout import CLASS_IDS


def create_segmenter(encoder: str, cfg: UnetClsEnsembleConfig) -> nn.Module:
    """An smp U-Net with ``encoder``, one grey input channel, one output channel per class."""
    return create_smp_model(
        "unet",
        encoder=encoder,
        encoder_weights=cfg.encoder_weights,
        encoder_depth=len(cfg.decoder_channels),
        decoder_channels=tuple(cfg.decoder_channels),
        in_channels=1,
        classes=len(CLASS_IDS),
    )


def create_classifier(cfg: UnetClsEnsembleConfig) -> nn.Module:
    """The gate: a timm model with one grey input channel and one logit per class."""
    network: nn.Module = create_backbone(
        cfg.classifier,
        pretrained=cfg.classifier_pretrained,
        pretrained_path=cfg.classifier_pretrained_path,
        option_prefix="solution.classifier_",
        in_chans=1,
        num_classes=len(CLASS_IDS),
    )
    return network
