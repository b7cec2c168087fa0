"""End to end: `harness run task=rsna-breast solution=baseline budget=smoke fresh_predict=true`
on synthetic data, then `harness predict` of that run on a second synthetic seed.

Measured on 2 CPU cores (seeds 0 and 1, default synthetic data): pF1 0.83 and 0.82 against a
permutation chance level of 0.11 (99th percentile 0.34), fit ~70 s. The asserted margin, 0.4
above chance, leaves room for run-to-run noise while failing any model that learned nothing.
The run predicts in a fresh, offline process from what its fit saved, as Kaggle runs a
submission, so `harness predict run=<run> data.synth_seed=1` can load the same state in another
fresh process and predict every image of a dataset the run never saw: the same fit scored on two
independent samples of one generator must agree within bootstrap noise (overlapping 95% CIs),
and beat chance as clearly on both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RunRecord
from solutions.rsna_breast.baseline import BaselineConfig, BaselineSolution

CHANCE_MARGIN = 0.4


pytestmark = pytest.mark.smoke_run(
    "rsna-breast", "baseline", "fresh_predict=true", expect=("pF1", "95% CI")
)


def test_smoke_run_beats_chance_clearly(
    smoke_run: RunRecord, beats_chance: Callable[..., None]
) -> None:
    beats_chance(smoke_run, CHANCE_MARGIN)


def test_smoke_run_is_in_mlflow(smoke_run: RunRecord) -> None:
    results = Path(smoke_run.run_dir).parents[1]
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    run = client.get_run(smoke_run.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["score"] == pytest.approx(smoke_run.score)
    assert run.data.params["solution.height"] == "64"  # the smoke preset, not the default
    assert run.data.tags["data.kind"] == "synthetic"
    losses = client.get_metric_history(run.info.run_id, "train_loss")
    assert len(losses) == smoke_run.extra["epochs_run"] >= 1
    record = json.loads(Path(client.download_artifacts(run.info.run_id, "record.json")).read_text())
    assert record["status"] == "ok" and record["score"] == pytest.approx(smoke_run.score)


def test_every_image_is_preprocessed_once_into_the_cache(smoke_run: RunRecord) -> None:
    cache = Path(smoke_run.run_dir).parents[1] / "cache" / "rsna-breast" / "baseline"
    cached = list(cache.rglob("*.npy"))
    assert len(cached) == smoke_run.n_train + smoke_run.n_holdout_cases * 2  # 2 views per breast


def test_presets_size_the_model_per_budget() -> None:
    assert BaselineSolution.presets["smoke"]["height"] < BaselineConfig().height
    gpu = BaselineSolution.presets["kaggle-p100"]
    assert gpu["pretrained"] is True and gpu["height"] >= 512


def test_a_saved_baseline_scores_a_second_seed_within_bootstrap_noise_of_its_own_holdout(
    smoke_run: RunRecord, beats_chance: Callable[..., None]
) -> None:
    source = smoke_run
    results = Path(source.run_dir).parents[1]

    result = CliRunner().invoke(
        app, ["predict", f"run={source.run_id}", "data.synth_seed=1", f"results_dir={results}"]
    )

    assert result.exit_code == 0, result.output
    (again,) = [
        r
        for r in map(RunRecord.load, (results / "runs").glob("*/record.json"))
        if r.source_run_id == source.run_id
    ]
    assert again.rows == "all" and again.data_kind == "synthetic"
    assert again.data_root != source.data_root
    assert again.offline_predict and list(again.phases) == ["predict"]
    assert again.n_holdout_cases > source.n_holdout_cases  # every breast, not a holdout
    beats_chance(source, CHANCE_MARGIN)
    beats_chance(again, CHANCE_MARGIN)
    assert source.ci_low is not None and source.ci_high is not None
    assert again.ci_low is not None and again.ci_high is not None
    assert again.ci_low <= source.ci_high and source.ci_low <= again.ci_high, (source, again)
