"""Stage 1: a 2.5D U-Net (segmentation_models_pytorch) that labels C1..C7 on every slice.

Trained on the studies with a segmentation, slices i-1, i, i+1 as the three input channels,
cross-entropy plus multiclass Dice over background, C1..C7 and thoracic (with cross-entropy
alone, a briefly trained U-Net labels every pixel background: the vertebrae are a few percent
of a slice); then applied to every study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from harness.api import HarnessError
from harness.kit.amp import Precision
from solutions.rsna_cervical.seg_25d_gru.schedule import run_steps, set_step_lr, step_plan
from solutions.rsna_cervical.seg_25d_gru.volumes import N_CLASSES, stack_25d


def build_unet(encoder: str, *, depth: int, pretrained: bool) -> nn.Module:
    """smp U-Net with ``depth`` stages of ``encoder``; a slim decoder for the timm (``tu-``)
    encoders of the CPU presets, smp's default widths otherwise."""
    import segmentation_models_pytorch as smp

    widths = (32, 16, 8, 8, 8) if encoder.startswith("tu-") else (256, 128, 64, 32, 16)
    decoder = widths[:depth]
    try:
        return smp.Unet(
            encoder,
            encoder_weights="imagenet" if pretrained else None,
            in_channels=3,
            classes=N_CLASSES,
            encoder_depth=depth,
            decoder_channels=decoder,
        )
    except Exception as exc:  # download failures surface as OSError, URLError, HTTP errors
        if not pretrained:
            raise
        raise HarnessError(
            f"could not get ImageNet weights for the U-Net encoder {encoder} "
            f"({type(exc).__name__}: {exc}); set solution.seg_pretrained=false to train it from "
            "scratch, or run where the weights can be downloaded once (they are cached)"
        ) from exc


def train_unet(
    model: nn.Module,
    volumes: list[np.ndarray],
    classes: list[np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seconds: float,
    device: torch.device,
    generator: torch.Generator,
    log: Callable[[int, float, float], None],
) -> int:
    """Train on the slices of the segmented studies (at seg size); returns the steps run.

    Runs at most ``epochs`` passes over the slices, fewer when ``seconds`` end first.
    """
    pairs = np.asarray([(s, k) for s, v in enumerate(volumes) for k in range(len(v))])
    if len(pairs) == 0:
        return 0
    model.to(device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    plan = step_plan(epochs * -(-len(pairs) // batch_size), seconds)
    set_step_lr(optimiser, plan, lr)
    precision = Precision.for_device(device)
    scaler = precision.scaler(device)
    import segmentation_models_pytorch as smp

    cross_entropy = nn.CrossEntropyLoss()
    dice = smp.losses.DiceLoss("multiclass", from_logits=True)

    def epoch_losses() -> Iterator[tuple[torch.Tensor, int]]:
        order = torch.randperm(len(pairs), generator=generator).numpy()
        for start in range(0, len(order), batch_size):
            batch = pairs[order[start : start + batch_size]]
            x = np.stack([stack_25d(volumes[s], np.asarray([k]))[0] for s, k in batch])
            y = np.stack([classes[s][k] for s, k in batch])
            flip = torch.rand(len(batch), generator=generator).numpy() < 0.5
            x[flip], y[flip] = x[flip][..., ::-1], y[flip][..., ::-1]
            inputs = torch.from_numpy(x).to(device).float() / 255
            targets = torch.from_numpy(y.astype(np.int64)).to(device)
            with precision.autocast(device):
                logits = model(inputs)
            yield cross_entropy(logits.float(), targets) + dice(logits.float(), targets), len(batch)

    return run_steps(
        plan, epoch_losses, epochs=epochs, optimiser=optimiser, scaler=scaler, lr=lr, log=log
    )


@torch.no_grad()
def segment(
    model: nn.Module, volume: np.ndarray, *, batch_size: int, device: torch.device
) -> np.ndarray:
    """(slices, seg, seg) uint8 class map of a volume already resized to the U-Net's size."""
    model.to(device).eval()
    precision = Precision.for_device(device)
    out = np.empty(volume.shape, dtype=np.uint8)
    for start in range(0, len(volume), batch_size):
        indices = np.arange(start, min(start + batch_size, len(volume)))
        inputs = torch.from_numpy(stack_25d(volume, indices)).to(device).float() / 255
        with precision.autocast(device):
            logits = model(inputs)
        out[indices] = logits.argmax(1).to(torch.uint8).cpu().numpy()
    return out
