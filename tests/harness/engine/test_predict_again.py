"""`harness predict`: a finished run's saved solution on other data, in real processes, with a
real sqlite MLflow store and real DICOM data."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from harness.api import HarnessError
from harness.cli import app
from harness.engine.budgets import BUDGETS
from harness.engine.config import ConfigError
from harness.engine.datasets import synth_config, synthesize
from harness.engine.predict_again import parse_predict_args, plan_predict
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from harness.engine.report.collect import collect_runs
from harness.engine.report.sections import read_sections
from harness.engine.rescore import rescore_run
from harness.engine.runner import execute_plan, start_run
from tasks.rsna_breast.layout import TEST_COLUMNS
from tasks.rsna_breast.metric import pfbeta

pytestmark = pytest.mark.usefixtures("test_solutions")

SMOKE = BUDGETS["smoke"]


def _stateful(
    run_breast: Callable[..., RunRecord], results: Path, root: Path, *extra: str
) -> RunRecord:
    """A finished run of ``stateful`` (it learns the training prevalence and predicts it)."""
    record = run_breast(results, root, "solution=stateful", "bootstrap=50", *extra)
    assert record.status == "ok", record.error
    return record


def _predict(*args: str) -> RunRecord:
    plan = plan_predict(parse_predict_args(list(args)))
    tracking_uri = start_run(plan.cfg.results_path, plan.cfg.tracking_uri, plan.cfg.offline)
    return execute_plan(plan, tracking_uri, progress=lambda _line: None)


@pytest.fixture(scope="module")
def second_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny rsna-breast dataset of the session's ``tiny_breast_root``, at another seed."""
    task = load_task("rsna-breast")
    config = synth_config(task, {"n_patients": 16, "height": 48, "width": 40, "prevalence": 0.5})
    return synthesize(task, tmp_path_factory.mktemp("seed1") / "rsna-breast", config, seed=1)


@pytest.fixture
def source(
    tmp_path: Path,
    tiny_breast_root: Path,
    test_solutions: Path,
    run_breast: Callable[..., RunRecord],
) -> RunRecord:
    return _stateful(run_breast, tmp_path / "results", tiny_breast_root, "fresh_predict=true")


def _results(record: RunRecord) -> Path:
    return Path(record.run_dir).parents[1]


def test_predicting_the_source_data_again_scores_its_holdout_with_the_source_score(
    source: RunRecord,
) -> None:
    again = _predict(f"run={source.run_id}", f"results_dir={_results(source)}", "bootstrap=50")

    assert again.status == "ok", again.error
    assert (again.rows, again.source_run_id) == ("holdout", source.run_id)
    assert again.score == source.score
    assert (again.ci_low, again.ci_high) == (source.ci_low, source.ci_high)
    assert list(again.phases) == ["predict"]
    assert again.n_train == 0 and again.n_holdout_cases == source.n_holdout_cases
    assert again.fresh_predict and again.offline_predict
    # The saved state, learnt in the source's fit process, reached a new process:
    assert again.extra["fit_pid"] == source.extra["fit_pid"]
    assert again.extra["predict_pid"] not in (source.extra["predict_pid"], source.extra["fit_pid"])
    assert again.config_hash != source.config_hash
    assert again.config["predict"] == {"source_run": source.run_id, "rows": "holdout"}

    tracking = f"sqlite:///{_results(source) / 'mlflow.db'}"
    run = MlflowClient(tracking).get_run(again.mlflow_run_id)
    assert run.data.tags["harness.source_run_id"] == source.run_id
    assert run.data.tags["rows"] == "holdout"
    # Never pooled with its source in the leaderboard: a section of its own.
    sections = {s.kind: s for s in read_sections(collect_runs(tracking))}
    assert set(sections) == {"run", "predict"}
    assert (
        sections["predict"].title == "rsna-breast · budget smoke · predicted again from saved runs"
    )
    assert list(sections["predict"].runs["run_id"]) == [again.run_id]

    # Refused: the rows the source trained on, and a predict run as a source.
    with pytest.raises(HarnessError, match=r"rows=all on run .* would score the rows it trained"):
        _predict(f"run={source.run_id}", f"results_dir={_results(source)}", "rows=all")
    with pytest.raises(HarnessError, match=rf"predict from its source, run={source.run_id}"):
        _predict(f"run={again.run_id}", f"results_dir={_results(source)}")


def test_new_data_is_predicted_in_full_by_what_the_source_learnt(
    source: RunRecord, second_seed: Path, tiny_breast_root: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "predict",
            f"run={Path(source.run_dir)}",
            f"data={second_seed}",
            f"results_dir={_results(source)}",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "predicted by" in result.output and "hidden test (projected)" in result.output
    (again,) = [
        r
        for r in map(RunRecord.load, (_results(source) / "runs").glob("*/record.json"))
        if r.source_run_id == source.run_id
    ]
    assert again.status == "ok", again.error
    assert again.rows == "all" and again.data_root == str(second_seed)
    truth = pd.read_csv(second_seed / "train.csv")
    truth["prediction_id"] = truth["patient_id"].astype(str) + "_" + truth["laterality"]
    per_breast = truth.groupby("prediction_id")["cancer"].max()
    assert again.n_holdout_cases == len(per_breast)  # every breast of the new data
    submission = pd.read_csv(Path(again.run_dir) / "submission.csv")
    assert sorted(submission["prediction_id"]) == sorted(per_breast.index)
    # The prevalence predicted is the one the source learnt from its own training split:
    task = load_task("rsna-breast")
    source_train, _ = task.split(task.load(tiny_breast_root))
    assert submission["cancer"].unique().tolist() == [pytest.approx(source_train["cancer"].mean())]
    expected = pfbeta(
        per_breast.loc[submission["prediction_id"]].to_numpy(), submission["cancer"].to_numpy()
    )
    assert again.score == pytest.approx(expected)
    assert again.hidden_test_projected_s is not None
    # `harness score run=` rebuilds the same answers (every row) and agrees.
    assert rescore_run(again.run_id, _results(source)).matches


def test_a_run_that_predicted_in_its_fit_process_saved_nothing_and_is_refused(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    unsaved = _stateful(run_breast, tmp_path / "results", tiny_breast_root)
    with pytest.raises(HarnessError, match=r"no saved solution .* fresh_predict=true"):
        _predict(f"run={unsaved.run_id}", f"results_dir={tmp_path / 'results'}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run=x", "rows=some"], "bad value for rows: 'some'; give one of auto, holdout, all"),
        (["run=x", "data.rot=/d"], "unknown key 'data.rot'"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_predict_args([*args, f"results_dir={tmp_path}"])


def test_a_dead_tracking_server_is_named_before_any_run_or_data_is_read(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        app,
        [
            "predict",
            "run=no-such-run",
            f"tracking_uri=http://127.0.0.1:{port}",
            f"results_dir={tmp_path}",
        ],
    )
    assert result.exit_code == 2
    assert f"tracking server http://127.0.0.1:{port} does not answer" in result.output
    assert not (tmp_path / "runs").exists()


def _kaggle_test_folder(labelled: Path, out: Path) -> Path:
    """Kaggle's unlabelled layout (test.csv, test_images/) of ``labelled``'s holdout patients."""
    task = load_task("rsna-breast")
    _, holdout = task.split(task.load(labelled))
    test = holdout.loc[:, list(TEST_COLUMNS)].assign(prediction_id=holdout["prediction_id"])
    out.mkdir()
    test.to_csv(out / "test.csv", index=False)
    (out / "test_images").mkdir()
    for patient in test["patient_id"].unique():
        (out / "test_images" / str(patient)).symlink_to(labelled / "train_images" / str(patient))
    return out


def test_kaggle_unlabelled_test_folder_is_predicted_and_timed_not_scored(
    source: RunRecord, tiny_breast_root: Path, tmp_path: Path
) -> None:
    folder = _kaggle_test_folder(tiny_breast_root, tmp_path / "kaggle-test")
    again = _predict(
        f"run={source.run_id}", f"data={folder}", "rows=test", f"results_dir={_results(source)}"
    )

    assert again.status == "ok", again.error
    assert again.rows == "test" and again.score is None and again.n_holdout_cases == 0
    assert again.hidden_test_projected_s is not None and again.predict_images_per_s
    submission = pd.read_csv(Path(again.run_dir) / "submission.csv")
    expected = pd.read_csv(folder / "test.csv")["prediction_id"].unique()
    assert sorted(submission["prediction_id"]) == sorted(expected)
    with pytest.raises(HarnessError, match=r"unlabelled test data .* no answers"):
        rescore_run(again.run_id, _results(source))
