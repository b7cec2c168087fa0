"""How many epochs fit in a time share, and the cosine learning rate over them."""

from __future__ import annotations

import math
import time

EPOCH_MARGIN = 1.25
"""Another epoch is planned only if 1.25 x the slowest one so far still fits (on shared cores
an epoch's time can jump)."""


class EpochPlan:
    """At most ``epochs``, fewer when ``seconds`` would not hold them. After each epoch the plan
    shrinks to what still fits, so a cosine schedule over ``planned`` ends at a low rate when
    the budget, not ``epochs``, ends training. With time to spare nothing depends on timing."""

    def __init__(self, epochs: int, seconds: float) -> None:
        self.planned = max(1, epochs)
        self.deadline = time.monotonic() + seconds
        self.slowest = 0.0
        self.done = 0

    def record(self, epoch_s: float) -> None:
        self.done += 1
        self.slowest = max(self.slowest, epoch_s)
        left = self.deadline - time.monotonic()
        fits = self.done + max(0, math.floor(left / (EPOCH_MARGIN * max(self.slowest, 1e-9))))
        self.planned = max(self.done, min(self.planned, fits))

    def another(self) -> bool:
        return self.done < self.planned


def cosine(base_lr: float, step: int, total_steps: int) -> float:
    """``base_lr`` decayed along half a cosine from step 0 to ``total_steps`` (then 0)."""
    progress = min(1.0, step / max(1, total_steps))
    return base_lr * 0.5 * (1 + math.cos(math.pi * progress))
