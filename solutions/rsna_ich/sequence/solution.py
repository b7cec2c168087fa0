"""sequence: the 2nd-place RSNA ICH idea, CNN slice embeddings read in order by a bidirectional
LSTM (or GRU).

After the write-up (../shared/writeups/002_9d6818baa5fcda89.txt, "2nd place solution"):

- each slice as three windows (brain, subdural, soft tissue), cropped to the head with a
  minimum filter that wipes thin lines, cached once per file (slices.py);
- stage 1: patient-grouped folds; one CNN per fold (ResNeXt-101 32x8d with WSL weights on the
  GPU presets, tiny ones from scratch on CPU), trained on the other folds; its pooled
  (pre-logit) embeddings of its own fold's slices are their out-of-fold embeddings
  (stage1.py);
- stage 2: the embeddings of each series in slice order (with their differences to the
  neighbouring slices) into two stacked bidirectional LSTMs that predict all six labels per
  slice, one sequence model per fold, trained on the out-of-fold embeddings (stage2.py);
- predict: every fold CNN embeds the test slices; every sequence model reads every CNN's
  embeddings (or their mean, ``test_embeddings=mean``), and the probabilities are averaged.

Both stages train on the metric's weighted BCE. The fit budget is shared: stage 1 gets
``cnn_time_fraction`` of it (an equal share per fold), stage 2 what is left.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from harness.api import DataView, RunContext, Solution
from harness.kit.splits import grouped_folds
from solutions.rsna_ich.sequence.cnn import SliceCnn
from solutions.rsna_ich.sequence.config import PRESETS, SequenceConfig
from solutions.rsna_ich.sequence.folds import fold_rows
from solutions.rsna_ich.sequence.losses import metric_loss
from solutions.rsna_ich.sequence.sequence_model import SliceSequenceModel
from solutions.rsna_ich.sequence.sequences import series_sequences
from solutions.rsna_ich.sequence.slices import prepare_slices
from solutions.rsna_ich.sequence.stage1 import (
    FoldData,
    FoldResult,
    OutOfFold,
    Reporter,
    embed,
    out_of_fold,
    train_fold,
)
from solutions.rsna_ich.sequence.stage2 import features_of, predict_series, train_sequence_fold
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame

_SLACK = 0.9
"""Share of the time left that the last stage plans to use (the rest is slack for its last
validation and for writing the run's record)."""
_PRIOR_CLIP = 1e-4
"""The prior (for unreadable slices) stays this far from 0 and 1: a subtype absent from the
training split must not cost -log(1e-15) per holdout positive."""


class SequenceSolution(Solution[SequenceConfig]):
    name = "sequence"
    version = "1.0"
    tasks = ("rsna-ich",)
    presets = PRESETS

    def __init__(self, config: SequenceConfig) -> None:
        super().__init__(config)
        self.cnns: list[SliceCnn] = []
        self.sequence_models: list[SliceSequenceModel] = []
        self.prior = np.full(len(SUBTYPES), 0.5)
        self.unreadable = 0
        self._train_files: list[Path | None] | None = None

    def _files(self, view: DataView, ctx: RunContext) -> list[Path | None]:
        files = prepare_slices(
            view.frame["path"].tolist(),
            ctx.cache_dir,
            self.config.image_size,
            crop_head=self.config.crop_head,
        )
        self.unreadable += sum(f is None for f in files)
        ctx.record_fact("unreadable_images", self.unreadable)
        return files

    def _workers(self, ctx: RunContext) -> int:
        workers = self.config.num_workers
        return int(ctx.budget.cpu_workers) if workers < 0 else workers

    def _set_threads(self) -> None:
        if self.config.threads > 0:
            torch.set_num_threads(self.config.threads)

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self._train_files = self._files(train, ctx)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        self._set_threads()
        files = self._train_files or self._files(train, ctx)
        self._train_files = None
        frame = train.frame.reset_index(drop=True)
        labels = frame[list(SUBTYPES)].to_numpy(dtype=np.float32)
        data = FoldData(files, labels, torch.device(ctx.device), self._workers(ctx), ctx.seed)
        if not data.files_ok.any():
            raise RuntimeError("no training slice could be read: see the warnings in the log")
        self.prior = np.clip(labels[data.files_ok].mean(axis=0), _PRIOR_CLIP, 1 - _PRIOR_CLIP)
        oof = self._fit_cnns(frame, data, ctx)
        self.sequence_models = []
        sequence_oof = None
        if self.config.use_sequence:
            sequence_oof = self._fit_sequence(frame, labels, oof, ctx)
        self._record_losses(labels, oof, sequence_oof, ctx)

    def _fit_cnns(self, frame: pd.DataFrame, data: FoldData, ctx: RunContext) -> OutOfFold:
        """Stage 1: one CNN per fold, each with an equal share of stage 1's time left."""
        cfg = self.config
        folds = grouped_folds(
            frame, group="PatientID", label="any", n_folds=cfg.folds, seed=ctx.seed
        )
        share = cfg.cnn_time_fraction if cfg.use_sequence else _SLACK
        deadline = time.monotonic() + ctx.budget.remaining() * share
        results: list[FoldResult] = []
        for rows in fold_rows(folds, data.files_ok):
            torch.manual_seed(ctx.seed * 100 + rows.fold)
            seconds = (deadline - time.monotonic()) / (cfg.folds - rows.fold)
            offset = sum(r.epochs_run for r in results)
            results.append(train_fold(cfg, rows, data, seconds, _offset(ctx, offset)))
        self.cnns = [r.model for r in results]
        ctx.record_fact("folds", cfg.folds)
        ctx.record_fact("cnn_epochs", [r.epochs_run for r in results])
        ctx.record_fact("cnn_best_val_loss", [round(r.best_loss, 5) for r in results])
        ctx.record_fact("embedding_size", results[0].model.embedding_size)
        return out_of_fold(results, len(frame))

    def _record_losses(
        self,
        labels: np.ndarray,
        oof: OutOfFold,
        sequence_oof: np.ndarray | None,
        ctx: RunContext,
    ) -> None:
        """Out-of-fold weighted log loss of the prior, stage 1 and stage 2 on the same slices."""
        scored = oof.embedded if sequence_oof is None else ~np.isnan(sequence_oof).any(axis=1)
        losses = {
            "oof_prior_loss": metric_loss(labels[scored], np.tile(self.prior, (scored.sum(), 1))),
            "oof_cnn_loss": metric_loss(labels[scored], oof.probabilities[scored]),
        }
        if sequence_oof is not None:
            losses["oof_sequence_loss"] = metric_loss(labels[scored], sequence_oof[scored])
        for name, value in losses.items():
            ctx.record_fact(name, round(value, 5))
        ctx.log.info(
            "out-of-fold weighted log loss on %d slices: %s",
            int(scored.sum()),
            ", ".join(f"{k} {v:.4f}" for k, v in losses.items()),
        )

    def _fit_sequence(
        self, frame: pd.DataFrame, labels: np.ndarray, oof: OutOfFold, ctx: RunContext
    ) -> np.ndarray:
        """Trains the sequence models; their out-of-fold probabilities (NaN where none)."""
        cfg = self.config
        series = series_sequences(frame, np.flatnonzero(oof.embedded))
        features = features_of(series, oof.embeddings, deltas=cfg.deltas)
        series_labels = [labels[rows] for rows in series]
        series_fold = np.array([oof.source_fold[rows[0]] for rows in series], dtype=np.int64)
        deadline = time.monotonic() + ctx.budget.remaining() * _SLACK
        device = torch.device(ctx.device)
        probabilities = np.full(labels.shape, np.nan)
        epochs: list[int] = []
        best: list[float] = []
        for fold in range(cfg.folds):
            torch.manual_seed(ctx.seed * 100 + 50 + fold)
            seconds = (deadline - time.monotonic()) / (cfg.folds - fold)
            result = train_sequence_fold(
                cfg,
                fold,
                (features, series_labels, series_fold),
                device,
                seconds,
                _offset(ctx, sum(epochs)),
            )
            if result is None:
                ctx.log.warning("sequence fold %d has no series on one side: skipped", fold)
                continue
            self.sequence_models.append(result.model)
            for index, series_probabilities in zip(
                result.held_out, result.probabilities, strict=True
            ):
                probabilities[series[index]] = series_probabilities
            epochs.append(result.epochs_run)
            best.append(round(result.best_loss, 5))
        ctx.record_fact("sequence_series", len(series))
        ctx.record_fact("sequence_epochs", epochs)
        ctx.record_fact("sequence_best_val_loss", best)
        return probabilities

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.cnns:
            raise RuntimeError("predict called before fit")
        cfg = self.config
        self._set_threads()
        files = self._files(test, ctx)
        frame = test.frame.reset_index(drop=True)
        usable = np.flatnonzero([f is not None for f in files])
        usable_files = [f for f in files if f is not None]
        probabilities = np.tile(self.prior, (len(frame), 1))  # unreadable slices: the prior
        if not len(usable):
            return submission_frame(frame["image_id"], probabilities)
        device = torch.device(ctx.device)
        outputs = [
            embed(cnn, usable_files, cfg.batch_size * 2, device, self._workers(ctx))
            for cnn in self.cnns
        ]
        if not self.sequence_models:
            probabilities[usable] = np.mean([p for p, _ in outputs], axis=0)
            return submission_frame(frame["image_id"], probabilities)
        embedding_sets = [e for _, e in outputs]
        if cfg.test_embeddings == "mean":
            embedding_sets = [np.mean(embedding_sets, axis=0)]
        series = series_sequences(frame, usable)
        total = np.zeros((len(frame), len(SUBTYPES)))
        for embeddings in embedding_sets:
            per_row = np.zeros((len(frame), embeddings.shape[1]), np.float32)
            per_row[usable] = embeddings
            features = features_of(series, per_row, deltas=cfg.deltas)
            for model in self.sequence_models:
                predicted = predict_series(model, features, cfg.seq_batch_size, device)
                for rows, series_probabilities in zip(series, predicted, strict=True):
                    total[rows] += series_probabilities
        probabilities[usable] = total[usable] / (len(embedding_sets) * len(self.sequence_models))
        return submission_frame(frame["image_id"], probabilities)


def _offset(ctx: RunContext, offset: int) -> Reporter:
    """A reporter whose steps continue after ``offset`` epochs of earlier folds."""

    def report(metrics: dict[str, float], step: int) -> None:
        ctx.report(metrics, step=offset + step)

    return report
