"""timm backbones with pretrained weights from the hub or from a local file; smp
segmentation models with an actionable error.

GPU presets use ImageNet weights as the write-ups did; where no hub is reachable the user
points ``pretrained_path`` at a downloaded checkpoint. CPU presets and tests use none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.api import HarnessError


def create_backbone(
    name: str,
    *,
    pretrained: bool,
    pretrained_path: str | None = None,
    option_prefix: str = "solution.",
    **kwargs: Any,
) -> Any:
    """``timm.create_model`` with an actionable error when pretrained weights can't be had.

    ``pretrained_path`` (a .pth/.safetensors file) wins over the hub; ``option_prefix`` names
    the solution options in the error message.
    """
    import timm

    if pretrained_path:
        path = Path(pretrained_path).expanduser()
        if not path.is_file():
            raise HarnessError(
                f"{option_prefix}pretrained_path={pretrained_path} does not exist; download the "
                f"{name} ImageNet checkpoint where a hub is reachable and point at the file"
            )
        overlay = {"file": str(path.resolve())}
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs)
    if not pretrained:
        return timm.create_model(name, pretrained=False, **kwargs)
    try:
        return timm.create_model(name, pretrained=True, **kwargs)
    except Exception as exc:  # hub errors come as OSError, HTTP or huggingface_hub exceptions
        raise HarnessError(
            f"could not download pretrained weights for {name} ({type(exc).__name__}: {exc}). "
            f"On a machine without access to the model hub set {option_prefix}pretrained_path="
            f"<local checkpoint file>, or {option_prefix}pretrained=false to train from scratch"
        ) from exc


def create_smp_model(arch: str, *, encoder: str, encoder_weights: str | None, **kwargs: Any) -> Any:
    """``smp.create_model`` with an actionable error when the encoder or its weights can't be had.

    The error names the solution option ``encoder_weights`` that trains from scratch instead.
    """
    import segmentation_models_pytorch as smp

    try:
        return smp.create_model(
            arch, encoder_name=encoder, encoder_weights=encoder_weights, **kwargs
        )
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        weights = f" with weights {encoder_weights!r}" if encoder_weights else ""
        raise HarnessError(
            f"cannot build smp {arch} with encoder {encoder!r}{weights} "
            f"({type(exc).__name__}: {exc}); without access to the weights' host set "
            "solution.encoder_weights=null to train from scratch"
        ) from exc
