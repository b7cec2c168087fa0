"""Stage 1: one CNN per fold, and the out-of-fold embeddings of the training slices.

Each fold's CNN trains on the other folds' slices (Adam, cosine learning rate, the metric's
weighted BCE, flip and shift-scale-rotate augmentation) and keeps its epoch with the lowest
validation loss on its own fold. The slices of its own fold, which it never trained on, get
their embedding and probabilities from that kept epoch: every training slice is embedded by
exactly one CNN, the one that did not see it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from harness.kit.amp import Precision, on_device
from harness.kit.slices import SliceDataset, training_batches
from harness.kit.training import (
    TrainingPlan,
    scaled_step,
    state_snapshot,
    warmup_cosine,
    with_state,
)
from solutions.rsna_ich.sequence.cnn import SliceCnn
from solutions.rsna_ich.sequence.config import SequenceConfig
from solutions.rsna_ich.sequence.folds import FoldRows
from solutions.rsna_ich.sequence.losses import metric_loss, weighted_bce
from tasks.rsna_ich.layout import SUBTYPES

log = logging.getLogger(__name__)

Reporter = Callable[[dict[str, float], int], None]
"""Takes one epoch's metrics and the epoch's number within its fold."""

EPOCH_MARGIN = 1.25
"""Another epoch is planned only if 1.25 x the slowest one so far still fits (on shared cores
an epoch's time can jump)."""


def epoch_plan(epochs: int, seconds: float) -> TrainingPlan:
    """At least one and at most ``epochs`` epochs; after each the plan shrinks to what still
    fits, so the cosine over ``planned`` ends at a low rate when the budget ends training."""
    return TrainingPlan(max(1, epochs), seconds, margin=EPOCH_MARGIN, revision="shrink")


def train_transform() -> v2.Compose:
    """The write-up's HorizontalFlip and ShiftScaleRotate, on a float (3, H, W) image."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomApply(
                [v2.RandomAffine(degrees=20, translate=(0.05, 0.05), scale=(0.95, 1.05))], p=0.5
            ),
        ]
    )


@torch.no_grad()
def embed(
    model: SliceCnn, files: list[Path], batch_size: int, device: torch.device, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 6) probabilities and (N, D) float32 embeddings of ``files``, in their order."""
    model.eval()
    precision = Precision.for_device(device)
    loader = DataLoader(SliceDataset(files), batch_size=batch_size, num_workers=workers)
    probabilities = [np.zeros((0, len(SUBTYPES)), np.float32)]
    embeddings = [np.zeros((0, model.embedding_size), np.float32)]
    for images, _ in loader:
        with precision.autocast(device):
            logits, features = model(images.to(device, non_blocking=True))
        probabilities.append(torch.sigmoid(logits.float()).cpu().numpy())
        embeddings.append(features.float().cpu().numpy())
    return np.concatenate(probabilities), np.concatenate(embeddings)


@dataclass
class FoldResult:
    """One fold's kept CNN and what it says about the slices it held out."""

    model: SliceCnn
    rows: FoldRows
    probabilities: np.ndarray
    embeddings: np.ndarray
    best_loss: float
    epochs_run: int


class FoldTrainer:
    """A fresh CNN, Adam and the cosine schedule over the planned epochs of one fold."""

    def __init__(
        self,
        cfg: SequenceConfig,
        files: list[Path],
        labels: np.ndarray,
        device: torch.device,
        workers: int,
        init_seed: int,
    ) -> None:
        self.cfg = cfg
        self.device = device
        self.workers = workers
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            model = SliceCnn(
                cfg.model, pretrained=cfg.pretrained, pretrained_path=cfg.pretrained_path
            )
        self.model = on_device(model, device)
        self.precision = Precision.for_device(device)
        self.scaler = self.precision.scaler(device)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.train_set = SliceDataset(files, labels, train_transform() if cfg.augment else None)
        self.steps_per_epoch = max(1, len(self.train_set) // cfg.batch_size)
        self.step = 0

    def lr(self, planned_epochs: int) -> float:
        return warmup_cosine(self.cfg.lr, self.step, self.steps_per_epoch * planned_epochs)

    def train_epoch(self, planned_epochs: int, deadline: float) -> float:
        """One pass in random order (torch's global generator), cut short at ``deadline``;
        the mean training loss."""
        loader = training_batches(self.train_set, self.cfg.batch_size, self.workers)
        self.model.train()
        total, seen = 0.0, 0
        for images, targets in loader:
            if time.monotonic() > deadline:
                log.warning("fold time share used up: epoch cut after %d slices", seen)
                break
            if len(images) < 2:  # batch norm cannot train on one image
                continue
            for group in self.optimiser.param_groups:
                group["lr"] = self.lr(planned_epochs)
            images = images.to(self.device, non_blocking=True)
            if self.device.type == "cuda":
                images = images.contiguous(memory_format=torch.channels_last)
            with self.precision.autocast(self.device):
                logits, _ = self.model(images)
            loss = weighted_bce(logits, targets.to(self.device))
            scaled_step(loss, self.optimiser, self.scaler)
            self.step += 1
            total += float(loss.detach()) * len(targets)
            seen += len(targets)
        return total / max(seen, 1)


@dataclass
class FoldData:
    """What stage 1 trains and embeds: the cached file and labels of every training row."""

    files: list[Path | None]
    labels: np.ndarray
    device: torch.device
    workers: int
    init_seed: int
    """Every fold's CNN starts from the same weights (ImageNet's, or this seed's random ones),
    so that the folds' embedding spaces stay alike: stage 2 reads embeddings of different
    fold CNNs side by side."""

    @property
    def files_ok(self) -> np.ndarray:
        """Rows whose slice could be read."""
        return np.array([f is not None for f in self.files], dtype=bool)


def train_fold(
    cfg: SequenceConfig, rows: FoldRows, data: FoldData, seconds: float, report: Reporter
) -> FoldResult:
    """The fold's CNN at its best epoch and its held-out slices' probabilities and embeddings.

    At least one epoch runs; it is cut short when ``seconds`` run out within it."""
    fit_files = _files(data.files, rows.fit)
    held_out_files = _files(data.files, rows.held_out)
    held_out_labels = data.labels[rows.held_out]
    trainer = FoldTrainer(
        cfg, fit_files, data.labels[rows.fit], data.device, data.workers, data.init_seed
    )
    plan = epoch_plan(cfg.epochs, seconds)
    best: tuple[float, dict[str, torch.Tensor], np.ndarray, np.ndarray] | None = None
    while plan.another():
        started = time.monotonic()
        train_loss = trainer.train_epoch(plan.planned, plan.deadline)
        probabilities, embeddings = embed(
            trainer.model, held_out_files, cfg.batch_size * 2, data.device, data.workers
        )
        val_loss = metric_loss(held_out_labels, probabilities)
        epoch_s = time.monotonic() - started
        plan.record(epoch_s)
        report(
            {
                "cnn_fold": rows.fold,
                "cnn_train_loss": train_loss,
                "cnn_val_loss": val_loss,
                "cnn_lr": trainer.lr(plan.planned),
                "cnn_epoch_s": epoch_s,
            },
            plan.done - 1,
        )
        log.info(
            "CNN fold %d epoch %d: train %.4f, validation weighted log loss %.4f (%.1f s)",
            rows.fold,
            plan.done - 1,
            train_loss,
            val_loss,
            epoch_s,
        )
        if best is None or val_loss < best[0]:
            best = (val_loss, state_snapshot(trainer.model), probabilities, embeddings)
    assert best is not None  # the epoch plan runs at least one epoch
    return FoldResult(
        model=with_state(trainer.model, best[1]),
        rows=rows,
        probabilities=best[2],
        embeddings=best[3],
        best_loss=best[0],
        epochs_run=plan.done,
    )


def _files(files: list[Path | None], rows: np.ndarray) -> list[Path]:
    chosen = [files[i] for i in rows]
    if any(f is None for f in chosen):
        raise ValueError("stage 1 was given an unreadable slice to train on or embed")
    return [f for f in chosen if f is not None]


@dataclass
class OutOfFold:
    """Every training row's out-of-fold CNN output; ``source_fold`` -1 where none (an unreadable
    slice)."""

    embeddings: np.ndarray
    probabilities: np.ndarray
    source_fold: np.ndarray
    fit_rows: dict[int, np.ndarray] = field(default_factory=dict)
    """The rows each fold's CNN trained on."""

    @property
    def embedded(self) -> np.ndarray:
        return self.source_fold >= 0


def out_of_fold(results: list[FoldResult], n_rows: int) -> OutOfFold:
    """The held-out outputs of each fold placed at their rows."""
    if not results:
        raise ValueError("out_of_fold needs at least one fold's result")
    size = results[0].embeddings.shape[1]
    oof = OutOfFold(
        embeddings=np.zeros((n_rows, size), np.float32),
        probabilities=np.zeros((n_rows, len(SUBTYPES)), np.float64),
        source_fold=np.full(n_rows, -1, np.int64),
    )
    for result in results:
        rows = result.rows
        if (oof.source_fold[rows.held_out] >= 0).any():
            raise ValueError(f"fold {rows.fold} holds out rows another fold already embedded")
        oof.embeddings[rows.held_out] = result.embeddings
        oof.probabilities[rows.held_out] = result.probabilities
        oof.source_fold[rows.held_out] = rows.fold
        oof.fit_rows[rows.fold] = rows.fit
    return oof
