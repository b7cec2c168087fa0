"""The simplest honest rsna-breast solution: one small timm CNN on downsampled mammograms.

Per-image cancer probabilities are averaged per breast (``prediction_id``). Epochs stop early
when the fit budget would not hold another one.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from harness.api import DataView, RunContext, Solution
from harness.kit.amp import Precision
from harness.kit.imaging.cache import CachedImages
from harness.kit.imaging.view_images import ViewImages
from harness.kit.models import create_backbone
from harness.kit.training import TrainingPlan, scaled_step
from solutions.rsna_breast.baseline.images import load_images


@dataclass
class BaselineConfig:
    model: str = "resnet18"
    pretrained: bool = False
    pretrained_path: str | None = None
    height: int = 96
    width: int = 72
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    pos_weight: float | None = None
    """BCE weight of the positive class; None = negatives/positives of the training set."""
    aggregate: str = "mean"
    """How image probabilities become one per breast: 'mean' or 'max'."""


_GPU = {
    "height": 512,
    "width": 384,
    "epochs": 15,
    "batch_size": 32,
    "model": "efficientnet_b0",
    "pretrained": True,
}


class BaselineSolution(Solution[BaselineConfig]):
    name = "baseline"
    version = "1.0"
    tasks = ("rsna-breast",)
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "contract": {"height": 32, "width": 24, "epochs": 1},
        "smoke": {"height": 64, "width": 48, "epochs": 8},
        "cpu-default": {"height": 96, "width": 72, "epochs": 10},
        "kaggle-p100": _GPU,
        "kaggle-t4": _GPU,
        "gpu-full": {**_GPU, "height": 1024, "width": 768, "batch_size": 16},
    }

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__(config)
        self.model: nn.Module | None = None
        self.fallback_probability = 0.0
        self.images = ViewImages(
            functools.partial(_view_images, height=config.height, width=config.width)
        )

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self.images.prepare(train, ctx)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        images, ok, _ = self.images.for_fit(train, ctx)
        labels = train.frame["cancer"].to_numpy(dtype=np.float32)[ok]
        x = torch.from_numpy(images[ok].astype(np.float32)).unsqueeze(1)
        y = torch.from_numpy(labels)
        positives = float(y.sum())
        pos_weight = cfg.pos_weight
        if pos_weight is None:
            pos_weight = (len(y) - positives) / max(positives, 1.0)
        self.fallback_probability = positives / max(len(y), 1)

        device = torch.device(ctx.device)
        model = create_backbone(
            cfg.model,
            pretrained=cfg.pretrained,
            pretrained_path=cfg.pretrained_path,
            in_chans=1,
            num_classes=1,
        ).to(device)
        optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = math.ceil(len(y) / cfg.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=cfg.lr, total_steps=max(1, cfg.epochs * steps_per_epoch)
        )
        loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, device=device))
        generator = torch.Generator().manual_seed(ctx.seed)
        precision = Precision.for_device(device)
        scaler = precision.scaler(device)

        # Another epoch only while 1.5 x the last one fits in what is left of the fit budget.
        plan = TrainingPlan(cfg.epochs, ctx.budget.remaining(), margin=1.5, pace="last")
        while plan.another():
            epoch = plan.done
            started = time.monotonic()
            model.train()
            order = torch.randperm(len(y), generator=generator)
            total = 0.0
            for start in range(0, len(y), cfg.batch_size):
                idx = order[start : start + cfg.batch_size]
                batch = _augment(x[idx], generator).to(device, non_blocking=True)
                with precision.autocast(device):
                    logits = model(batch).squeeze(1)
                loss = loss_fn(logits.float(), y[idx].to(device))
                scaled_step(loss, optimiser, scaler)
                schedule.step()
                total += float(loss) * len(idx)
            epoch_s = time.monotonic() - started
            plan.record(epoch_s)
            ctx.progress(plan.done, cfg.epochs, unit="epoch", items=plan.done * len(y))
            ctx.report({"train_loss": total / len(y), "epoch_s": epoch_s}, step=epoch)
            ctx.log.info("epoch %d: loss %.4f (%.1f s)", epoch, total / len(y), epoch_s)
        if plan.done < cfg.epochs:
            ctx.log.info("stopping: %.0f s left in the fit budget", ctx.budget.remaining())
        ctx.record_fact("epochs_run", plan.done)
        self.model = model

    @torch.no_grad()
    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if self.model is None:
            raise RuntimeError("predict called before fit")
        images, ok, _ = self.images.load(test, ctx)
        device = torch.device(ctx.device)
        self.model.eval()
        probabilities = np.full(len(test), np.nan, dtype=np.float64)
        rows = np.flatnonzero(ok)
        for start in range(0, len(rows), self.config.batch_size):
            idx = rows[start : start + self.config.batch_size]
            batch = torch.from_numpy(images[idx].astype(np.float32)).unsqueeze(1).to(device)
            probabilities[idx] = torch.sigmoid(self.model(batch).float().squeeze(1)).cpu().numpy()
        per_image = pd.DataFrame(
            {"prediction_id": test.frame["prediction_id"], "cancer": probabilities}
        )
        per_breast = per_image.groupby("prediction_id", sort=True)["cancer"].agg(
            self.config.aggregate
        )
        # A breast whose every image was unreadable gets the training prevalence.
        per_breast = per_breast.fillna(self.fallback_probability)
        return per_breast.reset_index()


def _view_images(view: DataView, ctx: RunContext, height: int, width: int) -> CachedImages:
    """A module function, not a lambda: the solution's state pickles (Solution.save)."""
    return load_images(view.frame, ctx.cache_dir, height, width)


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Vertical flips and brightness/contrast jitter (breasts are already mirrored to the left)."""
    n = batch.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(2), batch)
    gain = 1 + 0.2 * (torch.rand(n, 1, 1, 1, generator=generator) - 0.5)
    shift = 0.1 * (torch.rand(n, 1, 1, 1, generator=generator) - 0.5)
    return (batch * gain + shift).clamp(0, 1)
