"""Training and inference of one ensemble member, sized by the fit budget.

Each epoch sees every positive and a fresh random ``negative_fraction`` of the negatives (the
write-up kept 10%), so an epoch is short and the model sees many different negatives over the
run. The epoch with the best validation pF1 (per breast) is kept.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from harness.api import RunContext
from harness.kit.amp import Precision
from harness.kit.training import TrainingPlan, scaled_step, warmup_cosine
from solutions.rsna_breast.ensemble.config import EnsembleConfig
from solutions.rsna_breast.ensemble.model import BreastNet
from solutions.rsna_breast.ensemble.threshold import best_threshold
from tasks.rsna_breast.metric import pfbeta


class CropDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Cached crops loaded from disk on demand, with their labels (zeros when unlabelled)."""

    def __init__(self, files: list[Path], labels: np.ndarray | None = None) -> None:
        self.files = files
        self.labels = np.zeros(len(files), np.float32) if labels is None else labels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = torch.from_numpy(np.load(self.files[index]).astype(np.float32))
        return image.unsqueeze(0), torch.tensor(self.labels[index], dtype=torch.float32)


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Vertical flips, a small random affine (scale, rotation, shift) and contrast jitter."""
    n = batch.shape[0]
    device = batch.device
    flip = (torch.rand(n, generator=generator) < 0.5).to(device)
    batch = torch.where(flip[:, None, None, None], batch.flip(2), batch)
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(20)
    scale = 1 + (torch.rand(n, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.1
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    ).to(device, batch.dtype)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    batch = F.grid_sample(batch, grid, padding_mode="zeros", align_corners=False)
    gain = (1 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.3).to(device)
    offset = ((torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.1).to(device)
    return (batch * gain + offset).clamp(0, 1)


def breast_probabilities(prediction_ids: np.ndarray, probs: np.ndarray, how: str) -> pd.Series:
    """Image probabilities aggregated per ``prediction_id`` ('mean' or 'max'), sorted by id."""
    frame = pd.DataFrame({"prediction_id": prediction_ids, "p": probs})
    return frame.groupby("prediction_id", sort=True)["p"].agg(how)


@torch.no_grad()
def predict_probabilities(
    model: nn.Module,
    files: list[Path],
    cfg: EnsembleConfig,
    device: torch.device,
    workers: int,
) -> np.ndarray:
    """Sigmoid outputs per file, averaged with the vertical flip when ``tta_vflip``."""
    model.eval()
    precision = Precision.for_device(device)
    loader = DataLoader(CropDataset(files), batch_size=cfg.batch_size * 2, num_workers=workers)
    out = []
    for images, _ in loader:
        images = _to_device(images, device, cfg.channels_last)
        with precision.autocast(device):
            probs = torch.sigmoid(model(images).float())
            if cfg.tta_vflip:
                probs = (probs + torch.sigmoid(model(images.flip(2)).float())) / 2
        out.append(probs.cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _to_device(images: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    images = images.to(device, non_blocking=True)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def member_plan(epochs: int, seconds: float) -> TrainingPlan:
    """Whole epochs, at most ``epochs``, while another (1.2 x the last one) fits in ``seconds``."""
    return TrainingPlan(epochs, seconds, margin=1.2, pace="last")


def member_lr(plan: TrainingPlan, base_lr: float, epochs_done: float) -> float:
    """Cosine decay over whichever runs out first, the epochs or the time, after a linear
    warm-up over the first 5% (from 1% of ``base_lr``): a run cut short by its budget still
    anneals its learning rate instead of stopping at the peak."""
    return warmup_cosine(base_lr, plan.progress(epochs_done), 1.0, warmup=0.05, warmup_min=0.01)


@dataclass
class MemberResult:
    model: nn.Module
    epochs_run: int
    best_epoch: int
    best_val_pf1: float
    """Binarised at its best threshold: the quantity the ensemble submits."""
    val_probs: np.ndarray
    """Per validation image, from the best epoch."""


def train_member(
    index: int,
    cfg: EnsembleConfig,
    train: tuple[list[Path], np.ndarray],
    val: tuple[list[Path], np.ndarray, np.ndarray],
    ctx: RunContext,
    seconds: float,
    report: Callable[[dict[str, float], int], None],
) -> MemberResult:
    """Train ``cfg.models[index]`` for at most ``seconds`` (whole epochs only).

    ``train`` is (files, labels); ``val`` is (files, labels, prediction ids), per image.
    """
    device = torch.device(ctx.device)
    name = cfg.models[index]
    path = cfg.pretrained_paths[index] if index < len(cfg.pretrained_paths) else None
    model: nn.Module = BreastNet(
        name, pretrained=cfg.pretrained, pretrained_path=path, gem_p=cfg.gem_p
    ).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    precision = Precision.for_device(device)
    scaler = precision.scaler(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    files, labels = train
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels == 0)
    n_negatives = min(
        len(negatives), max(cfg.batch_size, math.ceil(cfg.negative_fraction * len(negatives)))
    )
    plan = member_plan(cfg.epochs, seconds)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(cfg.pos_weight, device=device))
    generator = torch.Generator().manual_seed(ctx.seed * 1000 + index)
    rng = np.random.default_rng(ctx.seed * 1000 + index)
    workers = ctx.budget.cpu_workers if cfg.num_workers < 0 else cfg.num_workers
    val_files, val_labels, val_ids = val
    val_truth = breast_probabilities(val_ids, val_labels, "max").to_numpy()

    best: tuple[float, int, dict[str, torch.Tensor], np.ndarray] | None = None
    seen = 0
    while plan.another():
        epoch = plan.done
        epoch_started = time.monotonic()
        chosen = np.concatenate([positives, rng.choice(negatives, n_negatives, replace=False)])
        subset = CropDataset([files[i] for i in chosen], labels[chosen].astype(np.float32))
        loader = DataLoader(
            subset,
            batch_size=cfg.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=workers,
            drop_last=len(subset) > cfg.batch_size,
        )
        model.train()
        total = 0.0
        for step, (images, targets) in enumerate(loader):
            for group in optimiser.param_groups:
                group["lr"] = member_lr(plan, cfg.lr, epoch + step / len(loader))
            images = augment(_to_device(images, device, False), generator)
            images = _to_device(images, device, cfg.channels_last)
            with precision.autocast(device):
                logits = model(images)
            loss = loss_fn(logits.float(), targets.to(device))
            scaled_step(loss, optimiser, scaler)
            total += float(loss.detach()) * len(targets)
            seen += len(targets)
            ctx.progress(
                epoch * len(loader) + step + 1,
                cfg.epochs * len(loader),
                unit=f"{name} batch",
                items=seen,
            )
        val_probs = predict_probabilities(model, val_files, cfg, device, workers)
        val_scores = breast_probabilities(val_ids, val_probs, cfg.aggregate).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # early epochs may predict all 0
            val_pf1 = pfbeta(val_truth, val_scores) if val_truth.any() else 0.0
        val_f1 = best_threshold(val_truth, val_scores)[1]
        epoch_s = time.monotonic() - epoch_started
        metrics = {
            "train_loss": total / len(subset),
            "val_pf1": val_pf1,
            "val_pf1_binarised": val_f1,
            "epoch_s": epoch_s,
            "lr": member_lr(plan, cfg.lr, epoch + 1),
        }
        report({f"{name}.{k}": v for k, v in metrics.items()}, epoch)
        ctx.log.info(
            "%s epoch %d: loss %.4f, val pF1 %.4f (binarised %.4f), %.1f s",
            name,
            epoch,
            metrics["train_loss"],
            val_pf1,
            val_f1,
            epoch_s,
        )
        # Keep the epoch whose binarised validation pF1 (what is submitted) is best.
        if best is None or val_f1 >= best[0]:
            best = (val_f1, epoch, copy.deepcopy(model.state_dict()), val_probs)
        plan.record(epoch_s)
    if plan.done < cfg.epochs:
        ctx.log.info(
            "%s: stopping after %d epochs, its share of the fit budget is used", name, plan.done
        )
    assert best is not None
    model.load_state_dict(best[2])
    return MemberResult(model, plan.done, best[1], best[0], best[3])
