"""Things going wrong around a real `harness run`: a dead tracking server, Ctrl-C, SIGTERM,
a SIGKILLed harness. Real subprocesses, real signals, a real `mlflow server` that the tests
kill and restart; the run folder must always end with the whole truth, and MLflow must catch up.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from mlflow.tracking import MlflowClient

from harness.engine.record import RECORD_FILE, RunRecord
from harness.engine.tracking import METRICS_FILE, read_metrics

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("test_solutions")]


def _harness(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`harness ...` as a user runs it, with the test plug-ins installed on its path."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "HARNESS_PROGRESS_S": "1",
        **(env or {}),
    }
    environment.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )


def _run_args(tmp_path: Path, root: Path, *extra: str) -> list[str]:
    return [
        "run",
        "task=rsna-breast",
        f"results_dir={tmp_path / 'results'}",
        f"data.root={root}",
        "budget=smoke",
        "bootstrap=20",
        *extra,
    ]


def _records(tmp_path: Path) -> list[tuple[Path, RunRecord]]:
    paths = sorted((tmp_path / "results" / "runs").glob(f"*/{RECORD_FILE}"))
    return [(p.parent, RunRecord.load(p)) for p in paths]


def _wait_for_phase(tmp_path: Path, phase: str, process: subprocess.Popen[str]) -> Path:
    """The run folder, once its record says ``phase`` is running."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        for run_dir, record in _records(tmp_path):
            if record.current_phase == phase:
                return run_dir
        time.sleep(0.2)
    pytest.fail(f"the run never reached phase {phase}")


def _mlflow_status(tmp_path: Path, record: RunRecord) -> tuple[str, str]:
    """The run's status in the local MLflow store and its ``status`` tag."""
    client = MlflowClient(f"sqlite:///{tmp_path / 'results' / 'mlflow.db'}")
    run = client.get_run(record.mlflow_run_id)
    return run.info.status, run.data.tags["status"]


@pytest.fixture
def site(test_solutions: Path) -> Path:
    return test_solutions


def test_a_dead_tracking_server_fails_the_run_at_once_with_one_line(
    tmp_path: Path, tiny_breast_root: Path, site: Path
) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}"
    process = _harness(
        site, *_run_args(tmp_path, tiny_breast_root, "solution=constant", f"tracking_uri={nobody}")
    )
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 2, output
    assert "Traceback" not in output
    error = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error) == 1, output
    assert nobody in output and "offline=true" in output and "local store" in output
    assert not (tmp_path / "results" / "runs").exists(), "nothing may start before the check"


def test_offline_run_is_pushed_by_sync_once_the_server_answers(
    tmp_path: Path,
    tiny_breast_root: Path,
    site: Path,
    mlflow_server: Any,
) -> None:
    mlflow_server.stop()  # the team's server is down when the run starts
    args = _run_args(
        tmp_path,
        tiny_breast_root,
        "solution=paced",
        "solution.sleep_s=1",
        f"tracking_uri={mlflow_server.uri}",
        "offline=true",
    )
    output, _ = _harness(site, *args).communicate(timeout=300)
    [(run_dir, record)] = _records(tmp_path)
    assert record.status == "ok", output
    assert record.mlflow_run_id == ""
    assert len(read_metrics(run_dir)) >= 10  # ten epochs of train_loss, phases, score

    mlflow_server.start()
    first = _harness(site, "sync", f"results_dir={tmp_path / 'results'}")
    first_output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, first_output
    assert "1 pushed" in first_output
    again = _harness(site, "sync", f"results_dir={tmp_path / 'results'}")
    again_output, _ = again.communicate(timeout=300)
    assert again.returncode == 0 and "1 up to date" in again_output, again_output

    client = MlflowClient(mlflow_server.uri)
    [run] = client.search_runs([client.get_experiment_by_name("rsna-breast").experiment_id])
    record = RunRecord.load(run_dir / RECORD_FILE)
    assert run.info.run_id == record.mlflow_run_id
    assert run.info.status == "FINISHED"
    assert run.data.metrics["score"] == pytest.approx(record.score)
    assert run.data.params["seed"] == "0"
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in history] == list(range(10))
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {
        RECORD_FILE,
        METRICS_FILE,
        "submission.csv",
    }


def test_a_server_that_dies_mid_run_loses_nothing(
    tmp_path: Path,
    tiny_breast_root: Path,
    site: Path,
    mlflow_server: Any,
) -> None:
    args = _run_args(
        tmp_path,
        tiny_breast_root,
        "solution=paced",
        "solution.sleep_s=8",
        f"tracking_uri={mlflow_server.uri}",
    )
    process = _harness(site, *args)
    run_dir = _wait_for_phase(tmp_path, "fit", process)
    time.sleep(1.5)  # a few epochs reach the server
    mlflow_server.stop()
    output, _ = process.communicate(timeout=300)

    assert process.returncode == 0, output
    assert "harness sync" in output  # the user is told how MLflow catches up
    record = RunRecord.load(run_dir / RECORD_FILE)
    assert record.status == "ok" and record.score is not None
    assert set(record.phases) == {"prepare", "fit", "predict"}

    mlflow_server.start()
    synced = _harness(site, "sync", f"results_dir={tmp_path / 'results'}")
    synced_output, _ = synced.communicate(timeout=300)
    assert synced.returncode == 0 and "1 pushed" in synced_output, synced_output

    client = MlflowClient(mlflow_server.uri)
    runs = client.search_runs([client.get_experiment_by_name("rsna-breast").experiment_id])
    assert [r.info.run_id for r in runs] == [record.mlflow_run_id], "one MLflow run, not two"
    [run] = runs
    assert run.info.status == "FINISHED"
    assert run.data.metrics["score"] == pytest.approx(record.score)
    assert run.data.metrics["predict.wall_s"] == pytest.approx(record.phases["predict"].wall_s)
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in history] == list(range(10)), "every epoch once, none twice"


@pytest.mark.parametrize(
    ("signum", "exit_code", "name"),
    [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")],
)
def test_a_signal_stops_the_run_and_records_where_it_was(
    tmp_path: Path,
    tiny_breast_root: Path,
    site: Path,
    signum: int,
    exit_code: int,
    name: str,
) -> None:
    args = _run_args(tmp_path, tiny_breast_root, "solution=paced", "solution.sleep_s=120")
    process = _harness(site, *args)
    run_dir = _wait_for_phase(tmp_path, "fit", process)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the run process"

    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == exit_code, output
    assert output.splitlines()[0] == f"run folder: {run_dir}"
    assert str(run_dir) in output.splitlines()[-1] or "run folder above" in output
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"run processes left behind: {alive}"
    record = RunRecord.load(run_dir / RECORD_FILE)
    assert record.status == "interrupted"
    assert record.failed_phase == "fit"
    assert name in record.error and "prepare" in record.error
    assert set(record.phases) == {"prepare"}
    assert record.finished_at
    assert _mlflow_status(tmp_path, record) == ("KILLED", "interrupted")


def test_ctrl_c_in_a_fresh_predict_process_is_recorded_in_predict(
    tmp_path: Path, tiny_breast_root: Path, site: Path
) -> None:
    args = _run_args(
        tmp_path, tiny_breast_root, "solution=stateful", "solution.predict_sleep_s=120"
    )
    process = _harness(site, *args, "fresh_predict=true")
    run_dir = _wait_for_phase(tmp_path, "predict", process)
    children = psutil.Process(process.pid).children(recursive=True)

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 130, output
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"run processes left behind: {alive}"
    record = RunRecord.load(run_dir / RECORD_FILE)
    assert record.status == "interrupted" and record.fresh_predict
    assert record.failed_phase == "predict"
    assert "SIGINT" in record.error and "fit (" in record.error
    assert set(record.phases) == {"prepare", "fit"}
    assert (run_dir / "artifacts").is_dir()
    assert _mlflow_status(tmp_path, record) == ("KILLED", "interrupted")


def test_a_sigkilled_harness_leaves_no_orphan_and_its_run_is_marked_killed(
    tmp_path: Path, tiny_breast_root: Path, site: Path
) -> None:
    args = _run_args(tmp_path, tiny_breast_root, "solution=paced", "solution.sleep_s=120")
    process = _harness(site, *args)
    run_dir = _wait_for_phase(tmp_path, "fit", process)
    children = psutil.Process(process.pid).children(recursive=True)

    process.kill()
    process.communicate(timeout=30)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "the run process must die with its harness"
    assert RunRecord.load(run_dir / RECORD_FILE).status == "running"

    synced = _harness(site, "sync", f"results_dir={tmp_path / 'results'}")
    output, _ = synced.communicate(timeout=300)
    assert synced.returncode == 0, output

    record = RunRecord.load(run_dir / RECORD_FILE)
    assert record.status == "killed"
    assert record.failed_phase == "fit"
    assert f"pid {process.pid}" in record.error
    assert _mlflow_status(tmp_path, record) == ("FAILED", "killed")


def test_progress_is_printed_while_the_run_trains(
    tmp_path: Path, tiny_breast_root: Path, site: Path
) -> None:
    args = _run_args(tmp_path, tiny_breast_root, "solution=paced", "solution.sleep_s=4")
    output, _ = _harness(site, *args).communicate(timeout=300)

    lines = output.splitlines()
    assert lines[0].startswith("run folder: ")
    progress = [line for line in lines if line.strip().startswith("fit: epoch")]
    assert progress, output
    assert "images/s" in progress[-1] and "budget left" in progress[-1]
    assert "ETA" in progress[0]
    assert lines.index(progress[0]) < next(i for i, x in enumerate(lines) if "fit finished" in x)
    run_dir = Path(lines[0].removeprefix("run folder: "))
    assert json.loads((run_dir / RECORD_FILE).read_text())["status"] == "ok"
