"""Helpers shared by the rsna-ich solutions' tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.engine.datasets import synth_config, synthesize
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame


def prior_score(record: RunRecord) -> float:
    """The score of the constant submission that a run's data implies without any image: every
    holdout slice gets the train split's prevalence of each subtype."""
    task = load_task("rsna-ich")
    train, holdout = task.split(task.load(Path(record.data_root)))
    prior = train[list(SUBTYPES)].mean().to_numpy()
    constant = submission_frame(holdout["image_id"], np.tile(prior, (len(holdout), 1)))
    answers = task.answers(holdout)
    return task.score(task.validate(constant, answers), answers)


@pytest.fixture(scope="session")
def run_ich(run_solution: Callable[..., RunRecord]) -> Callable[[str], RunRecord]:
    """``run_ich(solution)``: `harness run task=rsna-ich solution=S budget=smoke`."""
    return lambda solution: run_solution(
        "rsna-ich", solution, expect=("weighted log loss", "95% CI")
    )


@pytest.fixture(scope="session")
def beats_prior() -> Callable[[RunRecord, float], None]:
    """``beats_prior(record, margin)``: the run's weighted log loss is ``margin`` below the
    constant prior's, and its whole 95% CI below the prior."""

    def check(record: RunRecord, margin: float) -> None:
        assert record.status == "ok", record.error
        prior = prior_score(record)
        assert record.score is not None and record.ci_high is not None
        assert record.score < prior - margin, (record.score, prior)
        assert record.ci_high < prior, (record.ci_high, prior)

    return check


@pytest.fixture(scope="session")
def tiny_ich_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contract's rsna-ich dataset (Task.contract_synth), generated once per session."""
    task = load_task("rsna-ich")
    config = synth_config(task, task.contract_synth)
    return synthesize(task, tmp_path_factory.mktemp("data") / "rsna-ich", config, seed=0)
