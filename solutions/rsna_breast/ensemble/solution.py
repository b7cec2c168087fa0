"""The flagship rsna-breast solution, after the 94th-place write-up.

DALI-decoded DICOMs, OpenCV ROI crops, a ConvNeXtV2 and a SEResNeXt with GeM pooling trained
with 10% negative sampling, averaged, aggregated per breast and binarised at the threshold that
maximises validation pF1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold

from harness.api import DataView, RunContext, Solution
from harness.kit.imaging.dali_decode import DecodeStats
from solutions.rsna_breast.ensemble.config import PRESETS, EnsembleConfig
from solutions.rsna_breast.ensemble.preprocess import PreparedImages, prepare_images
from solutions.rsna_breast.ensemble.stream import predict_streamed
from solutions.rsna_breast.ensemble.threshold import best_threshold
from solutions.rsna_breast.ensemble.training import (
    MemberResult,
    breast_probabilities,
    predict_probabilities,
    train_member,
)


class EnsembleSolution(Solution[EnsembleConfig]):
    name = "ensemble"
    version = "1.0"
    tasks = ("rsna-breast",)
    presets = PRESETS

    def __init__(self, config: EnsembleConfig) -> None:
        super().__init__(config)
        self.members: list[MemberResult] = []
        self.threshold = 0.5
        self.fallback_probability = 0.0
        self._train_images: PreparedImages | None = None
        self._facts: dict[str, Any] = {
            "unreadable_images": 0,
            "decoded_by_dali": 0,
            "decode_fallbacks": 0,
        }

    def _decode_device(self, ctx: RunContext) -> str:
        device = self.config.decode_device
        if device == "auto":
            device = "mixed" if ctx.device == "cuda" else "cpu"
        return device

    def _decode_workers(self, ctx: RunContext) -> int:
        workers = self.config.decode_workers
        return ctx.budget.cpu_workers if workers < 0 else workers

    def _prepare(self, view: DataView, ctx: RunContext) -> PreparedImages:
        cfg = self.config
        prepared = prepare_images(
            view.frame,
            ctx.cache_dir,
            height=cfg.height,
            width=cfg.width,
            crop=cfg.crop,
            decode_device=self._decode_device(ctx),
            decode_batch_size=cfg.decode_batch_size,
            num_threads=ctx.budget.cpu_workers,
            fallback_workers=self._decode_workers(ctx),
        )
        self._record_decode(len(prepared.unreadable), prepared.decode, ctx)
        return prepared

    def _record_decode(self, unreadable: int, stats: DecodeStats, ctx: RunContext) -> None:
        self._facts["unreadable_images"] += unreadable
        self._facts["decoded_by_dali"] += stats.dali
        self._facts["decode_fallbacks"] += stats.fallback
        for name, value in self._facts.items():
            ctx.record_fact(name, value)

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self._train_images = self._prepare(train, ctx)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        prepared = self._train_images or self._prepare(train, ctx)
        self._train_images = None  # released: Solution.save keeps no training images
        files = pd.Series(prepared.files, index=train.frame.index, dtype=object)
        frame = train.frame.assign(file=files)[prepared.ok].reset_index(drop=True)
        labels = frame["cancer"].to_numpy(dtype=np.float32)
        self.fallback_probability = float(labels.mean()) if len(labels) else 0.0
        is_val = _validation_mask(frame, cfg.val_fraction, ctx.seed)
        fit_rows, val_rows = frame[~is_val], frame[is_val]
        ctx.log.info(
            "training on %d images, validating on %d (%d patients)",
            len(fit_rows),
            len(val_rows),
            val_rows["patient_id"].nunique(),
        )
        val_ids = val_rows["prediction_id"].to_numpy()
        val_labels = val_rows["cancer"].to_numpy(dtype=np.float32)
        self.members = []
        for index, name in enumerate(cfg.models):
            share = ctx.budget.remaining() / (len(cfg.models) - index)
            member = train_member(
                index,
                cfg,
                (list(fit_rows["file"]), fit_rows["cancer"].to_numpy()),
                (list(val_rows["file"]), val_labels, val_ids),
                ctx,
                seconds=share,
                report=lambda metrics, step: ctx.report(metrics, step),
            )
            self.members.append(member)
            ctx.record_fact(f"{name}.epochs_run", member.epochs_run)
            ctx.record_fact(f"{name}.best_val_pf1", member.best_val_pf1)
        ensemble_val = np.mean([m.val_probs for m in self.members], axis=0)
        truth = breast_probabilities(val_ids, val_labels, "max")
        scores = breast_probabilities(val_ids, ensemble_val, cfg.aggregate)
        self.threshold, val_f1 = best_threshold(truth.to_numpy(), scores.to_numpy())
        ctx.record_fact("threshold", self.threshold)
        ctx.record_fact("aggregate", cfg.aggregate)
        ctx.record_fact("val_pf1_binarised", val_f1)
        ctx.log.info("threshold %.4f gives validation pF1 %.4f", self.threshold, val_f1)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.members:
            raise RuntimeError("predict called before fit")
        if resolve_predict_path(self.config.predict_path, ctx.device) == "stream":
            probs = self._predict_streamed(test, ctx)
        else:
            probs = self._predict_cached(test, ctx)
        cfg = self.config
        per_breast = breast_probabilities(
            test.frame["prediction_id"].to_numpy(), probs, cfg.aggregate
        )
        # A breast whose every image was unreadable gets the training prevalence.
        per_breast = per_breast.fillna(self.fallback_probability)
        if cfg.binarize:
            per_breast = (per_breast >= self.threshold).astype(float)
        return per_breast.rename("cancer").reset_index()

    def _predict_cached(self, test: DataView, ctx: RunContext) -> np.ndarray:
        cfg = self.config
        prepared = self._prepare(test, ctx)
        files = [f for f in prepared.files if f is not None]
        device = torch.device(ctx.device)
        workers = ctx.budget.cpu_workers if cfg.num_workers < 0 else cfg.num_workers
        probs = np.full(len(test), np.nan)
        probs[prepared.ok] = np.mean(
            [predict_probabilities(m.model, files, cfg, device, workers) for m in self.members],
            axis=0,
        )
        return probs

    def _predict_streamed(self, test: DataView, ctx: RunContext) -> np.ndarray:
        streamed = predict_streamed(
            [m.model for m in self.members],
            test.frame,
            self.config,
            torch.device(ctx.device),
            decode_device=self._decode_device(ctx),
            fallback_workers=self._decode_workers(ctx),
            decode_threads=ctx.budget.cpu_workers,
        )
        self._record_decode(len(streamed.unreadable), streamed.decode, ctx)
        return streamed.probs


_PREDICT_PATHS = ("auto", "cache", "stream")


def resolve_predict_path(option: str, device: str) -> str:
    """'cache' or 'stream' for the ``predict_path`` option on ``device`` ('auto': stream on
    CUDA, where preprocessing stays on the GPU; the cache on CPU)."""
    if option not in _PREDICT_PATHS:
        raise ValueError(
            f"solution.predict_path must be one of {', '.join(_PREDICT_PATHS)}, got {option!r}"
        )
    if option == "auto":
        return "stream" if device == "cuda" else "cache"
    return option


def _validation_mask(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Rows of a patient-grouped, cancer-stratified validation fold of the training split."""
    n_splits = max(2, round(1 / fraction))
    patient_cancer = frame.groupby("patient_id")["cancer"].transform("max")
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, val_index = next(folds.split(frame, patient_cancer, groups=frame["patient_id"]))
    mask = np.zeros(len(frame), dtype=bool)
    mask[val_index] = True
    return mask
