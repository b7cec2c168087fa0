"""The Severstal ensemble of the write-up's team as a plug-in: classification gate + two U-Nets.

fit: a validation split stratified on each image's set of defect classes; a classifier (does
the image contain class k?) and two U-Nets with different encoders trained on the rest, each
within its share of the fit budget; then, per class, the gate threshold, the pixel threshold
and the minimum component area tuned on the validation images.
predict: hflip TTA, U-Net probabilities averaged and resized to each image's size, the gate,
the threshold and the area filter per class, four absolute-RLE rows per image; an unreadable
image is predicted defect-free. Its wall time is recorded against the competition's 1-hour
kernel limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import cv2
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from harness.api import DataView, HarnessError, RunContext, Solution
from harness.kit.segmentation.rle import encode_absolute
from solutions.severstal_steel.unet_cls_ensemble.config import PRESETS, UnetClsEnsembleConfig
from solutions.severstal_steel.unet_cls_ensemble.images import (
    LoadedImages,
    input_size,
    load_images,
    load_masks,
    unpack,
)
from solutions.severstal_steel.unet_cls_ensemble.inference import ensemble_probabilities
from solutions.severstal_steel.unet_cls_ensemble.models import create_classifier, create_segmenter
from solutions.severstal_steel.unet_cls_ensemble.postprocess import ClassRule, to_mask, tune_class
from solutions.severstal_steel.unet_cls_ensemble.training import (
    Kind,
    SteelSamples,
    train_network,
)
from tasks.severstal_steel.layout import CLASS_IDS
from tasks.severstal_steel.submission import ID_COLUMN, pair_id


class UnetClsEnsembleSolution(Solution[UnetClsEnsembleConfig]):
    name = "unet-cls-ensemble"
    version = "1.0"
    tasks = ("severstal-steel",)
    presets = PRESETS

    def __init__(self, config: UnetClsEnsembleConfig) -> None:
        super().__init__(config)
        self.classifier: nn.Module | None = None
        self.segmenters: list[nn.Module] = []
        per_class: dict[str, Sequence[float]] = {
            "gate_thresholds": config.gate_thresholds,
            "pixel_thresholds": config.pixel_thresholds,
            "min_areas": config.min_areas,
        }
        for option, values in per_class.items():
            if len(values) != len(CLASS_IDS):
                raise HarnessError(
                    f"solution.{option} needs one value per class ({len(CLASS_IDS)}), got {values}"
                )
        if not config.encoders:
            raise HarnessError("solution.encoders names no encoder: give one or more smp encoders")
        self.rules = [
            ClassRule(g, p, a)
            for g, p, a in zip(
                config.gate_thresholds, config.pixel_thresholds, config.min_areas, strict=True
            )
        ]
        self.size: tuple[int, int] | None = None
        self._train_images: LoadedImages | None = None

    def _input_size(self, frame: pd.DataFrame) -> tuple[int, int]:
        return input_size(frame, self.config.scale, stride=2 ** len(self.config.decoder_channels))

    def _images(self, view: DataView, ctx: RunContext, size: tuple[int, int]) -> LoadedImages:
        loaded = load_images(view.frame, size)
        if loaded.unreadable:
            ctx.record_fact(
                f"unreadable_{'train' if view.has_labels else 'test'}_images",
                len(loaded.unreadable),
            )
        return loaded

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self.size = self._input_size(train.frame)
        self._train_images = self._images(train, ctx, self.size)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        frame = train.frame.reset_index(drop=True)
        self.size = self.size or self._input_size(frame)
        loaded = self._train_images or self._images(train, ctx, self.size)
        self._train_images = None  # released: Solution.save keeps no training images
        masks = load_masks(frame, self.size)
        fit_rows, val_rows = _validation_split(frame, cfg.val_fraction, ctx.seed)
        fit_rows, val_rows = fit_rows[loaded.ok[fit_rows]], val_rows[loaded.ok[val_rows]]
        ctx.record_fact("input_size", list(self.size))
        ctx.record_fact("validation_images", len(val_rows))

        crop = cfg.crop_width if cfg.crop_width and cfg.crop_width < self.size[1] else None
        seconds = ctx.budget.remaining() * cfg.budget_fraction
        shares = [cfg.classifier_share] + [(1 - cfg.classifier_share) / len(cfg.encoders)] * len(
            cfg.encoders
        )
        jobs: list[tuple[str, Kind, int]] = [("classifier", "classifier", cfg.cls_epochs)]
        jobs += [(encoder, "segmenter", cfg.seg_epochs) for encoder in cfg.encoders]
        started = time.monotonic()
        for k, ((label, kind, epochs), share) in enumerate(zip(jobs, shares, strict=True)):
            torch.manual_seed(ctx.seed * 100 + k)
            network = (
                create_classifier(cfg) if kind == "classifier" else create_segmenter(label, cfg)
            )
            samples = SteelSamples(
                loaded.images[fit_rows],
                masks[fit_rows],
                seed=ctx.seed * 100 + k,
                augment=True,
                crop_width=crop,
            )
            left = seconds - (time.monotonic() - started)
            epochs_run = train_network(
                network,
                kind,
                samples,
                ctx,
                epochs=epochs,
                seconds=left * share / sum(shares[k:]),
                lr=cfg.lr,
                weight_decay=cfg.weight_decay,
                batch_size=cfg.batch_size,
                seed=ctx.seed * 100 + k,
                name=label,
            )
            ctx.record_fact(f"{label}.epochs_run", epochs_run)
            if kind == "classifier":
                self.classifier = network
            else:
                self.segmenters.append(network)

        if cfg.tune and len(val_rows):
            self._tune(loaded.images[val_rows], masks[val_rows], frame.iloc[val_rows], ctx)
        for k, rule in zip(CLASS_IDS, self.rules, strict=True):
            ctx.record_fact(f"class{k}.gate_threshold", rule.gate_threshold)
            ctx.record_fact(f"class{k}.pixel_threshold", rule.pixel_threshold)
            ctx.record_fact(f"class{k}.min_area", rule.min_area)

    def _tune(
        self, images: np.ndarray, packed: np.ndarray, frame: pd.DataFrame, ctx: RunContext
    ) -> None:
        gates, maps = self._probabilities(images, ctx)
        truths = unpack(packed)
        image_pixels = int(frame["height"].median() * frame["width"].median())
        scores = []
        for index, k in enumerate(CLASS_IDS):
            rule, score = tune_class(
                gates[:, index], maps[:, index], truths[:, index], image_pixels
            )
            self.rules[index] = rule
            scores.append(score)
            ctx.record_fact(f"class{k}.val_dice", round(score, 4))
        ctx.record_fact("val_dice", round(float(np.mean(scores)), 4))
        ctx.report({"val_dice": float(np.mean(scores))})

    def _probabilities(self, images: np.ndarray, ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
        if self.classifier is None or not self.segmenters:
            raise RuntimeError("predict called before fit")
        batches = list(
            ensemble_probabilities(
                self.classifier,
                self.segmenters,
                images,
                torch.device(ctx.device),
                hflip=self.config.tta_hflip,
                batch_size=self.config.batch_size,
            )
        )
        return np.concatenate([g for g, _ in batches]), np.concatenate([m for _, m in batches])

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        started = time.monotonic()
        if self.classifier is None or not self.segmenters or self.size is None:
            raise RuntimeError("predict called before fit")
        frame = test.frame.reset_index(drop=True)
        loaded = self._images(test, ctx, self.size)
        rles = np.full((len(frame), len(CLASS_IDS)), "", dtype=object)
        rows = np.flatnonzero(loaded.ok)
        batches = ensemble_probabilities(
            self.classifier,
            self.segmenters,
            loaded.images[rows],
            torch.device(ctx.device),
            hflip=self.config.tta_hflip,
            batch_size=self.config.batch_size,
        )
        heights, widths = frame["height"].to_numpy(int), frame["width"].to_numpy(int)
        outputs = ((g, m) for gates, maps in batches for g, m in zip(gates, maps, strict=True))
        for row, (gate, maps) in zip(rows, outputs, strict=True):
            size = (int(widths[row]), int(heights[row]))
            for index, rule in enumerate(self.rules):
                if gate[index] < rule.gate_threshold:
                    continue
                full = cv2.resize(maps[index], size, interpolation=cv2.INTER_LINEAR)
                rles[row, index] = encode_absolute(to_mask(gate[index], full, rule))
        ids = [pair_id(str(i), k) for i in frame["ImageId"] for k in CLASS_IDS]
        submission = pd.DataFrame({ID_COLUMN: ids, "EncodedPixels": rles.ravel()})
        elapsed = time.monotonic() - started
        ctx.record_fact("predict_s", round(elapsed, 2))
        ctx.record_fact("inference_limit_s", self.config.inference_limit_s)
        ctx.record_fact("predict_share_of_limit", round(elapsed / self.config.inference_limit_s, 4))
        ctx.record_fact("predict_within_limit", elapsed <= self.config.inference_limit_s)
        return submission


def _validation_split(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, validation), stratified on each image's set of defect classes.

    Class sets with a single image are pooled (stratification needs two of each); no
    validation when ``fraction`` is 0 or the validation share would be under one image.
    """
    everything = np.arange(len(frame))
    if fraction <= 0 or round(fraction * len(frame)) < 1:
        return everything, everything[:0]
    strata = frame["classes"].astype(str).to_numpy().copy()
    values, counts = np.unique(strata, return_counts=True)
    strata[np.isin(strata, values[counts < 2])] = "pooled"
    if (strata == "pooled").sum() == 1:
        strata[strata == "pooled"] = values[np.argmax(counts)]
    n_val = max(round(fraction * len(frame)), len(np.unique(strata)))
    if n_val >= len(frame):
        return everything, everything[:0]
    try:
        fit_rows, val_rows = train_test_split(
            everything, test_size=n_val, stratify=strata, random_state=seed
        )
    except ValueError:  # too few images per class set on one side: split without strata
        fit_rows, val_rows = train_test_split(everything, test_size=n_val, random_state=seed)
    return np.sort(fit_rows), np.sort(val_rows)
