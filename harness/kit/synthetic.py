"""What every synthetic generator shares: checking its options, and smooth noise for textures.

A generator's options come from its config dataclass and ``data.synth.*`` overrides; a value
out of range is reported with the option's name, its value and the allowed range, every problem
at once, before a file is written.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from harness.api import HarnessError


class InvalidSynthConfig(HarnessError, ValueError):
    """A generator option out of range (e.g. from a ``data.synth.*`` override)."""


class OptionCheck:
    """Collects what is wrong with a generator's options, then raises it all in one message.

    Problems keep the order of the calls; ``raise_problems`` raises
    ``InvalidSynthConfig("invalid <ConfigClass>: <problem>; <problem>")``.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self.problems: list[str] = []

    def require(self, ok: bool, problem: str) -> None:
        """Record ``problem`` unless ``ok``."""
        if not ok:
            self.problems.append(problem)

    def at_least(self, name: str, minimum: float, why: str = "") -> None:
        """Option ``name`` must be >= ``minimum``; ``why`` follows the bound, e.g. " (...)"."""
        value = getattr(self.config, name)
        self.require(value >= minimum, f"{name} must be >= {minimum}{why}, got {value}")

    def fractions(self, *names: str) -> None:
        """Each option in ``names`` must lie in [0, 1]."""
        for name in names:
            value = getattr(self.config, name)
            self.require(0.0 <= value <= 1.0, f"{name} must be in [0, 1], got {value}")

    def shares(self, first: str, second: str) -> None:
        """Two fractions of the same files (e.g. two encodings) must add up to at most 1."""
        total = getattr(self.config, first) + getattr(self.config, second)
        self.require(total <= 1.0, f"{first} + {second} must be <= 1")

    def raise_problems(self) -> None:
        """Raise InvalidSynthConfig listing every problem, if there is any."""
        if self.problems:
            name = type(self.config).__name__
            raise InvalidSynthConfig(f"invalid {name}: " + "; ".join(self.problems))


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Zero-mean, unit-std noise smooth over ``cell`` pixels (coarse grid, cubic upsampling)."""
    height, width = shape
    coarse = rng.standard_normal((height // cell + 3, width // cell + 3)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / (field.std() + 1e-6)
