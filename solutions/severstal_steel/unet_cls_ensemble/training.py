"""Training one network, segmenter or classifier, within a share of the fit budget.

Both learn from the same samples: a grey image (random width crop, flips, brightness and
contrast), its four class masks and the four image labels derived from them (is class k in
this crop?). U-Nets minimise BCE + Dice over the four masks, the classifier BCE over the
labels. The learning rate follows a cosine over the planned epochs; when the clock says the
plan will not fit, the plan shrinks and the cosine with it.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import segmentation_models_pytorch as smp
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from harness.api import RunContext
from harness.kit.amp import Precision
from harness.kit.training import TrainingPlan, scaled_step, warmup_cosine
from solutions.severstal_steel.unet_cls_ensemble.images import unpack

Kind = Literal["segmenter", "classifier"]

MEAN, STD = 0.45, 0.225
"""Grey-level normalisation (ImageNet's mean and std averaged over RGB)."""


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) images as normalised float (N, 1, H, W)."""
    return (images.float()[:, None] / 255.0 - MEAN) / STD


class SteelSamples(Dataset[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
    """(uint8 image, 0/1 masks (4, H, W), labels (4,)) with augmentation drawn from
    (seed, epoch, index), so that it does not depend on the DataLoader's workers."""

    def __init__(
        self,
        images: np.ndarray,
        packed_masks: np.ndarray,
        *,
        seed: int,
        augment: bool,
        crop_width: int | None,
    ) -> None:
        self.images, self.packed_masks = images, packed_masks
        self.seed, self.augment, self.crop_width, self.epoch = seed, augment, crop_width, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image, bits = self.images[index], self.packed_masks[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        width = image.shape[1]
        if self.crop_width is not None and self.crop_width < width:
            left = int(rng.integers(0, width - self.crop_width + 1))
            image, bits = (
                image[:, left : left + self.crop_width],
                bits[:, left : left + self.crop_width],
            )
        if self.augment:
            if rng.random() < 0.5:
                image, bits = image[:, ::-1], bits[:, ::-1]
            if rng.random() < 0.5:
                image, bits = image[::-1], bits[::-1]
            gain, shift = rng.uniform(0.85, 1.15), rng.uniform(-15, 15)
            image = np.clip(image.astype(np.float32) * gain + shift, 0, 255).astype(np.uint8)
        masks = unpack(np.ascontiguousarray(bits)).astype(np.float32)
        labels = masks.reshape(len(masks), -1).max(axis=1)
        return (
            torch.from_numpy(np.ascontiguousarray(image)),
            torch.from_numpy(masks),
            torch.from_numpy(labels),
        )


class BceDiceLoss(nn.Module):
    """BCE plus soft Dice over the four class masks (Dice of classes absent from the batch
    is left out, as smp's multilabel Dice does)."""

    def __init__(self) -> None:
        super().__init__()
        self.bce = nn.BCEWithLogitsLoss()
        self.dice = smp.losses.DiceLoss(mode="multilabel", from_logits=True)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.bce(logits, target) + self.dice(logits, target)


def train_network(
    network: nn.Module,
    kind: Kind,
    samples: SteelSamples,
    ctx: RunContext,
    *,
    epochs: int,
    seconds: float,
    lr: float,
    weight_decay: float,
    batch_size: int,
    seed: int,
    name: str,
) -> int:
    """Train ``network`` in place for up to ``epochs`` within ``seconds``; the epochs run.

    The first epoch always runs; later ones only while the last epoch's duration says the
    next still fits (the plan, and the cosine with it, is revised after every epoch: the first
    epoch is slow while oneDNN prepares its kernels, and a shared machine's pace varies).
    """
    device = torch.device(ctx.device)
    network.to(device)
    precision = Precision.for_device(device)
    scaler = precision.scaler(device)
    loss_fn: nn.Module = BceDiceLoss() if kind == "segmenter" else nn.BCEWithLogitsLoss()
    optimiser = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=weight_decay)
    loader = DataLoader(
        samples,
        batch_size=batch_size,
        shuffle=True,
        num_workers=ctx.budget.cpu_workers if device.type == "cuda" else 0,
        generator=torch.Generator().manual_seed(seed),
        pin_memory=device.type == "cuda",
        drop_last=len(samples) > batch_size,
    )
    plan = TrainingPlan(epochs, seconds, pace="last", revision="refit")
    while plan.another():
        epoch = samples.epoch = plan.done
        for group in optimiser.param_groups:
            group["lr"] = warmup_cosine(lr, epoch, plan.planned)
        epoch_started = time.monotonic()
        network.train()
        total, seen = 0.0, 0
        for images, masks, labels in loader:
            inputs = normalise(images.to(device, non_blocking=True))
            target = (masks if kind == "segmenter" else labels).to(device, non_blocking=True)
            with precision.autocast(device):
                outputs = network(inputs)
            loss = loss_fn(outputs.float(), target)
            scaled_step(loss, optimiser, scaler)
            total += loss.item() * len(images)
            seen += len(images)
        epoch_s = time.monotonic() - epoch_started
        ctx.report({f"{name}.train_loss": total / max(seen, 1)}, epoch + 1)
        ctx.log.info(
            "%s epoch %d/%d: loss %.4f (%.1f s)",
            name,
            epoch + 1,
            plan.planned,
            total / max(seen, 1),
            epoch_s,
        )
        plan.record(epoch_s)
    network.eval()
    return plan.done
