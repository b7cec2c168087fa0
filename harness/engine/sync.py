"""``harness sync``: push run folders to MLflow, for runs whose tracking server was away.

Safe to repeat: each run folder remembers, per tracking URI, which metric lines and which
final state MLflow has (``tracking.json``), and an MLflow run is looked up by the harness run
id before one is created, so syncing twice adds no run and no metric point twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from harness.engine.owners import owner_alive, reap_orphans, run_records
from harness.engine.record import RunRecord
from harness.engine.tracking import default_tracking_uri, is_synced, push_run

log = logging.getLogger(__name__)

PUSHED = "pushed"
UP_TO_DATE = "up to date"
SKIPPED_RUNNING = "running (skipped)"
FAILED = "failed"


@dataclass(frozen=True)
class SyncOutcome:
    run_id: str
    status: str
    """The run's own status (ok, failed, killed...)."""
    action: str
    """pushed, up to date, running (skipped) or failed."""
    tracking_uri: str
    mlflow_run_id: str = ""
    error: str = ""


def _target(record: RunRecord, results_dir: Path, tracking_uri: str | None) -> str:
    return tracking_uri or record.tracking_uri or default_tracking_uri(results_dir)


def sync_runs(results_dir: Path, tracking_uri: str | None = None) -> list[SyncOutcome]:
    """Push every finished run under ``results_dir`` that the store lacks, oldest first.

    ``tracking_uri`` sends every run to that store instead of the one it was recorded for.
    Runs still running (their owner alive) are left to their owner.
    """
    reap_orphans(results_dir)
    outcomes = []
    for run_dir, record in run_records(results_dir):
        uri = _target(record, results_dir, tracking_uri)
        if record.status == "running" and (record.owner is None or owner_alive(record.owner)):
            outcomes.append(SyncOutcome(record.run_id, record.status, SKIPPED_RUNNING, uri))
            continue
        if is_synced(record, run_dir, uri):
            outcomes.append(
                SyncOutcome(record.run_id, record.status, UP_TO_DATE, uri, record.mlflow_run_id)
            )
            continue
        try:
            mlflow_run_id = push_run(run_dir, record, uri)
        except Exception as exc:  # one unreachable store or broken run never stops the others
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            outcomes.append(SyncOutcome(record.run_id, record.status, FAILED, uri, error=error))
            continue
        outcomes.append(SyncOutcome(record.run_id, record.status, PUSHED, uri, mlflow_run_id))
    return outcomes


def settle_orphans(results_dir: Path) -> list[RunRecord]:
    """Mark runs of dead harness processes ``killed`` and tell MLflow where it answers."""
    reaped = reap_orphans(results_dir)
    for run_dir, record in reaped:
        uri = _target(record, results_dir, None)
        try:
            push_run(run_dir, record, uri)
        except Exception as exc:
            log.warning(
                "run %s is marked killed in its folder; MLflow at %s was not told (%s): "
                "run `harness sync` when it answers",
                record.run_id,
                uri,
                type(exc).__name__,
            )
    return [record for _, record in reaped]
