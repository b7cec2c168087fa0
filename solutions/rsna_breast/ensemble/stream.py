"""Predict without the crop cache: DICOM -> model inputs -> both members, where DALI decoded.

``DicomDecoder.decode_on_device`` yields the pixels as tensors (on the GPU straight from DALI,
pydicom's fallbacks decoded meanwhile in a process pool), ``model_batch`` preprocesses them
there (harness.kit.imaging.device_preprocess) and each batch goes through every member before
the next one is decoded. No full-resolution array is written to disk or, on a GPU, copied to
host memory; only the small copy the ROI is searched on is. On a GPU the preprocessing runs on
a side CUDA stream, so that the ROI search's copy to the host waits for the preprocessing only,
not for the members' kernels queued on the main stream.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from harness.kit.amp import Precision
from harness.kit.imaging.dali_decode import DecodeStats, DeviceImage, DicomDecoder
from harness.kit.imaging.device_preprocess import model_batch
from solutions.rsna_breast.ensemble.config import EnsembleConfig

log = logging.getLogger(__name__)


@dataclass
class StreamedPredictions:
    probs: np.ndarray
    """Per row of the frame, the members' mean probability; NaN for an unreadable file."""
    unreadable: list[str] = field(default_factory=list)
    decode: DecodeStats = field(default_factory=DecodeStats)


def roi_rows(cfg: EnsembleConfig) -> int:
    """Rows of the copy the ROI is searched on: at least twice the model input's, so a box
    edge found there is within about a pixel of the full-resolution one at model size."""
    return max(512, 2 * cfg.height)


def input_batches(
    decoder: DicomDecoder,
    frame: pd.DataFrame,
    cfg: EnsembleConfig,
    unreadable: list[str],
    batch_size: int,
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """(row positions, (N, 1, height, width) model inputs) per batch of readable files; the
    unreadable ones are logged by name and appended to ``unreadable``."""
    sides = frame["laterality"].tolist()
    rows: list[int] = []
    images: list[DeviceImage] = []
    for row, (path, result) in enumerate(decoder.decode_on_device(list(frame["path"]))):
        if not isinstance(result, DeviceImage):
            log.warning("skipping unreadable image: %s", result)
            unreadable.append(str(path))
            continue
        rows.append(row)
        images.append(result)
        if len(images) == batch_size:
            yield np.array(rows), _batch(images, [sides[r] for r in rows], cfg)
            rows, images = [], []
    if images:
        yield np.array(rows), _batch(images, [sides[r] for r in rows], cfg)


def _batch(
    images: Sequence[DeviceImage], sides: Sequence[str], cfg: EnsembleConfig
) -> torch.Tensor:
    return model_batch(images, sides, cfg.height, cfg.width, crop=cfg.crop, roi_rows=roi_rows(cfg))


@torch.no_grad()
def members_probabilities(
    models: Sequence[nn.Module], images: torch.Tensor, cfg: EnsembleConfig
) -> torch.Tensor:
    """The members' mean sigmoid output per image (with the vertical flip when ``tta_vflip``)."""
    device = images.device
    precision = Precision.for_device(device)
    if cfg.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    total = torch.zeros(len(images), device=device)
    for model in models:
        model.eval()
        with precision.autocast(device):
            probs = torch.sigmoid(model(images).float())
            if cfg.tta_vflip:
                probs = (probs + torch.sigmoid(model(images.flip(2)).float())) / 2
        total += probs
    return total / len(models)


def predict_streamed(
    models: Sequence[nn.Module],
    frame: pd.DataFrame,
    cfg: EnsembleConfig,
    device: torch.device,
    *,
    decode_device: str,
    fallback_workers: int,
    decode_threads: int,
) -> StreamedPredictions:
    """Probabilities for every row of ``frame`` (columns ``path``, ``laterality``), the members
    on ``device``, DALI on ``decode_device`` ('cpu' or 'mixed')."""
    with DicomDecoder(
        decode_device,
        batch_size=cfg.decode_batch_size,
        num_threads=decode_threads,
        device_id=device.index,
        fallback_workers=fallback_workers,
    ) as decoder:
        return stream_probabilities(decoder, models, frame, cfg, device)


def stream_probabilities(
    decoder: DicomDecoder,
    models: Sequence[nn.Module],
    frame: pd.DataFrame,
    cfg: EnsembleConfig,
    device: torch.device,
) -> StreamedPredictions:
    """``predict_streamed`` with a decoder of the caller's (e.g. one already warm)."""
    out = StreamedPredictions(np.full(len(frame), np.nan))
    side = torch.cuda.Stream(device) if decoder.device == "mixed" else None
    main = torch.cuda.current_stream(device) if side is not None else None
    per_batch: list[tuple[np.ndarray, torch.Tensor]] = []
    batches = input_batches(decoder, frame, cfg, out.unreadable, cfg.batch_size * 2)
    while True:
        with torch.cuda.stream(side) if side is not None else contextlib.nullcontext():
            batch = next(batches, None)
        if batch is None:
            break
        rows, images = batch
        if side is not None and main is not None:
            main.wait_stream(side)
            images.record_stream(main)
        images = images.to(device, non_blocking=True)
        per_batch.append((rows, members_probabilities(models, images, cfg)))
    for rows, probs in per_batch:  # one synchronisation, at the end
        out.probs[rows] = probs.cpu().numpy()
    out.decode = dataclasses.replace(decoder.stats)  # the decoder's counts so far
    log.info(
        "%d images predicted without the crop cache (%s), %d unreadable",
        len(frame) - len(out.unreadable),
        out.decode,
        len(out.unreadable),
    )
    return out
