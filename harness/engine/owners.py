"""Who runs a run, and what becomes of runs whose harness process died.

A run's record names its owner (host, pid, process start time). A harness killed with
SIGKILL cannot finish its record, so the next command that reads runs (run, sweep, sync,
report) finds records still ``running`` whose owner is gone and marks them ``killed``, in the
run folder and in MLflow.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from pathlib import Path

import psutil

from harness.engine.record import RECORD_FILE, Owner, RunRecord

log = logging.getLogger(__name__)


def current_owner() -> Owner:
    me = psutil.Process()
    return Owner(host=socket.gethostname(), pid=me.pid, started_at=me.create_time())


def owner_alive(owner: Owner) -> bool | None:
    """True or False on this host; None for another host's process (which we cannot see)."""
    if owner.host != socket.gethostname():
        return None
    try:
        process = psutil.Process(owner.pid)
        # create_time is rounded differently across reads on some kernels: allow a second.
        return abs(process.create_time() - owner.started_at) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # exists but unreadable (another user's): not ours to judge


def run_records(results_dir: Path) -> list[tuple[Path, RunRecord]]:
    """Every readable run record under ``results_dir/runs``, oldest first."""
    found = []
    for path in sorted((results_dir / "runs").glob(f"*/{RECORD_FILE}")):
        try:
            found.append((path.parent, RunRecord.load(path)))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("skipping %s: unreadable record (%s)", path, exc)
    return found


def reap_orphans(results_dir: Path) -> list[tuple[Path, RunRecord]]:
    """Mark runs whose owner died as ``killed``; return them (their MLflow runs not yet told)."""
    reaped = []
    for run_dir, record in run_records(results_dir):
        if record.status != "running" or record.owner is None:
            continue
        if owner_alive(record.owner) is not False:
            continue
        where = f" during phase {record.current_phase}" if record.current_phase else ""
        done = ", ".join(f"{name} ({s.wall_s:.1f} s)" for name, s in record.phases.items())
        record.status = "killed"
        record.failed_phase = record.current_phase
        record.error = (
            f"killed: the harness process (pid {record.owner.pid} on {record.owner.host}) "
            f"ended{where} without finishing the run; finished phases: {done or 'none'}"
        )
        record.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        record.save(run_dir)
        log.warning("run %s: %s", record.run_id, record.error)
        reaped.append((run_dir, record))
    return reaped
