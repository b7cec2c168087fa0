"""Eight runs at once into one MLflow store: no record is lost.

Against a new sqlite store, eight processes each record a run the way the runner does (start,
per-epoch metrics, phases, final metrics, tags and artifacts): their first use of the store
creates its tables, which MLflow cannot do from several processes at once. Against a tracking
server (sqlite database, artifacts on a shared folder, started on a free port the way the
README tells a team to start theirs), a sweep runs eight real runs at once.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.budgets import BUDGETS
from harness.engine.record import RECORD_FILE, PhaseStats, RunRecord
from harness.engine.tracking import Tracker, summary_metrics

RUNS = 8
ARTIFACTS = {"submission.csv", "config.yaml", RECORD_FILE, "run.log", "metrics.jsonl"}


def _record_a_run(uri: str, run_dir: Path, seed: int) -> tuple[str, str]:
    """One run's whole conversation with the store; returns (MLflow run id, config hash)."""
    record = RunRecord(
        run_id=f"concurrent-{seed}",
        task="rsna-breast",
        task_version="1",
        split_version="v1",
        solution="constant",
        solution_version="0.1",
        budget={"name": "smoke", **{k: v for k, v in vars(BUDGETS["smoke"]).items()}},
        seed=seed,
        config={"run": {"seed": seed}, "solution": {"value": 0.5}},
        metric_name="pF1",
        greater_is_better=True,
        data_root="/data",
        data_kind="synthetic",
        created_at="2026-01-01T00:00:00+00:00",
        run_dir=str(run_dir),
        config_hash=f"hash-{seed}",
    )
    run_dir.mkdir(parents=True)
    for name in ARTIFACTS - {"metrics.jsonl"}:  # the tracker writes the metrics itself
        (run_dir / name).write_text(f"{name} of run {seed}\n")
    tracker = Tracker(uri, run_dir)
    record.mlflow_run_id = tracker.start(record)
    for epoch in range(3):
        tracker.log_metrics({"val_pf1": 0.1 * epoch}, step=epoch)
    for phase in ("prepare", "fit", "predict"):
        record.phases[phase] = PhaseStats(wall_s=1.0, cpu_s=1.0, peak_rss_mb=100.0)
        tracker.log_phase(phase, record.phases[phase])
    record.status, record.score = "ok", 0.5 + seed / 100
    tracker.log_metrics(summary_metrics(record))
    tracker.finish(record)
    assert not tracker.error
    return record.mlflow_run_id, record.config_hash


def test_eight_processes_record_into_one_new_sqlite_store(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"
    with ProcessPoolExecutor(RUNS, mp_context=mp.get_context("spawn")) as pool:
        futures = [
            pool.submit(_record_a_run, uri, tmp_path / "runs" / str(seed), seed)
            for seed in range(RUNS)
        ]
        recorded = dict(f.result() for f in futures)

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("rsna-breast")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_id for r in runs) == sorted(recorded)
    for run in runs:
        seed = int(run.data.params["seed"])
        assert run.info.status == "FINISHED"
        assert run.data.tags["harness.config_hash"] == recorded[run.info.run_id] == f"hash-{seed}"
        assert run.data.metrics["score"] == pytest.approx(0.5 + seed / 100)
        assert {"prepare.wall_s", "fit.wall_s", "predict.wall_s"} <= set(run.data.metrics)
        history = client.get_metric_history(run.info.run_id, "val_pf1")
        assert [m.step for m in history] == [0, 1, 2]
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == ARTIFACTS


@pytest.fixture
def tracking_server(mlflow_server: Any) -> tuple[str, Path]:
    """``mlflow server`` on a sqlite database, artifacts proxied to a folder; (URI, folder)."""
    return mlflow_server.uri, mlflow_server.artifacts


@pytest.mark.slow
@pytest.mark.usefixtures("test_solutions")
def test_a_sweep_of_eight_runs_at_once_records_every_run_on_a_tracking_server(
    tmp_path: Path, tiny_breast_root: Path, tracking_server: tuple[str, Path]
) -> None:
    uri, artifacts = tracking_server
    args = [
        "task=rsna-breast",
        "solution=reporting",
        "budget=smoke",
        f"seed={','.join(map(str, range(RUNS)))}",
        f"data.root={tiny_breast_root}",
        f"results_dir={tmp_path / 'results'}",
        f"tracking_uri={uri}",
        "bootstrap=0",
        f"cpus={2 * RUNS}",
    ]
    result = CliRunner().invoke(app, ["sweep", *args], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert f"{RUNS} run(s) executed, {RUNS} ok" in result.output
    records = [RunRecord.load(p) for p in (tmp_path / "results").glob(f"runs/*/{RECORD_FILE}")]
    assert len(records) == RUNS
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("rsna-breast")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_id for r in runs) == sorted(r.mlflow_run_id for r in records)
    for record in records:
        run = client.get_run(record.mlflow_run_id)
        assert run.info.status == "FINISHED"
        assert run.data.tags["harness.config_hash"] == record.config_hash
        assert run.data.metrics["score"] == pytest.approx(record.score)
        history = client.get_metric_history(record.mlflow_run_id, "val_pf1")
        assert [m.step for m in history] == [0, 1, 2]
        assert {a.path for a in client.list_artifacts(record.mlflow_run_id)} >= ARTIFACTS
    # artifacts are in the server's shared folder, not in the clients' results folders
    assert len(list(artifacts.rglob(RECORD_FILE))) == RUNS
    assert not (tmp_path / "results" / "mlartifacts").exists()
    # and the server is what the next sweep asks about what is done
    again = CliRunner().invoke(app, ["sweep", *args, "--dry-run"], terminal_width=200)
    assert f"{RUNS} runs ({RUNS} done before)" in again.output
