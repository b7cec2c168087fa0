"""Engine fixtures: budgets of the tests' own, handed to the code by argument.

The built-in profiles are a read-only table; a test that needs a 2 s fit limit or a GPU it
does not have builds a Budget here and passes it (or a table holding it) to what it calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from harness.api import Budget
from harness.engine.budgets import BUDGETS

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
