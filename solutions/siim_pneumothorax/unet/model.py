"""The segmentation network: an smp U-Net or UNet++ with a one-channel input."""

from __future__ import annotations

import segmentation_models_pytorch as smp
from torch import nn

from harness.api import HarnessError
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
    try:
        return smp.create_model(
            cfg.arch,
            encoder_name=cfg.encoder,
            encoder_weights=cfg.encoder_weights,
            encoder_depth=len(cfg.decoder_channels),
            decoder_channels=tuple(cfg.decoder_channels),
            decoder_attention_type=cfg.decoder_attention,
            in_channels=1,
            classes=1,
        )
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        weights = f" with weights {cfg.encoder_weights!r}" if cfg.encoder_weights else ""
        raise HarnessError(
            f"cannot build smp {cfg.arch} with encoder {cfg.encoder!r}{weights} "
            f"({type(exc).__name__}: {exc}); without access to the weights' host set "
            "solution.encoder_weights=null to train from scratch"
        ) from exc
