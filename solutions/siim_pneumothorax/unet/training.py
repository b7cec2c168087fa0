"""Training one network: progressive resolution, BCE + Dice then focal fine-tuning with SWA.

The schedule is the report's, sized by the clock: each stage (one per resolution, then the
focal fine-tuning at the last resolution) gets a share of the training time proportional to
its planned epochs x pixels, and runs fewer epochs when its share would not hold them. The
learning rate follows a cosine over the stage's current plan; the fine-tuning's last
``swa_epochs`` are averaged (torch.optim.swa_utils) and BatchNorm statistics recomputed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import segmentation_models_pytorch as smp
import torch
from torch import nn
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.data import DataLoader, Dataset

from harness.api import RunContext
from harness.kit.amp import Precision
from harness.kit.training import TrainingPlan, warmup_cosine
from solutions.siim_pneumothorax.unet.augment import augment
from solutions.siim_pneumothorax.unet.config import UnetConfig
from solutions.siim_pneumothorax.unet.model import create_model


@dataclass(frozen=True)
class Stage:
    resolution: int
    epochs: int
    loss: str
    """'bce_dice' or 'focal'."""
    lr: float
    swa_epochs: int = 0


def plan_stages(cfg: UnetConfig, resolutions: list[int], epochs: list[int]) -> list[Stage]:
    """The BCE + Dice stages, one per resolution, then the focal fine-tuning with SWA."""
    stages = [Stage(r, e, "bce_dice", cfg.lr) for r, e in zip(resolutions, epochs, strict=True)]
    if cfg.finetune_epochs > 0:
        swa = min(cfg.swa_epochs, cfg.finetune_epochs)
        stages.append(Stage(resolutions[-1], cfg.finetune_epochs, "focal", cfg.finetune_lr, swa))
    return [stage for stage in stages if stage.epochs > 0]


def resize_stack(images: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    """(N, S, S) arrays resized to (N, size, size)."""
    if images.shape[1] == size:
        return images
    return np.stack([cv2.resize(i, (size, size), interpolation=interpolation) for i in images])


class _PairDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Image/mask pairs; augmentation drawn from (seed, epoch, index): worker-independent."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, seed: int, augmented: bool) -> None:
        self.images, self.masks = images, masks
        self.seed, self.augmented, self.epoch = seed, augmented, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].astype(np.float32) / 255.0
        mask = self.masks[index]
        if self.augmented:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            image, mask = augment(image, mask, rng)
        return torch.from_numpy(image)[None], torch.from_numpy(mask.astype(np.float32))[None]


def _loss_fn(kind: str) -> nn.Module:
    if kind == "focal":
        return smp.losses.FocalLoss(mode="binary")
    dice = smp.losses.DiceLoss(mode="binary", from_logits=True)
    bce = nn.BCEWithLogitsLoss()

    class BceDice(nn.Module):
        def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return bce(logits, target) + dice(logits, target)

    return BceDice()


def train_model(
    cfg: UnetConfig,
    images: np.ndarray,
    masks: np.ndarray,
    resolutions: list[int],
    epochs: list[int],
    ctx: RunContext,
    *,
    seconds: float,
    seed: int,
    name: str,
) -> tuple[nn.Module, int]:
    """A trained network and the number of epochs it ran, within ``seconds`` of training."""
    torch.manual_seed(seed)
    device = torch.device(ctx.device)
    model = create_model(cfg).to(device)
    precision = Precision.for_device(device)
    stages = plan_stages(cfg, resolutions, epochs)
    costs = [stage.epochs * stage.resolution**2 for stage in stages]
    started = time.monotonic()
    epochs_run = 0
    swa_model: AveragedModel | None = None
    loader: DataLoader | None = None
    epoch_s, last_resolution = 0.0, stages[0].resolution
    for index, stage in enumerate(stages):
        used = time.monotonic() - started
        expected_epoch_s = epoch_s * (stage.resolution / last_resolution) ** 2
        if index > 0 and expected_epoch_s > seconds - used:
            ctx.log.info("%s: skipping stage %d, its first epoch would not fit", name, index)
            break
        share = (seconds - used) * costs[index] / sum(costs[index:])
        last_resolution = stage.resolution
        dataset = _PairDataset(
            resize_stack(images, stage.resolution, cv2.INTER_AREA),
            resize_stack(masks, stage.resolution, cv2.INTER_NEAREST),
            seed=seed * 1000 + index,
            augmented=cfg.augment,
        )
        loader = _loader(dataset, cfg.batch_size, ctx, seed + index, shuffle=True)
        optimiser = torch.optim.AdamW(
            model.parameters(), lr=stage.lr, weight_decay=cfg.weight_decay
        )
        swa_scheduler = SWALR(optimiser, swa_lr=stage.lr / 2, anneal_epochs=1)
        loss_fn = _loss_fn(stage.loss)
        scaler = precision.scaler(device)
        plan = TrainingPlan(stage.epochs, share, pace="last", revision="shrink")
        while plan.another():
            epoch = dataset.epoch = plan.done
            in_swa = stage.swa_epochs > 0 and epoch >= plan.planned - stage.swa_epochs
            epoch_started = time.monotonic()
            loss = _run_epoch(
                model,
                loader,
                optimiser,
                loss_fn,
                precision,
                scaler,
                device,
                cfg.accumulate,
                lr=None if in_swa else warmup_cosine(stage.lr, epoch, plan.planned),
            )
            if in_swa:
                swa_scheduler.step()
                swa_model = swa_model or AveragedModel(model)
                swa_model.update_parameters(model)
            epochs_run += 1
            epoch_s = time.monotonic() - epoch_started
            ctx.report(
                {f"{name}.train_loss": loss, f"{name}.resolution": stage.resolution}, epochs_run
            )
            ctx.log.info(
                "%s stage %d (%d px, %s) epoch %d/%d: loss %.4f (%.1f s)",
                name, index, stage.resolution, stage.loss, epoch + 1, plan.planned, loss, epoch_s,
            )  # fmt: skip
            plan.record(epoch_s)
            left = share - plan.elapsed()
            averaging = stage.swa_epochs > 0 and swa_model is None
            if plan.done == plan.planned and averaging and left > epoch_s:
                plan.extend()  # end with at least one averaged epoch
    if swa_model is not None and loader is not None:
        update_bn(_inputs(loader, device), swa_model)
        model = swa_model.module
    return model.eval(), epochs_run


def _loader(
    dataset: _PairDataset, batch_size: int, ctx: RunContext, seed: int, *, shuffle: bool
) -> DataLoader:
    workers = ctx.budget.cpu_workers if ctx.device == "cuda" else 0
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed),
        pin_memory=ctx.device == "cuda",
        drop_last=shuffle and len(dataset) > batch_size,
    )


def _inputs(loader: DataLoader, device: torch.device) -> Iterator[torch.Tensor]:
    for images, _ in loader:
        yield images.to(device)


def _run_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimiser: torch.optim.Optimizer,
    loss_fn: nn.Module,
    precision: Precision,
    scaler: torch.amp.GradScaler,
    device: torch.device,
    accumulate: int,
    *,
    lr: float | None,
) -> float:
    if lr is not None:
        for group in optimiser.param_groups:
            group["lr"] = lr
    model.train()
    total, seen = 0.0, 0
    optimiser.zero_grad(set_to_none=True)
    for step, (images, masks) in enumerate(loader, start=1):
        images, masks = images.to(device, non_blocking=True), masks.to(device, non_blocking=True)
        with precision.autocast(device):
            logits = model(images)
        loss = loss_fn(logits.float(), masks)
        scaler.scale(loss / accumulate).backward()
        if step % accumulate == 0 or step == len(loader):
            scaler.step(optimiser)
            scaler.update()
            optimiser.zero_grad(set_to_none=True)
        total += float(loss) * len(images)
        seen += len(images)
    return total / max(seen, 1)
