"""The live state of every run in a sweep, updated by executor threads, read by the display."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from harness.engine.sweep.completed import PreviousRun
from harness.engine.sweep.outcome import RunOutcome
from harness.engine.sweep.plan import PlannedRun

QUEUED = "queued"
RUNNING = "running"
SKIPPED = "done before"


@dataclass
class RunState:
    plan: PlannedRun
    status: str = QUEUED
    """queued, running, done before (skipped), or the outcome's status."""
    message: str = ""
    """The run's latest progress line (e.g. ``fit started (limit 240 s)``)."""
    started: float | None = None
    ended: float | None = None
    where: str = ""
    """GPUs and host the run was placed on."""
    outcome: RunOutcome | None = None
    previous: PreviousRun | None = None

    @property
    def elapsed_s(self) -> float | None:
        if self.started is None:
            return None
        return (self.ended or time.monotonic()) - self.started

    @property
    def score(self) -> float | None:
        if self.outcome is not None:
            return self.outcome.score
        return self.previous.score if self.previous is not None else None


@dataclass
class Board:
    plans: list[PlannedRun]
    _states: dict[int, RunState] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._states = {plan.index: RunState(plan) for plan in self.plans}

    def skip(self, index: int, previous: PreviousRun) -> None:
        with self._lock:
            state = self._states[index]
            state.status, state.previous = SKIPPED, previous
            state.message = f"skipped: ok in MLflow run {previous.mlflow_run_id[:8]}"

    def start(self, index: int, where: str) -> None:
        with self._lock:
            state = self._states[index]
            if state.outcome is not None:  # a late message from a run that has finished
                return
            state.status, state.where, state.started = RUNNING, where, time.monotonic()
            state.message = "starting"

    def wait(self, index: int, reason: str) -> None:
        """Why a queued run has not started yet (``waiting for cores``), shown as its progress."""
        with self._lock:
            state = self._states[index]
            if state.status == QUEUED:
                state.message = reason

    def progress(self, index: int, message: str) -> None:
        with self._lock:
            if self._states[index].outcome is None:
                self._states[index].message = message

    def finish(self, index: int, outcome: RunOutcome) -> None:
        with self._lock:
            state = self._states[index]
            state.status, state.outcome = outcome.status, outcome
            state.ended = time.monotonic()
            state.started = state.started or state.ended
            state.message = outcome.error or ("scored" if outcome.status == "ok" else "")

    def states(self) -> list[RunState]:
        """A consistent copy, in plan order."""
        with self._lock:
            return [copy.copy(self._states[plan.index]) for plan in self.plans]

    def queued(self) -> list[PlannedRun]:
        with self._lock:
            return [p for p in self.plans if self._states[p.index].status == QUEUED]
