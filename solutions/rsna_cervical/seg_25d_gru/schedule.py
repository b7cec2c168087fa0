"""The recipe's optimiser steps and learning rate: as many steps as fit the time budget, a
linear warm-up over the first 5% of them, then a cosine down to 2% of the peak.

Training runs at most ``max_steps``. After the first few steps their pace tells how many fit
in ``seconds``, and the cosine is stretched over that many, so that training stopped by the
budget still ends at a low rate. When ``max_steps`` fits (the contract preset's fixed work),
nothing depends on timing and two runs with one seed are identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch

from harness.kit.training import TrainingPlan, scaled_step, warmup_cosine

EpochLosses = Callable[[], Iterator[tuple[torch.Tensor, int]]]
"""One pass over the data: the loss of each batch (before its step) with the batch's size."""


def step_plan(max_steps: int, seconds: float) -> TrainingPlan:
    """Steps while the mean step so far still fits; planned from the pace of steps 2-4."""
    return TrainingPlan(max(1, max_steps), seconds, pace="mean", revision="measured")


def set_step_lr(optimiser: torch.optim.Optimizer, plan: TrainingPlan, lr: float) -> None:
    """Set the rate of the next step (the warm-up spans 5% of the steps first planned)."""
    warmup = max(1, plan.units // 20)
    rate = warmup_cosine(lr, plan.done, plan.planned, warmup=warmup, floor=0.02, step_warmup=True)
    for group in optimiser.param_groups:
        group["lr"] = rate


def run_steps(
    plan: TrainingPlan,
    epoch_losses: EpochLosses,
    *,
    epochs: int,
    optimiser: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    lr: float,
    log: Callable[[int, float, float], None],
) -> int:
    """One optimiser step per batch of ``epoch_losses``, at most ``epochs`` passes, until the
    plan ends; ``log(epoch, mean loss, seconds)`` after each pass; returns the steps run."""
    for epoch in range(epochs):
        started = time.monotonic()
        total, seen = 0.0, 0
        for loss, size in epoch_losses():
            scaled_step(loss, optimiser, scaler)
            plan.record()
            set_step_lr(optimiser, plan, lr)
            total, seen = total + float(loss.detach()) * size, seen + size
            if not plan.another():
                break
        log(epoch, total / seen, time.monotonic() - started)
        if not plan.another():
            break
    return plan.done
