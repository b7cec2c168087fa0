"""Engine fixtures: budgets of the tests' own, handed to the code by argument, and a run.

The built-in profiles are a read-only table; a test that needs a 2 s fit limit or a GPU it
does not have builds a Budget here and passes it (or a table holding it) to what it calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.api import Budget
from harness.engine.budgets import BUDGETS
from harness.engine.config import parse_run_overrides
from harness.engine.observe import RunObserver
from harness.engine.record import RunRecord
from harness.engine.runner import execute

MakeBudget = Callable[..., Budget]

_TEST_LIMITS: dict[str, Any] = {"cpu_workers": 1, "prepare_s": 60, "fit_s": 60, "predict_s": 60}
"""One worker, a minute per phase: what a test budget has unless it says otherwise."""


@pytest.fixture(scope="session")
def make_budget() -> MakeBudget:
    """``make_budget(name, **fields)``: a CPU test budget (the smoke profile, one worker, 60 s
    per phase) with ``fields`` replaced, e.g. ``make_budget("tiny", fit_s=2)``."""

    def make(name: str, **fields: Any) -> Budget:
        values = {**_TEST_LIMITS, "description": f"test budget {name}", **fields}
        return dataclasses.replace(BUDGETS["smoke"], name=name, **values)

    return make


@pytest.fixture(scope="session")
def run_breast() -> Callable[..., RunRecord]:
    """``run_breast(results, root, *overrides, budget=smoke, watch=None)``: one rsna-breast run
    of the runner in this process, on the data under ``root``, recorded under ``results``;
    ``overrides`` name the solution and anything else (``"solution=constant"``, ``"seed=1"``)."""

    def run(
        results: Path,
        root: Path,
        *overrides: str,
        budget: Budget = BUDGETS["smoke"],
        watch: RunObserver | None = None,
    ) -> RunRecord:
        cfg, _, solution_args = parse_run_overrides(
            [
                "task=rsna-breast",
                f"budget={budget.name}",
                f"results_dir={results}",
                f"data.root={root}",
                *overrides,
            ],
            {budget.name: budget},
        )
        return execute(cfg, budget, solution_args, progress=watch or (lambda _line: None))

    return run
