"""`harness sync` and orphan reaping against a real sqlite MLflow store and real processes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.engine.budgets import BUDGETS
from harness.engine.owners import current_owner, owner_alive, reap_orphans
from harness.engine.record import CONFIG_FILE, RECORD_FILE, Owner, PhaseStats, RunRecord
from harness.engine.sync import FAILED, PUSHED, SKIPPED_RUNNING, UP_TO_DATE, sync_runs
from harness.engine.tracking import append_metrics, local_tracking_uri, summary_metrics


def _record(results: Path, name: str, status: str = "ok", owner: Owner | None = None) -> Path:
    run_dir = results / "runs" / name
    run_dir.mkdir(parents=True)
    record = RunRecord(
        run_id=name,
        task="rsna-breast",
        task_version="1",
        split_version="v1",
        solution="constant",
        solution_version="0.1",
        budget={"name": "smoke", **vars(BUDGETS["smoke"])},
        seed=0,
        config={"run": {"seed": 0}, "solution": {"value": 0.5}},
        metric_name="pF1",
        greater_is_better=True,
        data_root="/data",
        data_kind="synthetic",
        created_at="2026-01-01T00:00:00+00:00",
        status=status,  # type: ignore[arg-type]
        run_dir=str(run_dir),
        tracking_uri=local_tracking_uri(results),
        owner=owner,
        score=0.5 if status == "ok" else None,
        phases={"fit": PhaseStats(wall_s=2.0, cpu_s=2.0, peak_rss_mb=10.0)},
        current_phase="fit" if status == "running" else "",
    )
    (run_dir / CONFIG_FILE).write_text("run: {}\n")
    for epoch in range(3):
        append_metrics(run_dir, {"train_loss": 1.0 / (epoch + 1)}, epoch)
    if status == "ok":
        append_metrics(run_dir, summary_metrics(record), None)
    record.save(run_dir)
    return run_dir


def _dead_owner() -> Owner:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = Owner(socket.gethostname(), process.pid, 0.0)
    process.wait()
    return owner


def test_sync_pushes_each_run_once(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run_dir = _record(results, "run-a")
    _record(results, "run-b")

    first = sync_runs(results)
    again = sync_runs(results)

    assert [o.action for o in first] == [PUSHED, PUSHED]
    assert [o.action for o in again] == [UP_TO_DATE, UP_TO_DATE]
    client = MlflowClient(local_tracking_uri(results))
    runs = client.search_runs([client.get_experiment_by_name("rsna-breast").experiment_id])
    assert len(runs) == 2
    record = RunRecord.load(run_dir / RECORD_FILE)
    run = client.get_run(record.mlflow_run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["score"] == 0.5
    history = client.get_metric_history(record.mlflow_run_id, "train_loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert {a.path for a in client.list_artifacts(record.mlflow_run_id)} >= {RECORD_FILE}


def test_a_changed_record_and_new_metrics_are_pushed_again(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run_dir = _record(results, "run-a")
    sync_runs(results)
    record = RunRecord.load(run_dir / RECORD_FILE)
    record.extra["note"] = "re-scored"
    record.save(run_dir)
    append_metrics(run_dir, {"train_loss": 0.1}, 3)

    [outcome] = sync_runs(results)

    assert outcome.action == PUSHED
    client = MlflowClient(local_tracking_uri(results))
    history = client.get_metric_history(record.mlflow_run_id, "train_loss")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert (
        len(client.search_runs([client.get_experiment_by_name("rsna-breast").experiment_id])) == 1
    )


def test_a_store_that_does_not_answer_fails_that_push_only(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _record(results, "run-a")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}"

    [outcome] = sync_runs(results, nobody)

    assert outcome.action == FAILED and outcome.error
    [ok] = sync_runs(results)  # its own (local) store still takes it
    assert ok.action == PUSHED


def test_owner_liveness() -> None:
    assert owner_alive(current_owner()) is True
    assert owner_alive(_dead_owner()) is False
    me = current_owner()
    assert owner_alive(Owner(me.host, me.pid, me.started_at - 100)) is False, "pid reused"
    assert owner_alive(Owner("another-host", 1, 0.0)) is None


def test_runs_of_dead_owners_are_reaped_and_live_ones_left_alone(tmp_path: Path) -> None:
    results = tmp_path / "results"
    dead = _record(results, "run-dead", status="running", owner=_dead_owner())
    live = _record(results, "run-live", status="running", owner=current_owner())
    elsewhere = _record(results, "run-elsewhere", "running", Owner("another-host", 1, 0.0))

    reaped = reap_orphans(results)

    assert [path for path, _ in reaped] == [dead]
    record = RunRecord.load(dead / RECORD_FILE)
    assert record.status == "killed" and record.failed_phase == "fit"
    assert "during phase fit" in record.error and "fit (2.0 s)" in record.error
    assert RunRecord.load(live / RECORD_FILE).status == "running"
    assert RunRecord.load(elsewhere / RECORD_FILE).status == "running"
    outcomes = {o.run_id: o.action for o in sync_runs(results)}
    assert outcomes["run-live"] == SKIPPED_RUNNING
    assert outcomes["run-dead"] == PUSHED


@pytest.mark.parametrize("bad", ["", "{not json"])
def test_an_unreadable_record_is_skipped_with_a_warning(
    tmp_path: Path, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    results = tmp_path / "results"
    _record(results, "run-a")
    broken = results / "runs" / "run-broken"
    broken.mkdir()
    (broken / RECORD_FILE).write_text(bad)

    assert [o.run_id for o in sync_runs(results)] == ["run-a"]
    assert "run-broken" in caplog.text
