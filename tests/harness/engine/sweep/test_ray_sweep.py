"""``executor=ray`` on a local Ray started by the sweep: each run a Ray task."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RECORD_FILE, RunRecord

pytest.importorskip("ray")
pytestmark = [pytest.mark.usefixtures("sweep_solutions"), pytest.mark.slow]


def test_ray_runs_each_point_as_a_task_and_isolates_the_crash(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    results = tmp_path / "results"
    args = [
        "task=rsna-breast",
        "solution=constant,crashing",
        "budget=smoke",
        f"data.root={tiny_breast_root}",
        f"results_dir={results}",
        "bootstrap=0",
        "executor=ray",
        "cpus=4",
    ]
    result = CliRunner().invoke(app, ["sweep", *args], terminal_width=200)

    assert result.exit_code == 1, result.output
    assert "2 run(s) executed, 1 ok, 1 failed" in result.output
    assert "ValueError: boom in fit" in result.output
    assert socket.gethostname() in result.output  # placed by Ray, reported by the task
    records = {
        r.solution: r for r in (RunRecord.load(p) for p in results.glob(f"runs/*/{RECORD_FILE}"))
    }
    assert records["constant"].status == "ok" and records["crashing"].status == "failed"
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    assert client.get_run(records["constant"].mlflow_run_id).info.status == "FINISHED"
    # what the Ray workers recorded is what the next sweep skips, whichever executor it uses
    plan = CliRunner().invoke(app, ["sweep", *args[:-2], "--dry-run"], terminal_width=200)
    assert "2 runs (1 queued, 1 done before)" in plan.output
