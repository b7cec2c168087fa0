"""One planned run executed and reduced to what the sweep shows: never raises.

Shared by every executor, so that a crash, OOM, timeout or a run that could not even start is
one outcome among others and never stops the sweep.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from harness.api import HarnessError
from harness.engine.observe import LineSink
from harness.engine.runner import RunInterrupted, execute
from harness.engine.sweep.plan import PlannedRun

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
"""Stopped by Ctrl-C or a kill of the sweep; recorded as failed, run again on resume."""
NOT_STARTED = "error"
"""The run raised before its record existed (missing data, no CUDA on the worker...)."""


@dataclass
class RunOutcome:
    status: str
    """A record status (ok, failed, timeout, oom, invalid_submission), or the two above."""
    score: float | None = None
    error: str = ""
    failed_phase: str = ""
    run_dir: str = ""
    mlflow_run_id: str = ""


def run_one(
    plan: PlannedRun, progress: LineSink, gpus: list[int] | None, cancel: threading.Event
) -> RunOutcome:
    """Execute ``plan``; whatever happens comes back as a RunOutcome."""
    try:
        record = execute(
            plan.config, plan.budget, plan.solution_args, progress, gpus=gpus, cancel=cancel
        )
    except RunInterrupted as exc:
        return RunOutcome(INTERRUPTED, error=f"interrupted: {exc}")
    except HarnessError as exc:
        return RunOutcome(NOT_STARTED, error=str(exc))
    except Exception as exc:  # isolate the failure: the other runs go on
        log.exception("run %d %s could not run", plan.index, plan.label)
        return RunOutcome(NOT_STARTED, error=f"{type(exc).__name__}: {exc}")
    return RunOutcome(
        status=record.status,
        score=record.score,
        error=record.error,
        failed_phase=record.failed_phase,
        run_dir=record.run_dir,
        mlflow_run_id=record.mlflow_run_id,
    )
