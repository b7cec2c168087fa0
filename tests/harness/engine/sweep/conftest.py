"""Sweep fixtures: the misbehaving test solutions plus a probe, registered for real.

The plug-in folder is also put on PYTHONPATH, so that processes that do not inherit this
interpreter's sys.path (a sweep started as a command, Ray's workers) find the same plug-ins.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.api import Budget
from harness.engine.budgets import BUDGETS

HERE = Path(__file__).parent
FAKE_SOLUTIONS = {
    "constant": "fake_solutions:ConstantSolution",
    "sleepy": "fake_solutions:SleepySolution",
    "crashing": "fake_solutions:CrashingSolution",
    "probe": "probe_solutions:ProbeSolution",
}

QUICK = Budget(
    name="quick",
    description="test: fit may take 3 s",
    device="cpu",
    gpus=0,
    gpu_memory_gb=None,
    cpu_workers=1,
    prepare_s=60,
    fit_s=3,
    predict_s=60,
)
ONE_GPU = Budget(
    name="one-gpu",
    description="test: asks for one GPU, computes on the CPU",
    device="cpu",
    gpus=1,
    gpu_memory_gb=None,
    cpu_workers=1,
    prepare_s=60,
    fit_s=60,
    predict_s=60,
)


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


@pytest.fixture
def test_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets known to this process only (local executor: runs are threads of the test)."""
    monkeypatch.setitem(BUDGETS, QUICK.name, QUICK)
    monkeypatch.setitem(BUDGETS, ONE_GPU.name, ONE_GPU)
