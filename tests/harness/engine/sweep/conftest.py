"""Sweep fixtures: the misbehaving test solutions plus a probe, registered for real.

The plug-in folder is also put on PYTHONPATH, so that processes that do not inherit this
interpreter's sys.path (a sweep started as a command, Ray's workers) find the same plug-ins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from harness.api import Budget
from harness.cli import app
from harness.engine.budgets import BUDGETS

HERE = Path(__file__).parent
FAKE_SOLUTIONS = {
    "constant": "fake_solutions:ConstantSolution",
    "sleepy": "fake_solutions:SleepySolution",
    "crashing": "fake_solutions:CrashingSolution",
    "probe": "probe_solutions:ProbeSolution",
}


@pytest.fixture
def sweep_solutions(plugin_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    site = plugin_site(
        "harness-sweep-test-solutions",
        {"harness.solutions": {f"rsna-breast/{k}": v for k, v in FAKE_SOLUTIONS.items()}},
        [HERE.parents[1] / "fake_solutions.py", HERE / "probe_solutions.py"],
    )
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    return site


@pytest.fixture(scope="session")
def test_budgets(make_budget: Callable[..., Budget]) -> Mapping[str, Budget]:
    """The built-in budgets plus ``quick`` (fit may take 3 s) and ``one-gpu`` (asks for one
    GPU, computes on the CPU), for ``plan_sweep(args, budgets)`` and ``invoke(..., obj=)``."""
    extra = (make_budget("quick", fit_s=3), make_budget("one-gpu", gpus=1))
    return {**BUDGETS, **{budget.name: budget for budget in extra}}


SweepCommand = Callable[..., Result]


@pytest.fixture
def sweep_command(test_budgets: Mapping[str, Budget]) -> SweepCommand:
    """``sweep_command(*args)``: ``harness sweep`` invoked in-process, with the test budgets."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, ["sweep", *args], terminal_width=200, obj=test_budgets)

    return invoke
