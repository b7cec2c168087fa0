"""Training one fold and predicting with test-time augmentation.

The loss is BCEWithLogits weighted like the metric (any 2, subtypes 1) and normalised by the
weight sum, so the validation loss is the competition's weighted log loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from harness.kit.amp import Precision, on_device
from harness.kit.losses import column_weighted_bce
from harness.kit.slices import SliceDataset, training_batches
from harness.kit.training import TrainingPlan, scaled_step, warmup_cosine
from solutions.rsna_ich.seresnext.augment import normalise, train_transform, tta_view
from solutions.rsna_ich.seresnext.config import SeresnextConfig
from solutions.rsna_ich.seresnext.model import build_model
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.metric import row_weights, weighted_log_loss

SUBTYPE_WEIGHTS = torch.from_numpy(row_weights(list(SUBTYPES))).float()


@torch.no_grad()
def predict_probabilities(
    model: nn.Module,
    files: list[Path],
    cfg: SeresnextConfig,
    device: torch.device,
    workers: int,
    views: int,
) -> np.ndarray:
    """(N, 6) sigmoid outputs averaged over the first ``views`` TTA views."""
    model.eval()
    precision = Precision.for_device(device)
    loader = DataLoader(SliceDataset(files), batch_size=cfg.batch_size * 2, num_workers=workers)
    out = [np.zeros((0, len(SUBTYPES)), np.float32)]
    for images, _ in loader:
        images = images.to(device, non_blocking=True)
        total = torch.zeros(len(images), len(SUBTYPES), device=device)
        for view in range(views):
            with precision.autocast(device):
                logits = model(_layout(normalise(tta_view(images, view)), device))
            total += torch.sigmoid(logits.float())
        out.append((total / views).cpu().numpy())
    return np.concatenate(out)


def _layout(batch: torch.Tensor, device: torch.device) -> torch.Tensor:
    return batch.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else batch


def validation_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The competition metric of (N, 6) labels and probabilities."""
    weights = np.tile(SUBTYPE_WEIGHTS.numpy(), len(labels))
    return weighted_log_loss(labels.ravel(), probabilities.ravel(), weights)


class FoldTrainer:
    """One fold: model, Adam, cosine learning rate over the fold's epochs, the best epoch kept."""

    def __init__(
        self,
        cfg: SeresnextConfig,
        train: tuple[list[Path], np.ndarray],
        val: tuple[list[Path], np.ndarray],
        device: torch.device,
        workers: int,
    ) -> None:
        self.cfg = cfg
        self.device = device
        self.workers = workers
        self.model = on_device(
            build_model(cfg.model, pretrained=cfg.pretrained, pretrained_path=cfg.pretrained_path),
            device,
        )
        self.precision = Precision.for_device(device)
        self.scaler = self.precision.scaler(device)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        transform = train_transform(cfg.image_size) if cfg.augment else None
        self.train_set = SliceDataset(train[0], train[1], transform)
        self.val_files, self.val_labels = val
        self.steps_per_epoch = max(1, len(self.train_set) // cfg.batch_size)
        self.step = 0

    def lr(self) -> float:
        return warmup_cosine(self.cfg.lr, self.step, self.steps_per_epoch * self.cfg.epochs)

    def train_epoch(self) -> float:
        """One pass in random order (torch's global generator); the mean training loss."""
        loader = training_batches(self.train_set, self.cfg.batch_size, self.workers)
        self.model.train()
        total, seen = 0.0, 0
        for images, targets in loader:
            if len(images) < 2:  # batch norm cannot train on one image
                continue
            for group in self.optimiser.param_groups:
                group["lr"] = self.lr()
            images = _layout(normalise(images.to(self.device, non_blocking=True)), self.device)
            targets = targets.to(self.device)
            with self.precision.autocast(self.device):
                logits = self.model(images)
            loss = column_weighted_bce(logits, targets, SUBTYPE_WEIGHTS)
            scaled_step(loss, self.optimiser, self.scaler)
            self.step += 1
            total += float(loss.detach()) * len(targets)
            seen += len(targets)
        return total / max(seen, 1)

    def validate(self) -> tuple[float, np.ndarray]:
        """(weighted log loss, probabilities) on the validation slices, one view."""
        probabilities = predict_probabilities(
            self.model, self.val_files, self.cfg, self.device, self.workers, views=1
        )
        return validation_loss(self.val_labels, probabilities), probabilities


def fold_plan(epochs: int, seconds: float, slowest_epoch_s: float) -> TrainingPlan:
    """At most ``epochs`` in a fold's share of the fit budget, while the slowest epoch so far,
    in this fold or an earlier one, x 1.25 still fits (on shared cores an epoch's time can
    jump). Without any epoch timed yet, one is tried."""
    return TrainingPlan(epochs, seconds, margin=1.25, slowest_s=slowest_epoch_s)
