"""seresnext end to end: `harness run task=rsna-ich solution=seresnext budget=smoke`.

Measured on 2 shared CPU cores (default synthetic data: 363 training and 107 holdout slices at
64x64; smoke preset: seresnext_tiny at 32x32, 2 folds x 10 epochs, TTA x5): weighted log loss
0.206 (95% CI 0.120-0.302, seed 0) and 0.199 (0.108-0.302, seed 1) against 0.450 for the
constant submission of the train split's prevalence per subtype. Fit took 20-30 s. The
margin that test_smoke_runs.py asserts, 0.1 below the prior, leaves more than half of the
measured gap (0.25) for noise and budget-shortened training.

The in-process tests run on the contract's tiny dataset: an unreadable slice falls back to the
prior, and the fit budget cuts epochs and folds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from harness.api import DataView, RunContext, Task
from harness.engine.budgets import get_budget
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from solutions.rsna_ich.seresnext import SeresnextConfig, SeresnextSolution
from tasks.rsna_ich.layout import SUBTYPES

pytestmark = pytest.mark.smoke_run("rsna-ich", "seresnext", expect=("weighted log loss", "95% CI"))


@pytest.mark.slow
def test_smoke_run_records_folds_and_per_epoch_validation(smoke_run: RunRecord) -> None:
    facts = smoke_run.extra
    assert facts["folds"] == 2 and len(facts["epochs_run"]) == 2
    assert min(facts["epochs_run"]) >= 1 and len(facts["best_val_loss"]) == 2
    assert facts["oof_loss"] < facts["oof_prior_loss"]
    assert facts["unreadable_images"] == 0

    results = Path(smoke_run.run_dir).parents[1]
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    run = client.get_run(smoke_run.mlflow_run_id)
    assert run.data.params["solution.model"] == "seresnext_tiny"  # the smoke preset
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert sorted(m.step for m in history) == list(range(sum(facts["epochs_run"])))
    assert min(m.value for m in history) == pytest.approx(min(facts["best_val_loss"]), abs=1e-4)


TINY_CONFIG = SeresnextConfig(
    model="seresnext_tiny", image_size=32, folds=2, epochs=2, batch_size=8, tta=2, threads=1
)


def test_unreadable_slices_are_skipped_and_predicted_with_the_prior(
    tiny_ich_root: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    split_copy: Callable[..., tuple[Task, pd.DataFrame, pd.DataFrame, pd.DataFrame]],
    run_phases: Callable[..., pd.DataFrame],
) -> None:
    task, train, holdout, test = split_copy("rsna-ich", tiny_ich_root)
    broken = [train["path"].iloc[0], test["path"].iloc[0]]
    for path in broken:
        Path(path).write_bytes(b"not a DICOM file")

    solution = SeresnextSolution(TINY_CONFIG)
    facts: dict[str, Any] = {}
    with caplog.at_level(logging.WARNING):
        submission = run_phases(solution, task.name, train, test, tmp_path, facts)
    for path in broken:
        assert any(path in record.getMessage() for record in caplog.records), path
    assert facts["unreadable_images"] == 2
    assert facts["epochs_run"] == [2, 2] and len(solution.fold_models) == 2

    aligned = task.validate(submission, task.answers(holdout))
    lost = test["image_id"].iloc[0]
    fallback = aligned.set_index("ID").loc[[f"{lost}_{s}" for s in SUBTYPES], "Label"]
    readable = train.drop(index=0)[list(SUBTYPES)].mean()
    np.testing.assert_allclose(fallback.to_numpy(), readable.to_numpy())


def test_fit_stops_adding_epochs_when_the_budget_would_not_hold_one(
    tiny_ich_root: Path, tmp_path: Path, phase_context: Callable[..., RunContext]
) -> None:
    """With 10 ms of the fit budget left, the first fold runs one epoch and the second none:
    predict uses the first fold's model alone."""
    task = load_task("rsna-ich")
    train, holdout = task.split(task.load(tiny_ich_root))
    solution = SeresnextSolution(TINY_CONFIG)
    facts: dict[str, Any] = {}
    almost_over = time.monotonic() - get_budget("smoke").fit_s + 0.01
    solution.fit(
        DataView(task.name, train, True), phase_context(tmp_path, "fit", facts, started=almost_over)
    )
    assert facts["epochs_run"] == [1, 0] and len(solution.fold_models) == 1
    submission = solution.predict(
        DataView(task.name, task.public_view(holdout), False),
        phase_context(tmp_path, "predict", facts),
    )
    task.validate(submission, task.answers(holdout))
