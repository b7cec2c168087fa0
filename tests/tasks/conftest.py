"""The fast bootstrap of a task checked against the row-selection reference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from harness.api import Task
from harness.kit.stats import group_resamples, resampled_scores

BootstrapParity = Callable[[Task, pd.DataFrame, pd.DataFrame], np.ndarray]


def _assert_parity(
    task: Task, submission: pd.DataFrame, answers: pd.DataFrame, n: int = 200, seed: int = 0
) -> np.ndarray:
    """The reference scores of ``n`` resamples, once the fast path is shown to give them too.

    Checks that the task has a fast path, that it scores every resample as ``task.score`` does
    on the resampled rows (to 1e-12), and the whole holdout as ``task.score`` does.
    """
    statistics = task.bootstrap_statistics(submission, answers)
    assert statistics is not None, f"{task.name} has no fast bootstrap for this holdout"
    assert statistics.score() == pytest.approx(task.score(submission, answers), rel=0, abs=1e-12)
    resamples = group_resamples(task.groups(answers), n, seed)
    reference = resampled_scores(task.score, [submission], answers, resamples)
    fast = resampled_scores(task.score, [submission], answers, resamples, task.bootstrap_statistics)
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)
    return reference


@pytest.fixture
def bootstrap_parity() -> BootstrapParity:
    return _assert_parity
