"""Preprocessed images kept one file per image in an :class:`ArrayCache`, and the dataset that
reads them back for training.

For datasets too large to hold in memory (the full RSNA ICH train set is hundreds of GB as
uint8), each image is preprocessed once, stored under the cache folder, and read by the
DataLoader's workers as it trains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from harness.kit.imaging.cache import ArrayCache
from harness.kit.imaging.dicom import DicomReadError

log = logging.getLogger(__name__)


@dataclass
class PreparedSlices:
    files: list[Path | None]
    """The cached image file of each path; None for an unreadable file."""
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> np.ndarray:
        return np.array([f is not None for f in self.files], dtype=bool)


def prepare_slices(
    paths: Sequence[str | Path], cache: ArrayCache, preprocess: Callable[[Path], np.ndarray]
) -> PreparedSlices:
    """The cache file of every path, preprocessing the missing ones; an unreadable DICOM is
    logged by name and left out (None), never fatal."""
    prepared = PreparedSlices([])
    for path in map(Path, paths):
        key = cache.key(path)
        target = cache.file(key)
        if not target.is_file():
            try:
                cache.save(key, preprocess(path))
            except DicomReadError as exc:
                log.warning("skipping unreadable slice: %s", exc)
                prepared.unreadable.append(str(path))
                prepared.files.append(None)
                continue
        prepared.files.append(target)
    log.info("%d slices ready, %d unreadable", int(prepared.ok.sum()), len(prepared.unreadable))
    return prepared


class SliceDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Cached uint8 images as float in [0, 1], with their label rows (an empty row when
    unlabelled, for prediction), augmented when ``transform`` is set."""

    def __init__(
        self,
        files: Sequence[Path],
        labels: np.ndarray | None = None,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.files = files
        self.labels = np.zeros((len(files), 0), np.float32) if labels is None else labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = torch.from_numpy(np.load(self.files[index])).float().div_(255.0)
        if self.transform is not None:
            image = self.transform(image)
        return image, torch.from_numpy(np.asarray(self.labels[index], dtype=np.float32))


def training_batches(
    dataset: SliceDataset, batch_size: int, workers: int
) -> DataLoader[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of ``dataset`` in random order (torch's global generator). The last, partial
    batch is dropped unless it is the only one: a batch of one image cannot train batch norm."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=len(dataset) > batch_size,
    )
