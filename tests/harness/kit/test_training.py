"""TrainingPlan and warmup_cosine, on a fake clock: what each parameter changes."""

from __future__ import annotations

import pytest
import torch

from harness.kit.training import Revision, TrainingPlan, scaled_step, warmup_cosine


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(plan: TrainingPlan, clock: Clock, unit_s: list[float]) -> list[int]:
    """Runs units of the given durations while the plan allows; ``planned`` after each."""
    planned = []
    while plan.another():
        clock.now += unit_s[plan.done]
        plan.record(unit_s[plan.done])
        planned.append(plan.planned)
    return planned


def test_ample_time_runs_every_unit_whatever_the_revision() -> None:
    revisions: list[Revision] = ["fixed", "shrink", "refit", "measured"]
    for revision in revisions:
        clock = Clock()
        plan = TrainingPlan(6, 3600, revision=revision, clock=clock)
        run(plan, clock, [1.0] * 6)
        assert plan.done == 6 and plan.planned == 6, revision


def test_margin_and_pace_decide_whether_another_unit_fits() -> None:
    # 10 s units, 32 s: three fit; with margin 1.25 on the slowest (12.5 s) only two.
    clock = Clock()
    plain = TrainingPlan(10, 32, clock=clock)
    run(plain, clock, [10.0] * 10)
    clock = Clock()
    careful = TrainingPlan(10, 32, margin=1.25, clock=clock)
    run(careful, clock, [10.0] * 10)
    assert (plain.done, careful.done) == (3, 2)
    # After a slow first unit the last pace lets more units in than the slowest.
    durations = [20.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    clock = Clock()
    slowest = TrainingPlan(6, 40, clock=clock)
    run(slowest, clock, durations)
    clock = Clock()
    last = TrainingPlan(6, 40, pace="last", clock=clock)
    run(last, clock, durations)
    assert (slowest.done, last.done) == (2, 5)


def test_an_earlier_slowest_unit_can_refuse_the_first() -> None:
    assert not TrainingPlan(5, 10, slowest_s=11, clock=Clock()).another()
    assert TrainingPlan(5, 10, slowest_s=9, clock=Clock()).another()
    assert TrainingPlan(5, 10, clock=Clock()).another()  # nothing timed: one is tried


def test_shrink_never_grows_back_and_refit_does() -> None:
    durations = [30.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    clock = Clock()
    shrink = run(TrainingPlan(6, 60, pace="last", revision="shrink", clock=clock), clock, durations)
    clock = Clock()
    refit = run(TrainingPlan(6, 60, pace="last", revision="refit", clock=clock), clock, durations)
    assert shrink == [2, 2]
    assert refit == [2, 6, 6, 6, 6, 6]


def test_measured_plans_from_the_pace_after_the_first_unit() -> None:
    clock = Clock()
    plan = TrainingPlan(1000, 100, pace="mean", revision="measured", clock=clock)
    run(plan, clock, [10.0] + [1.0] * 999)
    assert plan.planned == 90  # 0.9 x 100 s at 1 s per step, the slow first step aside
    assert plan.done == 90


def test_warmup_cosine_ramps_then_decays_to_its_floor() -> None:
    assert warmup_cosine(1.0, 0, 10) == 1.0 and warmup_cosine(1.0, 10, 10) == 0.0
    assert warmup_cosine(1.0, 5, 10) == pytest.approx(0.5)
    assert warmup_cosine(1.0, 0.025, 1.0, warmup=0.05) == pytest.approx(0.5)
    assert warmup_cosine(1.0, 0.0, 1.0, warmup=0.05, warmup_min=0.01) == 0.01
    assert warmup_cosine(2.0, 0, 100, warmup=4, step_warmup=True) == 0.5  # step 1 of 4
    assert warmup_cosine(2.0, 3, 100, warmup=4, step_warmup=True) == 2.0
    assert warmup_cosine(1.0, 100, 100, warmup=4, floor=0.02) == pytest.approx(0.02)
    assert warmup_cosine(1.0, 500, 100) == 0.0  # held at the end


def test_scaled_step_applies_the_gradient() -> None:
    weight = torch.nn.Parameter(torch.tensor([1.0]))
    optimiser = torch.optim.SGD([weight], lr=0.5)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    scaled_step((weight * 2).sum(), optimiser, scaler)
    assert weight.item() == 0.0 and weight.grad is not None
