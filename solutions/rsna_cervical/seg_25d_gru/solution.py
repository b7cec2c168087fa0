"""seg-2.5d-gru: the 2nd-place solution of RSNA 2022 Cervical Spine Fracture Detection.

fit: (1) a 2.5D U-Net learns C1..C7 from the studies that have a segmentation; (2) it labels
every training study, each vertebra gets a box (where the U-Net misses one, the vertebra's usual
place in the training segmentations) and ``n_sample`` evenly spaced slices, the boxes are
written to ``boxes-train.csv`` in the run folder; (3) a CNN + BiGRU + attention learns each
vertebra's fracture from its crops, with the competition's weighted loss per study.
predict: the same stages 1-2 on the test studies, then the vertebra probabilities; the
patient_overall probability is 1 - prod(1 - p) or its own head's (``overall``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from harness.api import DataView, HarnessError, RunContext, Solution
from solutions.rsna_cervical.seg_25d_gru import segmenter
from solutions.rsna_cervical.seg_25d_gru.config import PRESETS, Seg25dGruConfig
from solutions.rsna_cervical.seg_25d_gru.crops import (
    boxes_table,
    crop_study,
    fill_missing_boxes,
    level_prior,
    vertebra_boxes,
)
from solutions.rsna_cervical.seg_25d_gru.model import VertebraGru
from solutions.rsna_cervical.seg_25d_gru.training import (
    StudyBoxes,
    StudyCrops,
    predict_stage2,
    train_stage2,
)
from solutions.rsna_cervical.seg_25d_gru.volumes import read_classes, read_study, resize_slices
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.submission import row_ids

_PREDICT_RESERVE = 0.1
"""Share of the fit budget left unused as a safety margin."""


class Seg25dGruSolution(Solution[Seg25dGruConfig]):
    name = "seg-2.5d-gru"
    version = "1.0"
    tasks = ("rsna-cervical",)
    presets = PRESETS

    def __init__(self, config: Seg25dGruConfig) -> None:
        super().__init__(config)
        if config.overall not in ("noisy_or", "head"):
            raise HarnessError(
                f"solution.overall must be 'noisy_or' or 'head', got {config.overall!r}"
            )
        self.unet: torch.nn.Module | None = None
        self.model: VertebraGru | None = None
        self.prior: np.ndarray | None = None

    def fit(self, train: DataView, ctx: RunContext) -> None:
        cfg = self.config
        device = torch.device(ctx.device)
        generator = torch.Generator().manual_seed(ctx.seed)
        frame = train.frame
        started = time.monotonic()
        usable = ctx.budget.remaining() * (1 - _PREDICT_RESERVE)

        segmented = frame.loc[frame["segmentation"].notna()]
        if segmented.empty:
            raise HarnessError("no training study has a segmentation: stage 1 cannot be trained")
        volumes = [resize_slices(read_study(d)[0], cfg.seg_size) for d in segmented["study_dir"]]
        classes = [read_classes(p, cfg.seg_size) for p in segmented["segmentation"]]
        self.prior = level_prior(classes)
        self.unet = segmenter.build_unet(
            cfg.seg_encoder, depth=cfg.seg_depth, pretrained=cfg.seg_pretrained
        )
        seg_steps = segmenter.train_unet(
            self.unet,
            volumes,
            classes,
            epochs=cfg.seg_epochs,
            batch_size=cfg.seg_batch_size,
            lr=cfg.seg_lr,
            seconds=cfg.seg_time_fraction * usable,
            device=device,
            generator=generator,
            log=lambda e, loss, s: self._log(ctx, "seg", e, loss, s),
        )
        ctx.record_fact("seg_steps_run", seg_steps)
        del volumes, classes

        data = self._stage1(frame, ctx, "train")
        labels = frame.loc[:, list(TARGETS)].to_numpy(dtype=np.float32)
        self.model = self._new_model()
        steps = train_stage2(
            self.model,
            data,
            labels,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            seconds=usable - (time.monotonic() - started),
            num_workers=cfg.num_workers,
            device=device,
            generator=generator,
            log=lambda e, loss, s: self._log(ctx, "gru", e, loss, s),
        )
        ctx.record_fact("steps_run", steps)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if self.model is None:
            raise RuntimeError("predict called before fit")
        data = self._stage1(test.frame, ctx, "test")
        probabilities = predict_stage2(
            self.model,
            data,
            batch_size=self.config.batch_size,
            num_workers=self.config.num_workers,
            device=torch.device(ctx.device),
        )
        return pd.DataFrame(
            {
                "row_id": row_ids(test.frame["StudyInstanceUID"]),
                "fractured": probabilities.reshape(-1),
            }
        )

    def _stage1(self, frame: pd.DataFrame, ctx: RunContext, split: str) -> StudyCrops:
        """Segment every study, keep its boxes (``boxes-<split>.csv``), return its crops."""
        assert self.unet is not None and self.prior is not None
        cfg = self.config
        device = torch.device(ctx.device)
        crops, studies, tables = [], [], []
        missing = 0
        for uid, study_dir in zip(frame["StudyInstanceUID"], frame["study_dir"], strict=True):
            volume, paths = read_study(study_dir)
            classes = segmenter.segment(
                self.unet,
                resize_slices(volume, cfg.seg_size),
                batch_size=4 * cfg.seg_batch_size,
                device=device,
            )
            boxes = vertebra_boxes(classes, volume.shape[1:], cfg.crop_margin)
            missing += sum(not box.found for box in boxes)
            boxes = fill_missing_boxes(boxes, self.prior, len(volume), volume.shape[1:])
            tables.append(boxes_table(str(uid), boxes, paths, cfg.n_sample))
            if cfg.crops_in_memory:
                crops.append(
                    crop_study(volume.__getitem__, len(volume), boxes, cfg.n_sample, cfg.crop_size)
                )
            else:
                studies.append(StudyBoxes(paths, boxes))
        pd.concat(tables).to_csv(ctx.run_dir / f"boxes-{split}.csv", index=False)
        ctx.record_fact(f"vertebrae_not_found_{split}", missing)
        if cfg.crops_in_memory:
            return StudyCrops(np.stack(crops))
        return StudyCrops(studies=studies, n_sample=cfg.n_sample, size=cfg.crop_size)

    def _new_model(self) -> VertebraGru:
        cfg = self.config
        return VertebraGru(
            cfg.backbone,
            pretrained=cfg.pretrained,
            pretrained_path=cfg.pretrained_path,
            hidden=cfg.gru_hidden,
            spatial_dropout=cfg.spatial_dropout,
            overall_head=cfg.overall == "head",
        )

    @staticmethod
    def _log(ctx: RunContext, stage: str, epoch: int, loss: float, seconds: float) -> None:
        ctx.report({f"{stage}_loss": loss, f"{stage}_epoch_s": seconds}, step=epoch)
        ctx.log.info("%s epoch %d: loss %.4f (%.1f s)", stage, epoch, loss, seconds)
