"""effnet-meta: an EfficientNet scan embedding fused with the metadata, one model per CV fold.

The approach of the write-up's notebook series, on the harness's contracts:

- scans square-resized once and cached (images.py); metadata encoded by a scikit-learn
  pipeline fitted on each fold's training rows (features.py); both fused in FusionNet
  (model.py), optionally with the backbone frozen as the notebooks kept it;
- patient-disjoint folds with the cancer patients spread evenly (folds.py); BCE with the
  positive class weighted (the notebooks found a WeightedRandomSampler worse);
  ReduceLROnPlateau on the validation loss (patience 3, as the notebooks);
- validation pF1 each epoch over the whole validation fold, per breast: the notebooks'
  per-batch pF1 was 0 for every batch without a cancer, i.e. almost always. Each fold keeps
  its best epoch by that pF1 (ties: lower validation loss);
- predict: the fold models' probabilities averaged per image, then per breast (mean).

Epochs per fold are sized from the fit budget: each fold gets an equal share of what is left,
and stops when another epoch would not fit in its share.
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from torch import nn

from harness.api import DataView, RunContext, Solution
from harness.kit.imaging.cache import CachedImages
from harness.kit.imaging.view_images import ViewImages
from harness.kit.splits import grouped_folds
from harness.kit.training import TrainingPlan, scaled_step, state_snapshot
from solutions.rsna_breast.effnet_meta.features import fit_features, tabular_matrix
from solutions.rsna_breast.effnet_meta.images import load_images
from solutions.rsna_breast.effnet_meta.model import FusionNet, build_fusion_net
from tasks.rsna_breast.metric import pfbeta

_GRAY_MEAN, _GRAY_STD = 0.449, 0.226
"""ImageNet mean/std averaged over RGB: what timm's one-channel pretrained weights expect."""
_BUDGET_SHARE = 0.9
"""Fraction of the remaining fit time shared among the remaining folds (the rest is slack)."""
_EPOCH_SAFETY = 1.25
"""Another epoch starts only if 1.25x the slowest epoch so far fits in the fold's share (the
slowest, not the last: on shared cores an epoch's time can jump several-fold)."""


@dataclass
class EffnetMetaConfig:
    model: str = "efficientnet_b0"
    """timm backbone; its classifier is removed and its pooled embedding feeds the fusion head."""
    pretrained: bool = False
    pretrained_path: str | None = None
    """Local checkpoint of ``model`` for machines without access to the model hub."""
    freeze_backbone: bool = False
    """Train only the metadata MLP and the head, as the notebooks did (needs pretrained)."""
    image_size: int = 96
    """Scans are resized to image_size x image_size (the notebooks: 512)."""
    folds: int = 3
    epochs: int = 10
    """Most epochs per fold; fewer when the fit budget would not hold another one."""
    batch_size: int = 32
    lr: float = 3e-3
    """AdamW learning rate; from scratch on the CPU presets, 3e-4 to fine-tune on the GPU ones."""
    weight_decay: float = 1e-4
    pos_weight: float | None = None
    """BCE weight of the positive class; None = negatives/positives of the fold's training rows."""
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    tabular_dim: int = 32
    hidden_dim: int = 128
    dropout: float = 0.2
    amp: bool = False
    """float16 autocast with gradient scaling on CUDA (P100 and T4 have no bfloat16 units)."""


_GPU: dict[str, Any] = {
    "model": "efficientnet_b3",
    "pretrained": True,
    "image_size": 512,
    "folds": 5,
    "epochs": 13,
    "batch_size": 16,
    "lr": 3e-4,
    "amp": True,
}


@dataclass
class _FoldModel:
    features: ColumnTransformer
    net: FusionNet


@dataclass
class _BestEpoch:
    epoch: int
    pf1: float
    loss: float
    state: dict[str, torch.Tensor]
    probabilities: np.ndarray
    """Validation probabilities of this epoch, for the out-of-fold score."""

    def beaten_by(self, pf1: float, loss: float) -> bool:
        return pf1 > self.pf1 or (pf1 == self.pf1 and loss < self.loss)


class _FoldTrainer:
    """One fold's feature pipeline, network, optimiser and schedule over in-memory images."""

    def __init__(
        self,
        cfg: EffnetMetaConfig,
        frame: pd.DataFrame,
        images: np.ndarray,
        labels: np.ndarray,
        train_rows: np.ndarray,
        valid_rows: np.ndarray,
        device: torch.device,
    ) -> None:
        self.cfg = cfg
        self.images = images
        self.labels = labels
        self.train_rows = train_rows
        self.valid_rows = valid_rows
        self.amp = cfg.amp and device.type == "cuda"
        self.features = fit_features(frame.iloc[train_rows])
        self.tabular = tabular_matrix(self.features, frame)
        self.net = build_fusion_net(
            cfg.model,
            self.tabular.shape[1],
            pretrained=cfg.pretrained,
            pretrained_path=cfg.pretrained_path,
            in_chans=1,
            tabular_dim=cfg.tabular_dim,
            hidden_dim=cfg.hidden_dim,
            dropout=cfg.dropout,
            freeze_backbone=cfg.freeze_backbone,
        ).to(device)
        self.optimiser = torch.optim.AdamW(
            [p for p in self.net.parameters() if p.requires_grad],
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
        )
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimiser, mode="min", patience=cfg.plateau_patience, factor=cfg.plateau_factor
        )
        pos_weight = cfg.pos_weight
        if pos_weight is None:
            positives = float(labels[train_rows].sum())
            pos_weight = (len(train_rows) - positives) / max(positives, 1.0)
        self.loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, device=device))
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp)
        self.device = device

    @property
    def lr(self) -> float:
        return float(self.optimiser.param_groups[0]["lr"])

    def train_epoch(self, generator: torch.Generator) -> float:
        """One pass over the training rows in random order; the mean training loss."""
        self.net.train()
        order = self.train_rows[torch.randperm(len(self.train_rows), generator=generator).numpy()]
        total, seen = 0.0, 0
        for start in range(0, len(order), self.cfg.batch_size):
            idx = order[start : start + self.cfg.batch_size]
            if len(idx) < 2:  # batch norm cannot train on a single image
                continue
            batch = _normalise(_augment(_unit_images(self.images[idx], self.device), generator))
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                logits = self.net(batch, torch.from_numpy(self.tabular[idx]).to(self.device))
            targets = torch.from_numpy(self.labels[idx]).to(self.device)
            loss = self.loss_fn(logits.float(), targets)
            scaled_step(loss, self.optimiser, self.scaler)
            total += loss.item() * len(idx)
            seen += len(idx)
        return total / max(seen, 1)

    def validate(self) -> tuple[float, np.ndarray]:
        """(weighted BCE, image probabilities) on the validation rows; steps the LR schedule."""
        logits = _logits(
            self.net, self.images, self.tabular, self.valid_rows, self.cfg.batch_size, self.amp
        )
        targets = torch.from_numpy(self.labels[self.valid_rows])
        loss = float(self.loss_fn(logits.to(self.device), targets.to(self.device)))
        self.plateau.step(loss)
        return loss, torch.sigmoid(logits).numpy().astype(np.float64)

    def restore(self, state: dict[str, torch.Tensor]) -> _FoldModel:
        self.net.load_state_dict(state)
        self.net.eval()
        return _FoldModel(self.features, self.net)


class EffnetMetaSolution(Solution[EffnetMetaConfig]):
    name = "effnet-meta"
    version = "1.0"
    tasks = ("rsna-breast",)
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        # timm's smallest EfficientNet: efficientnet_b0's many small ops run ~10x slower when
        # the 2 cores are shared, which left too few epochs for a from-scratch model to learn.
        "contract": {"model": "test_efficientnet", "image_size": 32, "folds": 2, "epochs": 1},
        "smoke": {"model": "test_efficientnet", "image_size": 96, "folds": 2, "epochs": 20},
        "cpu-default": {"image_size": 96, "folds": 3, "epochs": 12},
        "kaggle-p100": _GPU,
        "kaggle-t4": _GPU,
        "gpu-full": {**_GPU, "batch_size": 32, "epochs": 20},
    }

    def __init__(self, config: EffnetMetaConfig) -> None:
        super().__init__(config)
        self.fold_models: list[_FoldModel] = []
        self.fallback_probability = 0.0
        self.images = ViewImages(functools.partial(_view_images, size=config.image_size))

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self.images.prepare(train, ctx)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        images, ok, _ = self.images.for_fit(train, ctx)
        frame = train.frame.reset_index(drop=True)
        labels = frame["cancer"].to_numpy(dtype=np.float32)
        breasts = frame["prediction_id"].to_numpy()
        # Cancer patients spread evenly over the folds, as the write-up's notebooks did: with
        # ~2% positives a plain patient split can leave a fold without cancer (pF1 always 0).
        folds = grouped_folds(
            frame, group="patient_id", label="cancer", n_folds=cfg.folds, seed=ctx.seed
        )
        self.fallback_probability = float(labels[ok].mean()) if ok.any() else 0.0
        generator = torch.Generator().manual_seed(ctx.seed)
        out_of_fold = np.full(len(frame), np.nan)
        epochs_run: list[int] = []
        best_epochs: list[int] = []
        best_pf1s: list[float] = []
        slowest_epoch_s = 0.0
        if cfg.freeze_backbone and not (cfg.pretrained or cfg.pretrained_path):
            ctx.log.warning(
                "freeze_backbone without pretrained weights: only the head learns, on the "
                "features of a random backbone"
            )

        for fold in range(cfg.folds):
            fold_budget = ctx.budget.remaining() * _BUDGET_SHARE / (cfg.folds - fold)
            plan = TrainingPlan(
                cfg.epochs, fold_budget, margin=_EPOCH_SAFETY, slowest_s=slowest_epoch_s
            )
            valid = np.flatnonzero((folds == fold) & ok)
            trainer = _FoldTrainer(
                cfg,
                frame,
                images,
                labels,
                np.flatnonzero((folds != fold) & ok),
                valid,
                torch.device(ctx.device),
            )
            if not labels[valid].any():
                ctx.log.warning("fold %d has no cancer to validate on: its pF1 is always 0", fold)
            best: _BestEpoch | None = None
            while plan.another():
                epoch = plan.done
                started = time.monotonic()
                train_loss = trainer.train_epoch(generator)
                val_loss, probabilities = trainer.validate()
                val_pf1 = _breast_pf1(breasts[valid], labels[valid], probabilities)
                epoch_s = time.monotonic() - started
                plan.record(epoch_s)
                metrics = {
                    "fold": fold,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "val_pf1": val_pf1,
                    "lr": trainer.lr,
                    "epoch_s": epoch_s,
                }
                ctx.report(metrics, step=sum(epochs_run) + epoch)
                ctx.log.info(
                    "fold %d epoch %d: train loss %.4f, val loss %.4f, val pF1 %.4f (%.1f s)",
                    fold,
                    epoch,
                    train_loss,
                    val_loss,
                    val_pf1,
                    epoch_s,
                )
                if best is None or best.beaten_by(val_pf1, val_loss):
                    best = _BestEpoch(
                        epoch, val_pf1, val_loss, state_snapshot(trainer.net), probabilities
                    )
            if plan.done < cfg.epochs:
                ctx.log.info(
                    "fold %d: stopping after %d epochs, its %.0f s share of the fit budget "
                    "would not hold another",
                    fold,
                    plan.done,
                    fold_budget,
                )
            slowest_epoch_s = plan.slowest
            epochs_run.append(plan.done)
            if best is None:
                ctx.log.warning("fold %d: no time left for a single epoch; fold skipped", fold)
                continue
            self.fold_models.append(trainer.restore(best.state))
            out_of_fold[valid] = best.probabilities
            best_epochs.append(best.epoch)
            best_pf1s.append(round(best.pf1, 4))

        scored = ~np.isnan(out_of_fold)
        oof_pf1 = _breast_pf1(breasts[scored], labels[scored], out_of_fold[scored])
        ctx.log.info("out-of-fold pF1 of the best epochs: %.4f", oof_pf1)
        ctx.record_fact("folds", cfg.folds)
        ctx.record_fact("epochs_run", epochs_run)
        ctx.record_fact("best_epoch", best_epochs)
        ctx.record_fact("best_val_pf1", best_pf1s)
        ctx.record_fact("oof_pf1", oof_pf1)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.fold_models:
            raise RuntimeError("predict called before fit")
        cfg = self.config
        images, ok, _ = self.images.load(test, ctx)
        amp = cfg.amp and ctx.device == "cuda"
        rows = np.flatnonzero(ok)
        probabilities = np.full(len(test), np.nan, dtype=np.float64)
        if len(rows):
            per_fold = [
                torch.sigmoid(
                    _logits(
                        fold.net,
                        images,
                        tabular_matrix(fold.features, test.frame),
                        rows,
                        cfg.batch_size,
                        amp,
                    )
                ).numpy()
                for fold in self.fold_models
            ]
            probabilities[rows] = np.mean(per_fold, axis=0)
        per_image = pd.DataFrame(
            {"prediction_id": test.frame["prediction_id"].to_numpy(), "cancer": probabilities}
        )
        per_breast = per_image.groupby("prediction_id", sort=True)["cancer"].mean()
        # A breast whose every image was unreadable gets the training prevalence.
        return per_breast.fillna(self.fallback_probability).reset_index()


def _view_images(view: DataView, ctx: RunContext, size: int) -> CachedImages:
    """A module function, not a lambda: the solution's state pickles (Solution.save)."""
    return load_images(view.frame["path"].tolist(), ctx.cache_dir, size)


@torch.no_grad()
def _logits(
    net: FusionNet,
    images: np.ndarray,
    tabular: np.ndarray,
    rows: np.ndarray,
    batch_size: int,
    amp: bool,
) -> torch.Tensor:
    """float32 logits of ``rows``, in order, on the CPU."""
    device = next(net.parameters()).device
    net.eval()
    out = [torch.zeros(0)]
    for start in range(0, len(rows), batch_size):
        idx = rows[start : start + batch_size]
        batch = _normalise(_unit_images(images[idx], device))
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            logits = net(batch, torch.from_numpy(tabular[idx]).to(device))
        out.append(logits.float().cpu())
    return torch.cat(out)


def _breast_pf1(prediction_ids: np.ndarray, labels: np.ndarray, probabilities: np.ndarray) -> float:
    """pF1 per breast (image probabilities averaged, truth = any image with cancer), over the
    whole set at once. A set without any cancer scores 0 (the fold warning says why)."""
    per_image = pd.DataFrame({"breast": prediction_ids, "cancer": labels, "p": probabilities})
    breasts = per_image.groupby("breast").agg(cancer=("cancer", "max"), p=("p", "mean"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pfbeta(breasts["cancer"].to_numpy(dtype=np.int64), breasts["p"].to_numpy())


def _unit_images(batch: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [0, 1] on ``device``."""
    return torch.from_numpy(batch).to(device).unsqueeze(1).float().div_(255.0)


def _normalise(batch: torch.Tensor) -> torch.Tensor:
    return (batch - _GRAY_MEAN) / _GRAY_STD


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal and vertical flips, brightness/contrast jitter; on the batch's device,
    random numbers drawn from the seeded CPU generator."""
    n = batch.shape[0]
    draws = torch.rand(n, 4, generator=generator).to(batch.device)
    flip_h = (draws[:, 0] < 0.5)[:, None, None, None]
    flip_v = (draws[:, 1] < 0.5)[:, None, None, None]
    batch = torch.where(flip_h, batch.flip(3), batch)
    batch = torch.where(flip_v, batch.flip(2), batch)
    gain = (1 + 0.2 * (draws[:, 2] - 0.5))[:, None, None, None]
    shift = (0.1 * (draws[:, 3] - 0.5))[:, None, None, None]
    return (batch * gain + shift).clamp(0, 1)
