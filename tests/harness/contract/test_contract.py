"""Every registered solution, built-in or installed from another package, meets the contract.

The solutions are the entry points registered when the tests are collected; each runs three
times on the task's tiny synthetic data (harness.contract). `harness check
solution=<task>/<name>` runs the same checks for one solution.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import assert_contract
from harness.engine.registry import solution_names


@pytest.mark.slow
@pytest.mark.parametrize("key", solution_names())
def test_registered_solution_meets_the_contract(key: str, tmp_path: Path) -> None:
    task, _, name = key.partition("/")
    assert_contract(task, name, tmp_path / "contract")
