"""The runner against real child processes, a real sqlite MLflow store and real DICOM data."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import psutil
import pytest
from mlflow.tracking import MlflowClient

from harness.api import Budget, HarnessError
from harness.engine.budgets import BUDGETS
from harness.engine.config import parse_run_overrides
from harness.engine.datasets import synth_config, synthesize
from harness.engine.observe import LineObserver
from harness.engine.record import RECORD_FILE, RunRecord
from harness.engine.registry import load_task
from harness.engine.runner import execute
from tasks.rsna_breast.metric import pfbeta

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from conftest import PluginSite

pytestmark = pytest.mark.usefixtures("test_solutions")
FAKE_SOLUTIONS = Path(__file__).parents[1] / "fake_solutions.py"


class _ChildrenAtRunStart(LineObserver):
    """Notes the processes this one has started when the runner reports ``run_started``."""

    def __init__(self) -> None:
        super().__init__(lambda _line: None)
        self.before = {p.pid for p in psutil.Process().children(recursive=True)}
        self.new: list[int] | None = None

    def run_started(self, record: RunRecord) -> None:
        now = psutil.Process().children(recursive=True)
        self.new = [p.pid for p in now if p.pid not in self.before]


def test_a_budget_other_than_the_one_the_config_names_is_refused(tmp_path: Path) -> None:
    cfg, _, _ = parse_run_overrides(["task=rsna-breast", "solution=constant", "budget=smoke"])
    results = tmp_path / "results"
    with pytest.raises(HarnessError, match="budget=smoke was asked for, but budget cpu-default"):
        execute(dataclasses.replace(cfg, results_dir=str(results)), BUDGETS["cpu-default"], [])
    assert not results.exists()


def _mlflow_run(tmp_path: Path, record: RunRecord):
    client = MlflowClient(f"sqlite:///{tmp_path / 'results' / 'mlflow.db'}")
    return client, client.get_run(record.mlflow_run_id)


def test_ok_run_is_scored_recorded_and_tracked(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    watch = _ChildrenAtRunStart()
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=constant",
        "solution.value=0.5",
        watch=watch,
    )

    assert record.status == "ok", record.error
    # run_started comes before the run process exists: the contract's label guard hides the
    # label files then, so a solution never sees them.
    assert watch.new == []
    answers = pd.read_csv(Path(record.run_dir) / "submission.csv")
    assert set(record.phases) == {"prepare", "fit", "predict"}
    assert all(p.wall_s >= 0 and p.peak_rss_mb > 0 for p in record.phases.values())
    # A constant prediction p has precision = prevalence and recall = p, computed by hand:
    truth = pd.read_csv(tiny_breast_root / "train.csv")
    truth["prediction_id"] = truth["patient_id"].astype(str) + "_" + truth["laterality"]
    per_breast = truth.groupby("prediction_id")["cancer"].max()
    holdout = per_breast.loc[answers["prediction_id"]]
    prevalence = holdout.mean()
    assert record.score == pytest.approx(2 * prevalence * 0.5 / (prevalence + 0.5))
    assert record.score == pytest.approx(pfbeta(holdout.to_numpy(), answers["cancer"].to_numpy()))
    assert record.ci_low is not None and record.ci_low <= record.score <= record.ci_high
    assert record.predict_images_per_s and record.predict_images_per_s > 0
    # The hidden test (36,700 images, 9 h) at this run's predict speed, one row per image:
    predict_s = record.phases["predict"].wall_s
    predicted = int(truth["prediction_id"].isin(answers["prediction_id"]).sum())
    assert record.hidden_test_rows == 36_700 and record.hidden_test_unit == "images"
    assert record.hidden_test_projected_s == pytest.approx(predict_s * 36_700 / predicted)
    assert record.hidden_test_limit_s == 9 * 3600
    assert record.hidden_test_fits == (record.hidden_test_projected_s <= 9 * 3600)
    assert RunRecord.load(Path(record.run_dir) / RECORD_FILE) == record

    client, run = _mlflow_run(tmp_path, record)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["score"] == pytest.approx(record.score)
    assert run.data.metrics["hidden_test_projected_s"] == pytest.approx(
        record.hidden_test_projected_s
    )
    assert "fit.wall_s" in run.data.metrics and "predict.peak_rss_mb" in run.data.metrics
    assert run.data.params["solution.value"] == "0.5"
    assert run.data.params["budget"] == "smoke"
    assert run.data.tags["status"] == "ok"
    assert run.data.tags["solution.version"] == "0.1"
    assert run.data.tags["lib.torch"]
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "rsna-breast"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"submission.csv", "config.yaml", "record.json", "run.log"} <= artifacts


def test_phase_past_its_limit_is_killed_and_recorded_as_timeout(
    tmp_path: Path,
    tiny_breast_root: Path,
    make_budget: Callable[..., Budget],
    run_breast: Callable[..., RunRecord],
) -> None:
    tiny = make_budget("tiny", fit_s=2)
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=sleepy",
        "solution.sleep_s=120",
        budget=tiny,
    )

    assert record.status == "timeout"
    assert record.failed_phase == "fit"
    assert "phase fit exceeded its 2 s limit" in record.error
    assert "prepare" in record.phases and "fit" not in record.phases
    assert record.score is None
    _, run = _mlflow_run(tmp_path, record)
    assert run.info.status == "KILLED"
    assert run.data.tags["status"] == "timeout"
    assert "prepare.wall_s" in run.data.metrics


def test_crash_is_recorded_as_failed_with_the_traceback_in_the_log(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(tmp_path / "results", tiny_breast_root, "solution=crashing")

    assert record.status == "failed"
    assert record.failed_phase == "fit"
    assert record.error == "ValueError: boom in fit"
    log = (Path(record.run_dir) / "run.log").read_text()
    assert "Traceback" in log and 'raise ValueError("boom in fit")' in log
    client, run = _mlflow_run(tmp_path, record)
    assert run.info.status == "FAILED"
    assert "run.log" in {a.path for a in client.list_artifacts(run.info.run_id)}


def test_invalid_submission_is_recorded_with_the_validator_message(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(tmp_path / "results", tiny_breast_root, "solution=wrong-ids")

    assert record.status == "invalid_submission"
    assert "nobody_L" in record.error
    assert record.score is None
    _, run = _mlflow_run(tmp_path, record)
    assert run.data.tags["status"] == "invalid_submission"


def test_reports_and_facts_reach_mlflow_and_the_holdout_view_has_no_labels(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(tmp_path / "results", tiny_breast_root, "solution=reporting")

    assert record.status == "ok", record.error
    assert record.extra == {"threshold": 0.25}
    test_columns = (Path(record.run_dir) / "test_columns.txt").read_text().split(",")
    train_columns = (Path(record.run_dir) / "labels_seen.txt").read_text().split(",")
    labels = {"cancer", "biopsy", "invasive", "BIRADS", "difficult_negative_case"}
    assert labels <= set(train_columns)
    assert not labels & set(test_columns)
    client, run = _mlflow_run(tmp_path, record)
    history = client.get_metric_history(run.info.run_id, "val_pf1")
    assert [(m.step, round(m.value, 6)) for m in history] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    assert run.data.metrics["extra.threshold"] == 0.25


def test_torch_imported_in_a_phase_is_seeded_and_limited_as_if_imported_first(
    tmp_path: Path,
    tiny_breast_root: Path,
    plugin_site: PluginSite,
    run_breast: Callable[..., RunRecord],
) -> None:
    import torch

    plugin_site(
        "harness-torch-probe",
        {"harness.solutions": {"rsna-breast/torch-in-fit": "fake_solutions:TorchInFitSolution"}},
        [FAKE_SOLUTIONS],
    )
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=torch-in-fit",
        "seed=3",
        budget=BUDGETS["smoke"],
    )

    assert record.status == "ok", record.error
    assert record.extra == {
        "torch_imported_before_fit": 0,  # the harness itself never imported it
        "initial_seed": 3,
        "threads": record.budget["cpu_workers"],
        "draw": torch.rand(1, generator=torch.Generator().manual_seed(3)).item(),
    }


def test_gpu_budget_without_cuda_is_refused_before_anything_runs(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(HarnessError, match="budget kaggle-p100 needs a CUDA GPU"):
        run_breast(
            tmp_path / "results",
            tiny_breast_root,
            "solution=constant",
            budget=BUDGETS["kaggle-p100"],
        )
    assert not (tmp_path / "results" / "runs").exists()


def test_a_run_process_that_dies_before_reading_its_tables_is_recorded_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_breast: Callable[..., RunRecord]
) -> None:
    # Tables far larger than a pipe's 64 KiB buffer: they once went through the spawn pipe,
    # which the parent writes whole (keeping its read end open) before start() returns, so a
    # child that died first left the harness blocked there for good.
    task = load_task("rsna-breast")
    config = synth_config(task, {"n_patients": 200, "height": 32, "width": 32})
    root = synthesize(task, tmp_path / "data", config, seed=0)
    dying = tmp_path / "dying-site"
    dying.mkdir()
    (dying / "sitecustomize.py").write_text("import os\nos._exit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(dying))  # the spawned run process starts with it
    finished: list[RunRecord] = []
    worker = threading.Thread(
        target=lambda: finished.append(run_breast(tmp_path / "results", root, "solution=constant")),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=120)

    assert finished, "the harness is still waiting on a run process that died"
    (record,) = finished
    assert record.status == "failed"
    assert record.error == "the run process died without reporting (exit code 3)"
    assert not list(Path(record.run_dir).glob(".child-tables-*")), "the handed-over file is left"
