"""End-to-end helpers shared by the rsna-ich solutions' tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.datasets import synth_config, synthesize
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame


@pytest.fixture(scope="session")
def run_smoke(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., RunRecord]:
    """``run_smoke(solution, *overrides)``: `harness run task=rsna-ich solution=S budget=smoke`
    through the CLI on the default synthetic data, in a fresh results folder; its RunRecord."""

    def run(solution: str, *overrides: str) -> RunRecord:
        results = tmp_path_factory.mktemp(f"results-{solution}")
        args = ["run", "task=rsna-ich", f"solution={solution}", "budget=smoke", *overrides]
        result = CliRunner().invoke(app, [*args, f"results_dir={results}"])
        assert result.exit_code == 0, result.output
        assert "weighted log loss" in result.output and "95% CI" in result.output
        (run_dir,) = (results / "runs").iterdir()
        return RunRecord.load(run_dir / "record.json")

    return run


@pytest.fixture(scope="session")
def prior_score() -> Callable[[RunRecord], float]:
    """The score of the constant submission that a run's data implies without any image: every
    holdout slice gets the train split's prevalence of each subtype."""

    def score(record: RunRecord) -> float:
        task = load_task("rsna-ich")
        train, holdout = task.split(task.load(Path(record.data_root)))
        prior = train[list(SUBTYPES)].mean().to_numpy()
        constant = submission_frame(holdout["image_id"], np.tile(prior, (len(holdout), 1)))
        answers = task.answers(holdout)
        return task.score(task.validate(constant, answers), answers)

    return score


@pytest.fixture(scope="session")
def tiny_ich_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contract's rsna-ich dataset (Task.contract_synth), generated once per session."""
    task = load_task("rsna-ich")
    config = synth_config(task, task.contract_synth)
    return synthesize(task, tmp_path_factory.mktemp("data") / "rsna-ich", config, seed=0)
