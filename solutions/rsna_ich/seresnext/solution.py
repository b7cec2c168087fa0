"""seresnext: the 48th-place RSNA ICH solution (SE-ResNeXt on three CT windows, 5 folds, TTA).

After the write-up (../shared/writeups/002_9d6818baa5fcda89.txt):

- each slice as three windows (brain, subdural, soft tissue) stacked as channels, cached once
  per file (images.py);
- patient-grouped folds, stratified on whether the patient bleeds; one SE-ResNeXt per fold
  (se_resnext50_32x4d with ImageNet weights on the GPU presets, smaller ones from scratch on
  CPU) trained with Adam on BCEWithLogits weighted like the metric, augmented with
  HorizontalFlip, RandomResizedCrop, RandomBrightnessContrast, Rotate and Cutout;
- each fold keeps its epoch with the lowest validation weighted log loss;
- predict: every fold model on five test-time views, all averaged.

Epochs per fold are sized from the fit budget: each fold gets an equal share of what is left,
and stops when another epoch would not fit in its share.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from harness.api import DataView, RunContext, Solution
from harness.kit.splits import grouped_folds
from harness.kit.training import state_snapshot, with_state
from solutions.rsna_ich.seresnext.augment import TTA_VIEWS
from solutions.rsna_ich.seresnext.config import PRESETS, SeresnextConfig
from solutions.rsna_ich.seresnext.images import PreparedSlices, prepare_slices
from solutions.rsna_ich.seresnext.training import (
    FoldTrainer,
    fold_plan,
    predict_probabilities,
    validation_loss,
)
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame

_BUDGET_SHARE = 0.9
"""Fraction of the remaining fit time shared among the remaining folds (the rest is slack)."""


class SeresnextSolution(Solution[SeresnextConfig]):
    name = "seresnext"
    version = "1.0"
    tasks = ("rsna-ich",)
    presets = PRESETS

    def __init__(self, config: SeresnextConfig) -> None:
        super().__init__(config)
        self.fold_models: list[torch.nn.Module] = []
        self.prior = np.full(len(SUBTYPES), 0.5)
        self.unreadable = 0
        self._train_slices: PreparedSlices | None = None

    def _slices(self, view: DataView, ctx: RunContext) -> PreparedSlices:
        prepared = prepare_slices(
            view.frame["path"].tolist(), ctx.cache_dir, self.config.image_size
        )
        self.unreadable += len(prepared.unreadable)
        ctx.record_fact("unreadable_images", self.unreadable)
        return prepared

    def _workers(self, ctx: RunContext) -> int:
        return (
            int(ctx.budget.cpu_workers) if self.config.num_workers < 0 else self.config.num_workers
        )

    def _set_threads(self) -> None:
        if self.config.threads > 0:
            torch.set_num_threads(self.config.threads)

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self._train_slices = self._slices(train, ctx)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        self._set_threads()
        prepared = self._train_slices or self._slices(train, ctx)
        self._train_slices = None
        ok = prepared.ok
        frame = train.frame.reset_index(drop=True)
        labels = frame[list(SUBTYPES)].to_numpy(dtype=np.float32)
        files = np.array(prepared.files, dtype=object)
        self.prior = labels[ok].mean(axis=0) if ok.any() else self.prior
        # Bleeding patients spread evenly; unstratified when too few of them (or too few
        # healthy patients) to put some in every fold.
        folds = grouped_folds(
            frame,
            group="PatientID",
            label="any",
            n_folds=cfg.folds,
            seed=ctx.seed,
            unstratified_when_sparse=True,
        )
        device = torch.device(ctx.device)
        out_of_fold = np.full(labels.shape, np.nan)
        epochs_run: list[int] = []
        best_losses: list[float] = []
        slowest_epoch_s = 0.0

        for fold in range(cfg.folds):
            torch.manual_seed(ctx.seed * 100 + fold)
            share = ctx.budget.remaining() * _BUDGET_SHARE / (cfg.folds - fold)
            plan = fold_plan(cfg.epochs, share, slowest_epoch_s)
            fit_rows = np.flatnonzero((folds != fold) & ok)
            val_rows = np.flatnonzero((folds == fold) & ok)
            trainer = FoldTrainer(
                cfg,
                (list(files[fit_rows]), labels[fit_rows]),
                (list(files[val_rows]), labels[val_rows]),
                device,
                self._workers(ctx),
            )
            best: tuple[float, dict[str, torch.Tensor], np.ndarray] | None = None
            while plan.another():
                epoch = plan.done
                started = time.monotonic()
                train_loss = trainer.train_epoch()
                val_loss, probabilities = trainer.validate()
                epoch_s = time.monotonic() - started
                plan.record(epoch_s)
                step = sum(epochs_run) + epoch
                ctx.report(
                    {
                        "fold": fold,
                        "train_loss": train_loss,
                        "val_loss": val_loss,
                        "lr": trainer.lr(),
                        "epoch_s": epoch_s,
                    },
                    step=step,
                )
                ctx.log.info(
                    "fold %d epoch %d: train %.4f, val weighted log loss %.4f (%.1f s)",
                    fold,
                    epoch,
                    train_loss,
                    val_loss,
                    epoch_s,
                )
                if best is None or val_loss < best[0]:
                    best = (val_loss, state_snapshot(trainer.model), probabilities)
            epochs_run.append(plan.done)
            slowest_epoch_s = plan.slowest
            if best is None:
                ctx.log.warning("fold %d: no time left for a single epoch; fold skipped", fold)
                continue
            self.fold_models.append(with_state(trainer.model, best[1]))
            out_of_fold[val_rows] = best[2]
            best_losses.append(round(best[0], 5))

        scored = ~np.isnan(out_of_fold).any(axis=1)
        ctx.record_fact("folds", cfg.folds)
        ctx.record_fact("epochs_run", epochs_run)
        ctx.record_fact("best_val_loss", best_losses)
        if scored.any():
            oof = validation_loss(labels[scored], out_of_fold[scored])
            prior_loss = validation_loss(labels[scored], np.tile(self.prior, (scored.sum(), 1)))
            ctx.log.info("out-of-fold loss %.4f (constant prior: %.4f)", oof, prior_loss)
            ctx.record_fact("oof_loss", round(oof, 5))
            ctx.record_fact("oof_prior_loss", round(prior_loss, 5))

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.fold_models:
            raise RuntimeError("predict called before fit")
        cfg = self.config
        self._set_threads()
        prepared = self._slices(test, ctx)
        ok = prepared.ok
        files = [f for f in prepared.files if f is not None]
        device = torch.device(ctx.device)
        views = max(1, min(cfg.tta, TTA_VIEWS))
        probabilities = np.tile(self.prior, (len(test), 1))  # unreadable slices: the prior
        if files:
            probabilities[ok] = np.mean(
                [
                    predict_probabilities(model, files, cfg, device, self._workers(ctx), views)
                    for model in self.fold_models
                ],
                axis=0,
            )
        return submission_frame(test.frame["image_id"], probabilities)
