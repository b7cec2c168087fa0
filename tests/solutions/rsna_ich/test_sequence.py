"""sequence end to end: `harness run task=rsna-ich solution=sequence budget=smoke`.

Measured on 2 shared CPU cores (default synthetic data: 363 training and 107 holdout slices at
64x64, 37 training series; smoke preset: test_resnet at 32x32, 2 folds x 8 epochs, then 2
BiLSTMs x 30 epochs): weighted log loss 0.138 (95% CI 0.066-0.218, seed 0) and 0.180
(0.094-0.268, seed 1) against 0.450 for the constant submission of the train split's
prevalence per subtype; stage 1 alone (solution.use_sequence=false) scored 0.206 and 0.208.
Fit took 30-70 s. The margin that test_smoke_runs.py asserts, 0.15 below the prior,
leaves half of the smallest measured gap (0.27) for noise and budget-shortened training.

The in-process tests run on the contract's tiny dataset: unreadable slices, stage 1 alone,
both ways of embedding the test slices, and a fit budget that is nearly used up.
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
import torch
from mlflow.tracking import MlflowClient

from harness.api import Task
from harness.engine.budgets import get_budget
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from solutions.rsna_ich.sequence import SequenceConfig, SequenceSolution
from solutions.rsna_ich.sequence.slices import prepare_slices
from solutions.rsna_ich.sequence.stage1 import embed
from tasks.rsna_ich.layout import SUBTYPES

pytestmark = pytest.mark.smoke_run("rsna-ich", "sequence", expect=("weighted log loss", "95% CI"))


@pytest.mark.slow
def test_smoke_run_records_both_stages(smoke_run: RunRecord) -> None:
    facts = smoke_run.extra
    assert facts["folds"] == 2 and facts["unreadable_images"] == 0
    assert len(facts["cnn_epochs"]) == 2 and min(facts["cnn_epochs"]) >= 1
    assert len(facts["sequence_epochs"]) == 2 and min(facts["sequence_epochs"]) >= 1
    assert facts["oof_cnn_loss"] < facts["oof_prior_loss"]
    assert facts["oof_sequence_loss"] < facts["oof_prior_loss"]

    results = Path(smoke_run.run_dir).parents[1]
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    run = client.get_run(smoke_run.mlflow_run_id)
    assert run.data.params["solution.model"] == "test_resnet"  # the smoke preset
    for metric, epochs, best in (
        ("cnn_val_loss", "cnn_epochs", "cnn_best_val_loss"),
        ("seq_val_loss", "sequence_epochs", "sequence_best_val_loss"),
    ):
        history = client.get_metric_history(run.info.run_id, metric)
        assert sorted(m.step for m in history) == list(range(sum(facts[epochs]))), metric
        assert min(m.value for m in history) == pytest.approx(min(facts[best]), abs=1e-4)


TINY = {
    "model": "test_resnet",
    "image_size": 32,
    "folds": 2,
    "epochs": 2,
    "batch_size": 8,
    "hidden": 8,
    "seq_epochs": 3,
    "threads": 1,
}


RunPhases = Callable[..., pd.DataFrame]


def _fit_predict(
    run_phases: RunPhases,
    root: Path,
    tmp_path: Path,
    config: SequenceConfig,
    started: float | None = None,
) -> tuple[SequenceSolution, dict[str, Any], pd.DataFrame]:
    """Fit on the train split of ``root`` and predict its holdout; the aligned submission."""
    task = load_task("rsna-ich")
    return _run(run_phases, *task.split(task.load(root)), tmp_path, config, started)


def _run(
    run_phases: RunPhases,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    tmp_path: Path,
    config: SequenceConfig,
    started: float | None = None,
) -> tuple[SequenceSolution, dict[str, Any], pd.DataFrame]:
    task = load_task("rsna-ich")
    solution = SequenceSolution(config)
    facts: dict[str, Any] = {}
    test = task.public_view(holdout)
    submission = run_phases(solution, task.name, train, test, tmp_path, facts, started)
    return solution, facts, task.validate(submission, task.answers(holdout))


def test_unreadable_slices_are_left_out_of_their_series_and_get_the_prior(
    tiny_ich_root: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    split_copy: Callable[..., tuple[Task, pd.DataFrame, pd.DataFrame, pd.DataFrame]],
    run_phases: RunPhases,
) -> None:
    _, train, holdout, test = split_copy("rsna-ich", tiny_ich_root)
    broken = [train["path"].iloc[1], test["path"].iloc[1]]
    for path in broken:
        Path(path).write_bytes(b"not a DICOM file")

    with caplog.at_level(logging.WARNING):
        solution, facts, aligned = _run(
            run_phases, train, holdout, tmp_path, SequenceConfig(**TINY)
        )
    for path in broken:
        assert any(path in record.getMessage() for record in caplog.records), path
    assert facts["unreadable_images"] == 2
    assert len(solution.cnns) == 2 and len(solution.sequence_models) == 2
    assert facts["sequence_series"] == train["SeriesInstanceUID"].nunique()

    lost = test["image_id"].iloc[1]
    fallback = aligned.set_index("ID").loc[[f"{lost}_{s}" for s in SUBTYPES], "Label"]
    readable = train.drop(index=1)[list(SUBTYPES)].mean()
    np.testing.assert_allclose(fallback.to_numpy(), readable.to_numpy())


def test_stage_one_alone_and_both_test_embeddings_give_valid_submissions(
    tiny_ich_root: Path, tmp_path: Path, run_phases: RunPhases
) -> None:
    cnn_only, facts, cnn_submission = _fit_predict(
        run_phases, tiny_ich_root, tmp_path / "cnn", SequenceConfig(**TINY, use_sequence=False)
    )
    assert not cnn_only.sequence_models and "oof_sequence_loss" not in facts
    # Stage 1 alone submits the fold CNNs' mean probabilities.
    task = load_task("rsna-ich")
    _, holdout = task.split(task.load(tiny_ich_root))
    files = prepare_slices(holdout["path"].tolist(), tmp_path / "cnn" / "cache", 32, crop_head=True)
    readable = [f for f in files if f is not None]
    expected = np.mean(
        [embed(cnn, readable, 8, torch.device("cpu"), 0)[0] for cnn in cnn_only.cnns], axis=0
    )
    by_id = cnn_submission.set_index("ID")["Label"]
    ids = [f"{i}_{s}" for i in holdout["image_id"] for s in SUBTYPES]
    np.testing.assert_allclose(by_id.loc[ids].to_numpy(), expected.ravel(), rtol=1e-5)
    submissions = [cnn_submission]
    for mode in ("mean", "per_fold"):
        _, facts, submission = _fit_predict(
            run_phases,
            tiny_ich_root,
            tmp_path / mode,
            SequenceConfig(**TINY, test_embeddings=mode),
        )
        assert "oof_sequence_loss" in facts
        submissions.append(submission)
    labels = [s["Label"].to_numpy() for s in submissions]
    assert not np.allclose(labels[0], labels[1]) and not np.allclose(labels[1], labels[2])


def test_a_nearly_spent_fit_budget_still_ends_with_a_model(
    tiny_ich_root: Path, tmp_path: Path, run_phases: RunPhases
) -> None:
    """With 10 ms of the fit budget left, each fold's epoch is cut at its first batch and each
    stage runs one epoch per fold: predict still has models and a valid submission."""
    almost_over = time.monotonic() - get_budget("smoke").fit_s + 0.01
    solution, facts, _ = _fit_predict(
        run_phases, tiny_ich_root, tmp_path, SequenceConfig(**TINY), started=almost_over
    )
    assert facts["cnn_epochs"] == [1, 1] and facts["sequence_epochs"] == [1, 1]
    assert len(solution.cnns) == 2 and len(solution.sequence_models) == 2
