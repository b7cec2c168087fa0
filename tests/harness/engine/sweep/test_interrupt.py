"""Killing a sweep: finished runs stay recorded, running ones are stopped and recorded, and
the same command resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RECORD_FILE, RunRecord

pytestmark = pytest.mark.usefixtures("sweep_solutions")


def _records(results: Path) -> dict[str, RunRecord]:
    return {
        r.solution: r for r in (RunRecord.load(p) for p in results.glob(f"runs/*/{RECORD_FILE}"))
    }


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def _sleepy_in_fit(results: Path) -> bool:
    records = _records(results)
    if records.get("constant") is None or records["constant"].status != "ok":
        return False
    sleepy = records.get("sleepy")
    log = Path(sleepy.run_dir) / "run.log" if sleepy else None
    return log is not None and log.is_file() and "phase fit started" in log.read_text()


def test_sigterm_records_the_running_run_as_interrupted_and_the_sweep_resumes(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    results = tmp_path / "results"
    args = [
        "task=rsna-breast",
        "solution=constant,sleepy",
        "budget=smoke",
        "solution.sleep_s=300",
        f"data.root={tiny_breast_root}",
        f"results_dir={results}",
        "bootstrap=0",
        "cpus=4",
    ]
    sweep = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        _wait_until(lambda: _sleepy_in_fit(results), 120, "constant done and sleepy in fit")
        children = psutil.Process(sweep.pid).children(recursive=True)
        sweep.send_signal(signal.SIGTERM)
        output, _ = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            sweep.kill()

    assert sweep.returncode == 130, output
    assert "interrupted: run the same command again to resume" in output
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    records = _records(results)
    assert records["constant"].status == "ok"
    assert records["sleepy"].status == "interrupted"
    assert records["sleepy"].failed_phase == "fit"
    assert records["sleepy"].error.startswith("interrupted by the sweep stopping during phase fit")
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    assert client.get_run(records["sleepy"].mlflow_run_id).info.status == "KILLED"
    assert client.get_run(records["constant"].mlflow_run_id).info.status == "FINISHED"

    plan = CliRunner().invoke(app, ["sweep", *args, "--dry-run"], terminal_width=200)
    assert plan.exit_code == 0, plan.output
    assert "2 runs (1 queued, 1 done before)" in plan.output
