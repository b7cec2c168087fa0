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

import numpy as np
import pytest
import torch

from harness.kit.training import TrainingPlan, warmup_cosine
from solutions.rsna_breast.ensemble.training import member_lr, member_plan
from solutions.rsna_cervical.seg_25d_gru.schedule import set_step_lr, step_plan
from solutions.rsna_ich.sequence.stage1 import epoch_plan
from solutions.rsna_ich.seresnext.training import fold_plan

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
    plan = member_plan(epochs, seconds)
    lrs = []
    while plan.another():
        for step in range(steps):
            lrs.append(member_lr(plan, 0.1, plan.done + step / steps))
            clock.now += EPOCH_S[plan.done] / steps
        plan.record(EPOCH_S[plan.done])
    return {"lrs": lrs, "units": plan.done}


def cervical(seconds: float, max_steps: int, step_s: list[float]) -> dict[str, Any]:
    clock.now = 1000.0
    optimiser = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    plan = step_plan(max_steps, seconds)
    set_step_lr(optimiser, plan, 0.3)
    lrs = [optimiser.param_groups[0]["lr"]]
    while True:
        clock.now += step_s[min(plan.done, len(step_s) - 1)]
        plan.record()
        set_step_lr(optimiser, plan, 0.3)
        lrs.append(optimiser.param_groups[0]["lr"])
        if not plan.another():
            break
    return {"lrs": lrs, "units": plan.done}


def sequence(seconds: float, epochs: int, steps: int) -> dict[str, Any]:
    clock.now = 1000.0
    plan = epoch_plan(epochs, seconds)
    lrs, step = [], 0
    while plan.another():
        for _ in range(steps):
            lrs.append(warmup_cosine(0.01, step, steps * plan.planned))
            step += 1
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"lrs": lrs, "units": plan.done}


def seresnext(seconds: float, epochs: int, steps: int, slowest: float) -> dict[str, Any]:
    clock.now = 1000.0
    plan = fold_plan(epochs, seconds, slowest)
    lrs, step = [], 0
    while plan.another():
        for _ in range(steps):
            lrs.append(warmup_cosine(0.02, step, steps * epochs))
            step += 1
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"lrs": lrs, "units": plan.done, "slowest": plan.slowest}


def effnet_meta(seconds: float, epochs: int, slowest: float) -> dict[str, Any]:
    """The epoch loop of one fold in EffnetMetaSolution.fit."""
    clock.now = 1000.0
    plan = TrainingPlan(epochs, seconds, margin=1.25, slowest_s=slowest)
    while plan.another():
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"units": plan.done, "slowest": plan.slowest}


def severstal(seconds: float, epochs: int) -> dict[str, Any]:
    """The epoch loop of unet_cls_ensemble's train_network."""
    clock.now = 1000.0
    plan = TrainingPlan(epochs, seconds, pace="last", revision="refit")
    lrs = []
    while plan.another():
        lrs.append(warmup_cosine(0.001, plan.done, plan.planned))
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"lrs": lrs, "units": plan.done}


def siim(seconds: float, epochs: int, swa: int) -> dict[str, Any]:
    """The epoch loop of one stage in the unet's train_network (None: an averaged epoch)."""
    clock.now = 1000.0
    plan = TrainingPlan(epochs, seconds, pace="last", revision="shrink")
    lrs: list[float | None] = []
    swa_started = False
    while plan.another():
        in_swa = swa > 0 and plan.done >= plan.planned - swa
        lrs.append(None if in_swa else warmup_cosine(0.001, plan.done, plan.planned))
        swa_started = swa_started or in_swa
        clock.now += EPOCH_S[plan.done]
        epoch_s = EPOCH_S[plan.done]
        plan.record(epoch_s)
        left = seconds - plan.elapsed()
        if plan.done == plan.planned and swa > 0 and not swa_started and left > epoch_s:
            plan.extend()
    return {"lrs": lrs, "units": plan.done}


def baseline(seconds: float, epochs: int) -> dict[str, Any]:
    """The epoch loop of the rsna-breast baseline."""
    clock.now = 1000.0
    plan = TrainingPlan(epochs, seconds, margin=1.5, pace="last")
    while plan.another():
        clock.now += EPOCH_S[plan.done]
        plan.record(EPOCH_S[plan.done])
    return {"units": plan.done}


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


ROUNDING_ONLY = {"ensemble", "severstal", "siim"}
"""These computed ``pi * position / length`` where the plan computes ``pi * (position / length)``:
their rates may differ in the last bit of a float64, never in the float32 that the optimiser
applies to the float32 weights."""


def as_float32(result: dict[str, Any]) -> dict[str, Any]:
    lrs = [None if lr is None else float(np.float32(lr)) for lr in result.get("lrs", [])]
    return {**result, "lrs": lrs} if "lrs" in result else result


@pytest.mark.parametrize("solution", sorted(GOLDEN))
def test_schedule_matches_today(solution: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "monotonic", clock)
    got, today = cases(solution), GOLDEN[solution]
    if solution not in ROUNDING_ONLY:
        assert got == today
        return
    assert {k: as_float32(v) for k, v in got.items()} == {
        k: as_float32(v) for k, v in today.items()
    }
    for case, result in got.items():
        for lr, expected in zip(result["lrs"], today[case]["lrs"], strict=True):
            assert lr == expected or math.isclose(lr, expected, rel_tol=1e-13)
