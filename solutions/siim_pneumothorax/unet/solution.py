"""The bronze-medal SIIM solution as a plug-in: U-Net/UNet++, progressive resolution, SWA, TTA.

fit: a patient-grouped validation split stratified on pneumothorax (the report's 85/15),
one network (or two, averaged) trained by ``training.train_model``, then the sigmoid
threshold and the minimum component area tuned on the validation images.
predict: hflip TTA, probabilities resized to each image's size, threshold, small components
removed, SIIM relative RLE; an unreadable image is predicted empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold

from harness.api import DataView, RunContext, Solution
from harness.kit.imaging.cache import CachedImages
from harness.kit.segmentation.rle import EMPTY_RELATIVE
from solutions.siim_pneumothorax.unet.config import PRESETS, UnetConfig
from solutions.siim_pneumothorax.unet.images import load_images, load_masks
from solutions.siim_pneumothorax.unet.inference import TrainedModel, probabilities, to_rle, tune
from solutions.siim_pneumothorax.unet.training import train_model

_STRIDE = 32
"""smp encoders downsample 5 times: sides must be multiples of 32."""


class UnetSolution(Solution[UnetConfig]):
    name = "unet"
    version = "1.0"
    tasks = ("siim-pneumothorax",)
    presets = PRESETS

    def __init__(self, config: UnetConfig) -> None:
        super().__init__(config)
        self.models: list[TrainedModel] = []
        self.threshold = config.threshold
        self.min_area = config.min_area
        self._train_images: CachedImages | None = None

    def _schedules(self, frame: pd.DataFrame) -> list[tuple[list[int], list[int]]]:
        """(resolutions, epochs) per model, stages above the images' size left out."""
        native = int(min(frame["height"].min(), frame["width"].min()))
        schedules = [self.config.resolutions]
        if self.config.second_model_resolutions:
            schedules.append(self.config.second_model_resolutions)
        planned = []
        for resolutions in schedules:
            epochs = list(self.config.epochs) + [self.config.epochs[-1]] * len(resolutions)
            pairs = zip(resolutions, epochs[: len(resolutions)], strict=True)
            kept = [(r, e) for r, e in pairs if r <= native]
            if not kept:
                kept = [(max(_STRIDE, native // _STRIDE * _STRIDE), epochs[0])]
            planned.append(([r for r, _ in kept], [e for _, e in kept]))
        return planned

    def _cache_size(self, frame: pd.DataFrame) -> int:
        return max(max(resolutions) for resolutions, _ in self._schedules(frame))

    def _images(self, view: DataView, ctx: RunContext, size: int) -> CachedImages:
        loaded = load_images(view.frame, ctx.cache_dir, size)
        if loaded.unreadable:
            ctx.record_fact("unreadable_images", len(loaded.unreadable))
        return loaded

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self._train_images = self._images(train, ctx, self._cache_size(train.frame))

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        frame = train.frame.reset_index(drop=True)
        size = self._cache_size(frame)
        loaded = self._train_images or self._images(train, ctx, size)
        self._train_images = None  # released: Solution.save keeps no training images
        masks = load_masks(frame, size)
        fit_rows, val_rows = _validation_split(frame, cfg.val_fraction, ctx.seed)
        fit_rows = fit_rows[loaded.ok[fit_rows]]
        val_rows = val_rows[loaded.ok[val_rows]]
        ctx.record_fact("validation_images", len(val_rows))

        schedules = self._schedules(frame)
        seconds = ctx.budget.remaining() * cfg.budget_fraction / len(schedules)
        epochs_run = []
        for k, (resolutions, epochs) in enumerate(schedules):
            network, epochs_done = train_model(
                cfg,
                loaded.images[fit_rows],
                masks[fit_rows],
                resolutions,
                epochs,
                ctx,
                seconds=seconds,
                seed=ctx.seed + k,
                name=f"model{k}",
            )
            self.models.append(TrainedModel(network, resolutions[-1]))
            epochs_run.append(epochs_done)
        ctx.record_fact("epochs_run", sum(epochs_run))
        ctx.record_fact("resolutions", [m.resolution for m in self.models])

        if len(val_rows) and cfg.tune_threshold:
            maps = np.concatenate(
                list(
                    probabilities(
                        self.models,
                        loaded.images[val_rows],
                        size,
                        torch.device(ctx.device),
                        hflip=cfg.tta_hflip,
                        batch_size=cfg.batch_size,
                    )
                )
            )
            pixels = int(frame["height"].iloc[0]) * int(frame["width"].iloc[0])
            self.threshold, self.min_area, val_dice = tune(maps, masks[val_rows], pixels)
            ctx.record_fact("val_dice", round(val_dice, 4))
            ctx.report({"val_dice": val_dice})
        ctx.record_fact("threshold", self.threshold)
        ctx.record_fact("min_area", self.min_area)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.models:
            raise RuntimeError("predict called before fit")
        frame = test.frame.reset_index(drop=True)
        size = max(model.resolution for model in self.models)
        loaded = self._images(test, ctx, size)
        rles = [EMPTY_RELATIVE] * len(frame)
        rows = np.flatnonzero(loaded.ok)
        batches = probabilities(
            self.models,
            loaded.images[rows],
            size,
            torch.device(ctx.device),
            hflip=self.config.tta_hflip,
            batch_size=self.config.batch_size,
        )
        heights, widths = frame["height"].to_numpy(int), frame["width"].to_numpy(int)
        maps = (probability for batch in batches for probability in batch)
        for row, probability in zip(rows, maps, strict=True):
            shape = (int(heights[row]), int(widths[row]))
            rles[row] = to_rle(probability, shape, self.threshold, self.min_area)
        return pd.DataFrame({"ImageId": frame["ImageId"].astype(str), "EncodedPixels": rles})


def _validation_split(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, validation): patients grouped, stratified on pneumothorax.

    No validation when ``fraction`` is 0 or there are too few patients for it.
    """
    everything = np.arange(len(frame))
    n_splits = round(1 / fraction) if fraction > 0 else 0
    labels = frame["has_pneumothorax"].to_numpy()
    if n_splits < 2 or frame["PatientID"].nunique() < n_splits or labels.sum() < n_splits:
        return everything, everything[:0]
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    fit_rows, val_rows = next(folds.split(everything, labels, frame["PatientID"].to_numpy()))
    return fit_rows, val_rows
