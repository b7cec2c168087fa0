"""The recipe's optimiser steps and learning rate: as many steps as fit the time budget, a
linear warm-up over the first 5% of them, then a cosine down to 2% of the peak.

Training runs at most ``max_steps``. After the first few steps their pace tells how many fit
in ``seconds``, and the cosine is stretched over that many, so that training stopped by the
budget still ends at a low rate. When ``max_steps`` fits (the contract preset's fixed work),
nothing depends on timing and two runs with one seed are identical.
"""

from __future__ import annotations

import torch

from harness.kit.training import TrainingPlan, warmup_cosine


def step_plan(max_steps: int, seconds: float) -> TrainingPlan:
    """Steps while the mean step so far still fits; planned from the pace of steps 2-4."""
    return TrainingPlan(max(1, max_steps), seconds, pace="mean", revision="measured")


def set_step_lr(optimiser: torch.optim.Optimizer, plan: TrainingPlan, lr: float) -> None:
    """Set the rate of the next step (the warm-up spans 5% of the steps first planned)."""
    warmup = max(1, plan.units // 20)
    rate = warmup_cosine(lr, plan.done, plan.planned, warmup=warmup, floor=0.02, step_warmup=True)
    for group in optimiser.param_groups:
        group["lr"] = rate
