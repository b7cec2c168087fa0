"""How much training fits in a time budget, the learning rate along it, one optimiser step,
and the best epoch's weights.

A :class:`TrainingPlan` counts units of training (epochs or optimiser steps) against a number of
seconds, usually a share of ``ctx.budget.remaining()``. It says whether another unit fits and
how many units are ``planned``: the length a cosine schedule stretches over, so that training
stopped by the budget still ends at a low learning rate. :func:`warmup_cosine` is that
learning rate at a position along the plan.

The solutions' recipes differ in what they measure and when they re-plan; the plan takes those
as parameters instead of guessing one rule for all:

- ``pace``: the unit duration another unit is expected to take: the slowest so far (timings
  jump on shared cores), the last one, or the mean since the start.
- ``margin``: another unit runs only while ``elapsed + margin * pace <= seconds``.
- ``revision``: how ``planned`` follows the budget: ``"fixed"`` (it stays at ``units``; only
  the time rule stops training), ``"shrink"`` (after each unit, to the units done plus those
  that still fit, never more than before), ``"refit"`` (the same, but up to ``units`` again
  when units speed up) or ``"measured"`` (once, from the pace of ``measure_units`` units after
  the first, which pays for warm-up: ``measured_share`` of ``seconds`` at that pace).

Nothing depends on timing while the time is ample: the plan then runs exactly ``units``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from typing import Literal, TypeVar

import torch

Pace = Literal["slowest", "last", "mean"]
Revision = Literal["fixed", "shrink", "refit", "measured"]
M = TypeVar("M", bound=torch.nn.Module)


class TrainingPlan:
    """At most ``units`` epochs or steps within ``seconds``, counted from construction."""

    def __init__(
        self,
        units: int,
        seconds: float,
        *,
        margin: float = 1.0,
        pace: Pace = "slowest",
        revision: Revision = "fixed",
        slowest_s: float = 0.0,
        measure_units: int = 3,
        measured_share: float = 0.9,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``slowest_s``: the slowest unit seen before (an earlier fold's epoch), so that a plan
        can refuse even its first unit; 0 when none was timed. ``clock`` (a fake one in tests)
        defaults to time.monotonic."""
        self.units = units
        self.seconds = seconds
        self.margin = margin
        self.pace = pace
        self.revision = revision
        self.measure_units = measure_units
        self.measured_share = measured_share
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.planned = units
        self.done = 0
        self.slowest = slowest_s
        self.last = 0.0
        self._first_done = self.started

    @property
    def deadline(self) -> float:
        """The clock reading at which the seconds run out."""
        return self.started + self.seconds

    def elapsed(self) -> float:
        return self.clock() - self.started

    def _expected_unit_s(self, elapsed: float) -> float:
        """How long the next unit is expected to take (0 before any unit was timed)."""
        if self.pace == "slowest":
            return self.slowest
        if self.pace == "last":
            return self.last
        return elapsed / max(1, self.done)

    def record(self, unit_s: float = 0.0) -> None:
        """Count a finished unit that took ``unit_s`` (the ``"mean"`` pace reads the clock
        instead) and re-plan."""
        self.done += 1
        self.last = unit_s
        self.slowest = max(self.slowest, unit_s)
        if self.revision in ("shrink", "refit"):
            elapsed = self.elapsed()
            unit_s = max(self._expected_unit_s(elapsed), 1e-9)
            fits = max(0, math.floor((self.seconds - elapsed) / (self.margin * unit_s)))
            ceiling = self.planned if self.revision == "shrink" else self.units
            self.planned = min(ceiling, self.done + fits)
        elif self.revision == "measured":
            self._measure()

    def _measure(self) -> None:
        if self.done == 1:
            self._first_done = self.clock()
        elif self.done == 1 + self.measure_units:
            pace = (self.clock() - self._first_done) / self.measure_units
            fits = int(self.measured_share * self.seconds / pace)
            self.planned = max(self.done, min(self.planned, fits))

    def extend(self, units: int = 1) -> None:
        """Plan ``units`` more than revised (e.g. to end on an averaged epoch)."""
        self.planned += units

    def another(self) -> bool:
        """Whether another unit is planned and, by the pace so far, fits in the seconds left."""
        if self.done >= self.planned:
            return False
        elapsed = self.elapsed()
        expected = self._expected_unit_s(elapsed) if self.done or self.slowest else 0.0
        return not expected or elapsed + self.margin * expected <= self.seconds

    def progress(self, units_done: float) -> float:
        """How far along training is: the larger of the units' and the seconds' share used."""
        by_time = self.elapsed() / max(self.seconds, 1e-9)
        return min(1.0, max(units_done / self.units, by_time))


def warmup_cosine(
    base_lr: float,
    position: float,
    length: float,
    *,
    warmup: float = 0,
    warmup_min: float = 0.0,
    floor: float = 0.0,
    step_warmup: bool = False,
) -> float:
    """The learning rate at ``position`` of ``length`` (in steps, epochs or a fraction of 1).

    A linear warm-up over the first ``warmup`` (the rate grows with the position, not below
    ``warmup_min`` of ``base_lr``; with ``step_warmup`` it counts the step being taken, so step
    ``warmup - 1`` already runs at ``base_lr``), then half a cosine from ``base_lr`` down to
    ``floor`` of it at ``length``, where it stays.
    """
    if position < warmup:
        ramp = (position + 1) / warmup if step_warmup else position / warmup
        return base_lr * max(ramp, warmup_min)
    span = length - warmup
    progress = min(1.0, (position - warmup) / span) if span > 0 else float(position > warmup)
    return base_lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def scaled_step(
    loss: torch.Tensor, optimiser: torch.optim.Optimizer, scaler: torch.amp.GradScaler
) -> None:
    """One optimiser step on ``loss``: gradients cleared, back-propagated through the
    mixed-precision ``scaler`` (a no-op scaler in full precision), applied, scale updated."""
    optimiser.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimiser)
    scaler.update()


def state_snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model``'s weights on the CPU (an epoch's weights, kept if it stays best)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def with_state(model: M, state: dict[str, torch.Tensor]) -> M:
    """A copy of ``model`` holding ``state``, in eval mode; ``model`` itself is untouched."""
    copied = copy.deepcopy(model)
    copied.load_state_dict(state)
    return copied.eval()
