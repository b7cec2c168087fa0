"""Helpers shared by the rsna-breast solutions' tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.engine.holdout import holdout_answers
from harness.engine.record import RunRecord
from harness.engine.registry import load_task


def permutation_chance(record: RunRecord) -> float:
    """The mean score of a run's own predictions shuffled across breasts (200 permutations):
    what the same prediction distribution scores without any link to the images."""
    task = load_task("rsna-breast")
    answers = holdout_answers(task, Path(record.data_root), record.rows)
    submission = task.validate(pd.read_csv(Path(record.run_dir) / "submission.csv"), answers)
    rng = np.random.default_rng(0)
    scores = [
        task.score(submission.assign(cancer=rng.permutation(submission["cancer"])), answers)
        for _ in range(200)
    ]
    return float(np.mean(scores))


@pytest.fixture(scope="session")
def beats_chance() -> Callable[..., None]:
    """``beats_chance(record, margin, ci=True)``: the run's pF1 is ``margin`` above the
    permutation chance level and (with ``ci``) its whole 95% CI above it."""

    def check(record: RunRecord, margin: float, ci: bool = True) -> None:
        assert record.status == "ok", record.error
        chance = permutation_chance(record)
        assert record.score is not None
        assert record.score > chance + margin, (record.score, chance)
        if ci:
            assert record.ci_low is not None and record.ci_low > chance

    return check
