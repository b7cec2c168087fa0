"""A warm-up + cosine learning-rate schedule whose length follows the time budget.

Training runs at most ``max_steps``. After the first few steps their pace tells how many fit
in ``seconds``, and the cosine is stretched over that many, so that training stopped by the
budget still ends at a low rate. When ``max_steps`` fits (the contract preset's fixed work),
nothing depends on timing and two runs with one seed are identical.
"""

from __future__ import annotations

import math
import time

import torch

_MEASURE_STEPS = 3
_SAFETY = 0.9


class BudgetCosine:
    def __init__(
        self, optimiser: torch.optim.Optimizer, lr: float, max_steps: int, seconds: float
    ) -> None:
        self.optimiser, self.lr, self.seconds = optimiser, lr, seconds
        self.planned = max(1, max_steps)
        self.warmup = max(1, self.planned // 20)
        self.steps = 0
        self._started = self._first_done = time.monotonic()
        self._apply()

    def step(self) -> None:
        """Count a finished optimiser step and set the next step's rate."""
        self.steps += 1
        if self.steps == 1:  # the first step pays for warm-up: measure the pace after it
            self._first_done = time.monotonic()
        elif self.steps == 1 + _MEASURE_STEPS:
            pace = (time.monotonic() - self._first_done) / _MEASURE_STEPS
            self.planned = max(self.steps, min(self.planned, int(_SAFETY * self.seconds / pace)))
        self._apply()

    def done(self) -> bool:
        """The planned steps are run, or another one would overrun the seconds."""
        elapsed = time.monotonic() - self._started
        pace = elapsed / max(1, self.steps)
        return self.steps >= self.planned or elapsed + pace > self.seconds

    def _apply(self) -> None:
        if self.steps < self.warmup:
            factor = (self.steps + 1) / self.warmup
        else:
            progress = min(1.0, (self.steps - self.warmup) / max(1, self.planned - self.warmup))
            factor = 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))
        for group in self.optimiser.param_groups:
            group["lr"] = self.lr * factor
