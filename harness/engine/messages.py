"""What the run process tells the harness over its pipe, one dataclass per kind of message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PhaseStarted:
    phase: str


@dataclass(frozen=True)
class PhaseEnded:
    phase: str
    wall_s: float
    cpu_s: float
    rss_mb: float
    gpu_peak_mem_gb: float | None


@dataclass(frozen=True)
class Metrics:
    """Intermediate metrics a solution reported (``ctx.report``)."""

    values: dict[str, float]
    step: int | None


@dataclass(frozen=True)
class Fact:
    """A fact a solution recorded (``ctx.record_fact``)."""

    name: str
    value: Any


@dataclass(frozen=True)
class Progress:
    """How far the running phase is (``ctx.progress``)."""

    done: int
    total: int | None
    unit: str
    items: int | None


@dataclass(frozen=True)
class Done:
    """The child ran its phases; ``submission``: the file it wrote, None if it did not predict."""

    submission: str | None


@dataclass(frozen=True)
class Failed:
    status: str
    """``failed`` or ``oom``."""
    error: str


Message = PhaseStarted | PhaseEnded | Metrics | Fact | Progress | Done | Failed
