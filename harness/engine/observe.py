"""What a run tells whoever watches it: phases, progress (with rate and ETA), metrics.

``harness run`` shows it live (``harness.engine.run_display``); sweeps and the contract suite take
one line per event through ``LineObserver``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from harness.engine.messages import Progress
from harness.engine.record import PhaseStats, RunRecord
from harness.kit.durations import duration


@dataclass
class PhaseMeter:
    """Rate and ETA of the running phase from the solution's progress updates."""

    phase: str
    limit_s: float
    started: float = field(default_factory=time.monotonic)
    latest: Progress | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    _base: tuple[float, Progress] | None = None
    """When the current stream of updates began (a new unit, or counts going back, restart it:
    the second member of an ensemble, say), and its first update."""

    def update(self, progress: Progress) -> None:
        previous = self.latest
        restarted = previous is None or progress.unit != previous.unit
        if restarted or progress.done < previous.done:  # type: ignore[union-attr]
            self._base = (time.monotonic(), progress)
        self.latest = progress

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def budget_left_s(self) -> float:
        return max(0.0, self.limit_s - self.elapsed_s())

    def _since_base(self) -> tuple[float, Progress] | None:
        if self._base is None:
            return None
        began, first = self._base
        return time.monotonic() - began, first

    def items_per_s(self) -> float | None:
        since = self._since_base()
        update = self.latest
        if since is None or update is None or update.items is None:
            return None
        seconds, first = since
        start = first.items or 0
        if seconds <= 0 or update.items <= start:
            return None
        return (update.items - start) / seconds

    def eta_s(self) -> float | None:
        since = self._since_base()
        update = self.latest
        if since is None or update is None or not update.total:
            return None
        seconds, first = since
        if update.done <= first.done or seconds <= 0:
            return None
        return seconds * (update.total - update.done) / (update.done - first.done)

    def describe(self) -> str:
        """One line: ``fit: epoch 3/10, 41.2 images/s, ETA 1m05s, budget left 3m12s``."""
        parts = []
        update = self.latest
        if update is not None:
            total = f"/{update.total}" if update.total else ""
            parts.append(f"{update.unit} {update.done}{total}")
        rate = self.items_per_s()
        if rate is not None:
            parts.append(f"{rate:.1f} images/s")
        eta = self.eta_s()
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        parts.append(f"budget left {duration(self.budget_left_s())}")
        parts.extend(f"{k} {v:.4g}" for k, v in list(self.metrics.items())[:3])
        return f"{self.phase}: " + ", ".join(parts)


LineSink = Callable[[str], None]
"""Takes one line per event: what sweeps and the contract suite give a run to watch it."""


class RunObserver(Protocol):
    def run_started(self, record: RunRecord) -> None:
        """The run folder exists and the run process does not yet (the contract's label guard
        hides the label files here)."""

    def phase_started(self, meter: PhaseMeter) -> None: ...

    def progress(self, meter: PhaseMeter) -> None:
        """The meter got a progress update or new metrics."""

    def phase_ended(self, phase: str, stats: PhaseStats) -> None: ...

    def close(self) -> None: ...


class LineObserver:
    """Each event as one line to ``emit``; progress at most every ``interval_s``."""

    def __init__(self, emit: LineSink, interval_s: float = 10.0) -> None:
        self._emit = emit
        self._interval_s = interval_s
        self._last = 0.0

    def run_started(self, record: RunRecord) -> None:
        self._emit(f"run folder {record.run_dir}")

    def phase_started(self, meter: PhaseMeter) -> None:
        self._last = time.monotonic()
        self._emit(f"{meter.phase} started (limit {meter.limit_s:.0f} s)")

    def progress(self, meter: PhaseMeter) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval_s:
            self._last = now
            self._emit(meter.describe())

    def phase_ended(self, phase: str, stats: PhaseStats) -> None:
        self._emit(f"{phase} finished in {stats.wall_s:.1f} s")

    def close(self) -> None:
        return None


def as_observer(watcher: RunObserver | LineSink) -> RunObserver:
    """An observer, or a callable taking lines (sweeps, the contract suite) wrapped as one."""
    if hasattr(watcher, "phase_started"):
        return watcher  # type: ignore[return-value]
    assert callable(watcher)
    return LineObserver(watcher)
