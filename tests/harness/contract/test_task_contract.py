"""Every registered task, built-in or installed, meets the task contract (one line a task)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract.task import assert_task_conforms
from harness.engine.registry import load_task, task_names


@pytest.mark.parametrize("name", task_names())
def test_task_conforms(name: str, tmp_path: Path) -> None:
    assert_task_conforms(load_task(name), tmp_path)
