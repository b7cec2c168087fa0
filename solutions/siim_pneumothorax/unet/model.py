"""The segmentation network: an smp U-Net or UNet++ with a one-channel input."""

from __future__ import annotations

from torch import nn

from harness.api import HarnessError
from harness.kit.models import create_smp_model
from solutions.siim_pneumothorax.unet.config import UnetConfig

ARCHITECTURES: tuple[str, ...] = ("unet", "unetplusplus")


def create_model(cfg: UnetConfig) -> nn.Module:
    """smp model with ``cfg``'s encoder; one grey input channel (smp adapts pretrained stems).

    smp's U-Net and UNet++ decoders are plain conv-BN-ReLU blocks: residual decoder blocks, as
    in the report, are not an smp option; ``decoder_attention='scse'`` is the closest one.
    """
    if cfg.arch not in ARCHITECTURES:
        raise HarnessError(
            f"solution.arch={cfg.arch!r} is not supported; choose one of {', '.join(ARCHITECTURES)}"
        )
    return create_smp_model(
        cfg.arch,
        encoder=cfg.encoder,
        encoder_weights=cfg.encoder_weights,
        encoder_depth=len(cfg.decoder_channels),
        decoder_channels=tuple(cfg.decoder_channels),
        decoder_attention_type=cfg.decoder_attention,
        in_channels=1,
        classes=1,
    )
