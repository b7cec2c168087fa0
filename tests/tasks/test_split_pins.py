"""Every task's holdout split pinned to the exact rows it gives today.

Each task's own split tests check the properties (grouped, stratified, order-free); this pins
the bytes, so that a refactor of the split code cannot move a single row to the other side
without a deliberate new ``version``.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from types import ModuleType

import pandas as pd
import pytest

PINNED: dict[str, tuple[Callable[[ModuleType], pd.DataFrame], str]] = {
    "rsna_breast": (
        lambda tests: tests.image_table(40, 10),
        "a7b6552d2723698b8ea889c1d01e395b91611e50f51e1d742bec3352d65284df",
    ),
    "rsna_ich": (
        lambda tests: tests._table(),
        "75a67f90990305faf16d89b67cbcba17e748244bdf6efa486672520c0ff591fb",
    ),
    "siim_pneumothorax": (
        lambda tests: tests._table(),
        "c6f0888e088a7df84460759ec41ddcd6960423898d4a827d89e2b7694aa3b16a",
    ),
    "rsna_cervical": (
        lambda tests: tests.studies(),
        "efb4777efb1073ee90ef1fd88d7b385d923b036bacbb42674f1b75da8d0d262a",
    ),
    "severstal_steel": (
        lambda tests: tests._table(),
        "791d533f3f1fa4d1e9fee0f6ee9df8060752473564be35c908876d2aa0a3fea8",
    ),
}


@pytest.mark.parametrize("task", sorted(PINNED))
def test_the_split_of_each_tasks_test_table_is_pinned(task: str) -> None:
    """The (train, holdout) CSVs of the table each task's test_split builds hash as pinned."""
    tests = importlib.import_module(f"tests.tasks.{task}.test_split")
    builder, expected = PINNED[task]
    train, holdout = tests.holdout_split(builder(tests))
    digest = hashlib.sha256(f"{train.to_csv()}|{holdout.to_csv()}".encode()).hexdigest()
    assert digest == expected
