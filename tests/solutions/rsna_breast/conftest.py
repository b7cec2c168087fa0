"""End-to-end helpers shared by the rsna-breast solutions' tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RunRecord
from harness.engine.registry import load_task


@pytest.fixture(scope="session")
def run_smoke(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RunRecord]:
    """``run_smoke(solution)``: `harness run task=rsna-breast solution=S budget=smoke` through
    the CLI on the default synthetic data, in a fresh results folder; its RunRecord."""

    def run(solution: str) -> RunRecord:
        results = tmp_path_factory.mktemp(f"results-{solution}")
        args = ["run", "task=rsna-breast", f"solution={solution}", "budget=smoke"]
        result = CliRunner().invoke(app, [*args, f"results_dir={results}"])
        assert result.exit_code == 0, result.output
        assert "pF1" in result.output and "95% CI" in result.output
        (run_dir,) = (results / "runs").iterdir()
        return RunRecord.load(run_dir / "record.json")

    return run


@pytest.fixture(scope="session")
def permutation_chance() -> Callable[[RunRecord], float]:
    """The mean score of a run's own predictions shuffled across breasts (200 permutations):
    what the same prediction distribution scores without any link to the images."""

    def chance(record: RunRecord) -> float:
        task = load_task("rsna-breast")
        _, holdout = task.split(task.load(Path(record.data_root)))
        answers = task.answers(holdout)
        submission = task.validate(pd.read_csv(Path(record.run_dir) / "submission.csv"), answers)
        rng = np.random.default_rng(0)
        scores = [
            task.score(submission.assign(cancer=rng.permutation(submission["cancer"])), answers)
            for _ in range(200)
        ]
        return float(np.mean(scores))

    return chance
