"""Stage-2 data and training: study-level batches of vertebra crops, the competition's loss."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from harness.kit.amp import Precision
from solutions.rsna_cervical.seg_25d_gru.crops import VertebraBox, crop_study, dicom_slice_reader
from solutions.rsna_cervical.seg_25d_gru.model import (
    VertebraGru,
    competition_loss,
    log_probabilities,
)
from solutions.rsna_cervical.seg_25d_gru.schedule import run_steps, set_step_lr, step_plan


@dataclass(frozen=True)
class StudyBoxes:
    """What stage 2 needs of a study when crops are re-read from DICOM."""

    paths: list[Path]
    boxes: list[VertebraBox]


class StudyCrops(Dataset[torch.Tensor]):
    """Each study's (7, n_sample, 3, S, S) uint8 crops: from memory, or cut from its DICOM
    slices on every access (``DataLoader`` workers do the decoding)."""

    def __init__(
        self,
        crops: np.ndarray | None = None,
        studies: list[StudyBoxes] | None = None,
        *,
        n_sample: int = 0,
        size: int = 0,
    ) -> None:
        if (crops is None) == (studies is None):
            raise ValueError("give either in-memory crops or the studies' boxes")
        self.crops, self.studies, self.n_sample, self.size = crops, studies, n_sample, size

    def __len__(self) -> int:
        return len(self.crops) if self.crops is not None else len(self.studies or [])

    def __getitem__(self, index: int) -> torch.Tensor:
        if self.crops is not None:
            return torch.from_numpy(self.crops[index])
        assert self.studies is not None
        study = self.studies[index]
        reader = dicom_slice_reader(study.paths)
        return torch.from_numpy(
            crop_study(reader, len(study.paths), study.boxes, self.n_sample, self.size)
        )


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Left-right flips per study and brightness/contrast jitter, on [0, 1] floats."""
    n = batch.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip.view(n, 1, 1, 1, 1, 1).to(batch.device), batch.flip(-1), batch)
    gain = (1 + 0.2 * (torch.rand(n, generator=generator) - 0.5)).view(n, 1, 1, 1, 1, 1)
    shift = (0.1 * (torch.rand(n, generator=generator) - 0.5)).view(n, 1, 1, 1, 1, 1)
    return (batch * gain.to(batch.device) + shift.to(batch.device)).clamp(0, 1)


def train_stage2(
    model: VertebraGru,
    data: StudyCrops,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seconds: float,
    num_workers: int,
    device: torch.device,
    generator: torch.Generator,
    log: Callable[[int, float, float], None],
) -> int:
    """Train on (studies, 8) labels; returns the steps run.

    Runs at most ``epochs`` passes over the studies, fewer when ``seconds`` end first.
    """
    model.to(device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    plan = step_plan(epochs * -(-len(data) // batch_size), seconds)
    set_step_lr(optimiser, plan, lr)
    precision = Precision.for_device(device)
    scaler = precision.scaler(device)
    targets = torch.from_numpy(labels.astype(np.float32))

    def epoch_losses() -> Iterator[tuple[torch.Tensor, int]]:
        order = torch.randperm(len(data), generator=generator)
        loader = DataLoader(
            Subset(data, order.tolist()),
            batch_size=batch_size,
            num_workers=num_workers,
            pin_memory=device.type == "cuda",
        )
        for step, crops in enumerate(loader):
            idx = order[step * batch_size : step * batch_size + len(crops)]
            batch = _augment(crops.to(device, non_blocking=True).float() / 255, generator)
            with precision.autocast(device):
                logits, overall = model(batch)
            log_p, log_not_p = log_probabilities(
                logits.float(), None if overall is None else overall.float()
            )
            yield competition_loss(log_p, log_not_p, targets[idx].to(device)), len(idx)

    return run_steps(
        plan, epoch_losses, epochs=epochs, optimiser=optimiser, scaler=scaler, lr=lr, log=log
    )


@torch.no_grad()
def predict_stage2(
    model: VertebraGru, data: StudyCrops, *, batch_size: int, num_workers: int, device: torch.device
) -> np.ndarray:
    """(studies, 8) probabilities of C1..C7 and patient_overall."""
    model.to(device).eval()
    precision = Precision.for_device(device)
    out = []
    for crops in DataLoader(data, batch_size=batch_size, num_workers=num_workers):
        with precision.autocast(device):
            logits, overall = model(crops.to(device).float() / 255)
        log_p, _ = log_probabilities(logits.float(), None if overall is None else overall.float())
        out.append(log_p.exp().cpu().numpy())
    return np.concatenate(out).astype(np.float64)
