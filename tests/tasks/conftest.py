"""Fixtures of every task's tests: synthetic datasets written once per session, and the fast
bootstrap checked against the row-selection reference."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harness.api import Task
from harness.engine.registry import load_task
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


SynthesizedRoot = Callable[[str, dict[str, Any]], Path]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedRoot:
    """``synthesized(task, options)``: the root of the task's synthetic dataset written with the
    generator ``options`` at seed 3, written once per session for each (task, options)."""
    roots: dict[str, Path] = {}

    def root(name: str, options: dict[str, Any]) -> Path:
        key = f"{name}/{sorted(options.items())}"
        if key not in roots:
            task = load_task(name)
            roots[key] = tmp_path_factory.mktemp(name.replace("-", "_")) / "data"
            task.synthesize(roots[key], task.synth_config(**options), 3)
        return roots[key]

    return root


@pytest.fixture
def dataset_copy(synthetic_root: Path, tmp_path: Path) -> Callable[[], Path]:
    """A fresh copy of the directory's ``synthetic_root`` dataset that a test may break."""

    def copy() -> Path:
        target = tmp_path / "copy"
        shutil.copytree(synthetic_root, target)
        return target

    return copy
