"""Fixtures shared by every solution's tests: an end-to-end run through the CLI (the module's
smoke run), a split of a dataset copy a test may break, the RunContext of one phase, and the
three phases of a solution run in process."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.api import DataView, PhaseBudget, RunContext, Solution, Task
from harness.engine.budgets import get_budget
from harness.engine.record import RunRecord
from harness.engine.registry import load_task


@pytest.fixture(scope="session")
def run_solution(
    tmp_path_factory: pytest.TempPathFactory, cli_run: Callable[..., tuple[RunRecord, str]]
) -> Callable[..., RunRecord]:
    """``run_solution(task, solution, *overrides, budget="smoke", expect=("95% CI",))``:
    `harness run` through the CLI on the default synthetic data, in a fresh results folder;
    its RunRecord. ``expect``: texts the printed result must contain. A run is made once per
    session: test modules asking for the same run share it."""
    runs: dict[tuple[str, ...], tuple[RunRecord, str]] = {}

    def run(
        task: str,
        solution: str,
        *overrides: str,
        budget: str = "smoke",
        expect: tuple[str, ...] = ("95% CI",),
    ) -> RunRecord:
        args = (f"task={task}", f"solution={solution}", f"budget={budget}", *overrides)
        if args not in runs:
            runs[args] = cli_run(tmp_path_factory.mktemp(f"results-{solution}"), *args)
        record, output = runs[args]
        for text in expect:
            assert text in output, text
        return record

    return run


@pytest.fixture(scope="module")
def smoke_run(request: pytest.FixtureRequest, run_solution: Callable[..., RunRecord]) -> RunRecord:
    """The run that the test module names with ``pytestmark = pytest.mark.smoke_run(task,
    solution, *overrides, budget=..., expect=...)`` (``run_solution``'s arguments)."""
    mark = request.node.get_closest_marker("smoke_run")
    assert mark is not None, "mark the module: pytest.mark.smoke_run(task, solution, ...)"
    return run_solution(*mark.args, **mark.kwargs)


@pytest.fixture(scope="session")
def phase_context() -> Callable[..., RunContext]:
    """``phase_context(folder, phase, facts, started=None, reports=None)``: the RunContext of
    one smoke-budget phase on the CPU, seed 0, with its run and cache folders under ``folder``;
    recorded facts go into ``facts``, reported metrics (step, metrics) into ``reports``.
    ``started``: when the phase began (time.monotonic), to test a nearly spent budget."""

    def context(
        folder: Path,
        phase: str,
        facts: dict[str, Any],
        started: float | None = None,
        reports: list[tuple[int | None, Any]] | None = None,
    ) -> RunContext:
        return RunContext(
            run_dir=folder / "run",
            cache_dir=folder / "cache",
            budget=PhaseBudget(get_budget("smoke"), phase, started),
            seed=0,
            device="cpu",
            report_fn=None if reports is None else lambda m, step: reports.append((step, m)),
            fact_fn=facts.__setitem__,
        )

    return context


SplitCopy = tuple[Task, pd.DataFrame, pd.DataFrame, pd.DataFrame]


@pytest.fixture
def split_copy(tmp_path: Path) -> Callable[[str, Path], SplitCopy]:
    """``split_copy(task, root)``: the dataset under ``root`` copied to ``tmp_path / "data"``
    (a test may break its files), loaded and split as a run splits it: (task, train, holdout,
    test), ``test`` being the holdout's label-free view."""

    def split(name: str, root: Path) -> SplitCopy:
        copy = tmp_path / "data"
        shutil.copytree(root, copy)
        task = load_task(name)
        train, holdout = task.split(task.load(copy))
        return task, train, holdout, task.public_view(holdout)

    return split


@pytest.fixture(scope="session")
def run_phases(phase_context: Callable[..., RunContext]) -> Callable[..., pd.DataFrame]:
    """``run_phases(solution, task, train, test, folder, facts, started=None, reports=None)``:
    ``prepare`` and ``fit`` on the labelled ``train``, then ``predict`` on the label-free
    ``test``, in process with phase contexts under ``folder``; the submission. ``started`` and
    ``reports`` go to the fit phase (see ``phase_context``)."""

    def run(
        solution: Solution,
        task: str,
        train: pd.DataFrame,
        test: pd.DataFrame,
        folder: Path,
        facts: dict[str, Any],
        started: float | None = None,
        reports: list[tuple[int | None, Any]] | None = None,
    ) -> pd.DataFrame:
        solution.prepare(DataView(task, train, True), phase_context(folder, "prepare", facts))
        solution.fit(
            DataView(task, train, True), phase_context(folder, "fit", facts, started, reports)
        )
        predict_context = phase_context(folder, "predict", facts)
        return solution.predict(DataView(task, test, False), predict_context)

    return run
