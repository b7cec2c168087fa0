"""End to end: `harness run task=rsna-breast solution=baseline budget=smoke` on synthetic data.

Measured on 2 CPU cores (seeds 0 and 1, default synthetic data): pF1 0.83 and 0.82 against a
permutation chance level of 0.11 (99th percentile 0.34), fit ~70 s. The asserted margin, 0.4
above chance, leaves room for run-to-run noise while failing any model that learned nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.engine.record import RunRecord
from solutions.rsna_breast.baseline import BaselineConfig, BaselineSolution

CHANCE_MARGIN = 0.4


pytestmark = pytest.mark.smoke_run("rsna-breast", "baseline", expect=("pF1", "95% CI"))


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
