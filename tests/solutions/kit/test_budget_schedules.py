"""Today's budget-fitted training schedules, pinned: the learning rate at every step and the
epochs (or steps) run, driven by a fake clock, for representative settings of each solution.

``budget_schedules.json`` was written by these drivers from the schedules the solutions used
before the solution kit's one training plan replaced them; the plan must reproduce it exactly.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from solutions.rsna_breast.ensemble.training import BudgetCosine as EnsembleCosine
from solutions.rsna_cervical.seg_25d_gru.schedule import BudgetCosine as StepCosine
from solutions.rsna_ich.sequence.schedule import EpochPlan, cosine
from solutions.rsna_ich.seresnext.training import EpochClock

GOLDEN = json.loads((Path(__file__).parent / "budget_schedules.json").read_text())
EPOCH_S = [10.0, 14.0, 12.0, 20.0, 9.0, 11.0, 30.0, 8.0]
"""The simulated duration of each epoch."""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


clock = Clock()


def ensemble(seconds: float, epochs: int, steps: int) -> dict[str, Any]:
    clock.now = 1000.0
    schedule = EnsembleCosine(0.1, seconds, epochs)
    lrs, run = [], 0
    for epoch in range(epochs):
        for step in range(steps):
            lrs.append(schedule.lr(epoch + step / steps))
            clock.now += EPOCH_S[epoch] / steps
        run += 1
        if schedule.finished(epoch + 1, extra_s=1.2 * EPOCH_S[epoch]):
            break
    return {"lrs": lrs, "units": run}


def cervical(seconds: float, max_steps: int, step_s: list[float]) -> dict[str, Any]:
    clock.now = 1000.0
    optimiser = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    schedule = StepCosine(optimiser, 0.3, max_steps, seconds)
    lrs = [optimiser.param_groups[0]["lr"]]
    while True:
        clock.now += step_s[min(schedule.steps, len(step_s) - 1)]
        schedule.step()
        lrs.append(optimiser.param_groups[0]["lr"])
        if schedule.done():
            break
    return {"lrs": lrs, "units": schedule.steps}


def sequence(seconds: float, epochs: int, steps: int) -> dict[str, Any]:
    clock.now = 1000.0
    plan = EpochPlan(epochs, seconds)
    lrs, step = [], 0
    while plan.another():
        for _ in range(steps):
            lrs.append(cosine(0.01, step, steps * plan.planned))
            step += 1
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"lrs": lrs, "units": plan.done}


def seresnext(seconds: float, epochs: int, steps: int, slowest: float) -> dict[str, Any]:
    clock.now = 1000.0
    epoch_clock = EpochClock(seconds, slowest)
    lrs, step, epoch = [], 0, 0
    while epoch < epochs and epoch_clock.another_fits():
        for _ in range(steps):
            progress = min(1.0, step / (steps * epochs))
            lrs.append(0.02 * 0.5 * (1 + math.cos(math.pi * progress)))
            step += 1
        clock.now += EPOCH_S[epoch]
        epoch_clock.record(EPOCH_S[epoch])
        epoch += 1
    return {"lrs": lrs, "units": epoch, "slowest": epoch_clock.slowest}


def effnet_meta(seconds: float, epochs: int, slowest: float) -> dict[str, Any]:
    """The epoch loop of one fold in EffnetMetaSolution.fit."""
    clock.now = 1000.0
    fold_started, epoch = time.monotonic(), 0
    while epoch < epochs:
        spent = time.monotonic() - fold_started
        if slowest and spent + 1.25 * slowest > seconds:
            break
        clock.now += EPOCH_S[epoch]
        slowest = max(slowest, EPOCH_S[epoch])
        epoch += 1
    return {"units": epoch, "slowest": slowest}


def severstal(seconds: float, epochs: int) -> dict[str, Any]:
    """The epoch loop of unet_cls_ensemble's train_network."""
    clock.now = 1000.0
    started, planned, epoch = time.monotonic(), epochs, 0
    lrs = []
    while epoch < planned:
        lrs.append(0.001 * 0.5 * (1 + math.cos(math.pi * epoch / max(planned, 1))))
        clock.now += EPOCH_S[epoch]
        epoch_s = EPOCH_S[epoch]
        epoch += 1
        left = seconds - (time.monotonic() - started)
        planned = min(epochs, epoch + max(0, math.floor(left / epoch_s)))
    return {"lrs": lrs, "units": epoch}


def siim(seconds: float, epochs: int, swa: int) -> dict[str, Any]:
    """The epoch loop of one stage in the unet's train_network (None: an averaged epoch)."""
    clock.now = 1000.0
    stage_started, planned, epoch = time.monotonic(), epochs, 0
    lrs: list[float | None] = []
    swa_started = False
    while epoch < planned:
        in_swa = swa > 0 and epoch >= planned - swa
        lrs.append(None if in_swa else 0.001 * 0.5 * (1 + math.cos(math.pi * epoch / planned)))
        swa_started = swa_started or in_swa
        clock.now += EPOCH_S[epoch]
        epoch_s = EPOCH_S[epoch]
        epoch += 1
        left = seconds - (time.monotonic() - stage_started)
        planned = min(planned, epoch + max(0, math.floor(left / epoch_s)))
        if epoch == planned and swa > 0 and not swa_started and left > epoch_s:
            planned += 1
    return {"lrs": lrs, "units": epoch}


def baseline(seconds: float, epochs: int) -> dict[str, Any]:
    """The epoch loop of the rsna-breast baseline (the budget's remaining() at the check)."""
    clock.now = 1000.0
    deadline, run = time.monotonic() + seconds, 0
    for epoch in range(epochs):
        clock.now += EPOCH_S[epoch]
        run += 1
        if deadline - time.monotonic() < 1.5 * EPOCH_S[epoch]:
            break
    return {"units": run}


def cases(solution: str) -> dict[str, dict[str, Any]]:
    if solution == "ensemble":
        return {f"{s}s_{e}ep": ensemble(s, e, 4) for s, e in [(1000, 5), (45, 6), (12, 3)]}
    if solution == "cervical":
        paces = [(1000, 30, [3.0, 1.0]), (40, 200, [5.0, 1.0, 1.2, 0.9, 1.1]), (20, 8, [2.0, 1.0])]
        return {f"{s}s_{n}steps": cervical(s, n, step_s) for s, n, step_s in paces}
    if solution == "sequence":
        return {f"{s}s_{e}ep": sequence(s, e, 3) for s, e in [(1000, 4), (60, 6), (5, 3)]}
    slowest_settings = [(1000, 4, 0.0), (60, 6, 0.0), (60, 6, 25.0), (20, 3, 30.0)]
    if solution == "seresnext":
        return {f"{s}s_{e}ep_slowest{w}": seresnext(s, e, 3, w) for s, e, w in slowest_settings}
    if solution == "effnet_meta":
        return {f"{s}s_{e}ep_slowest{w}": effnet_meta(s, e, w) for s, e, w in slowest_settings}
    if solution == "severstal":
        return {f"{s}s_{e}ep": severstal(s, e) for s, e in [(1000, 5), (50, 8), (5, 3)]}
    if solution == "siim":
        settings = [(1000, 5, 0), (1000, 5, 2), (50, 8, 0), (50, 8, 2), (30, 2, 1)]
        return {f"{s}s_{e}ep_swa{w}": siim(s, e, w) for s, e, w in settings}
    assert solution == "baseline"
    return {f"{s}s_{e}ep": baseline(s, e) for s, e in [(1000, 4), (50, 8), (5, 3)]}


@pytest.mark.parametrize("solution", sorted(GOLDEN))
def test_schedule_matches_today(solution: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "monotonic", clock)
    assert cases(solution) == GOLDEN[solution]
