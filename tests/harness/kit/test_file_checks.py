"""Which files ``Opening`` chooses, when a pool starts, and a pool whose worker dies; what the
pools find is tested through the tasks' layouts."""

from __future__ import annotations

import os

import pytest

from harness.api import HarnessError
from harness.kit import file_checks
from harness.kit.file_checks import Checked, Opening, check_files


def test_limit_takes_the_first_files() -> None:
    assert Opening(limit=3).choose(list(range(10))) == [0, 1, 2]
    assert Opening(limit=30).choose(list(range(10))) == list(range(10))


def test_sample_is_seeded_in_order_and_never_more_than_exist() -> None:
    items = list(range(100))
    first = Opening(sample=7, seed=1).choose(items)
    assert len(set(first)) == 7 and first == sorted(first)
    assert Opening(sample=7, seed=1).choose(items) == first
    assert Opening(sample=7, seed=2).choose(items) != first
    assert Opening(sample=500).choose(items) == items
    assert Opening(sample=0).choose(items) == []


def test_limit_and_sample_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        Opening(limit=1, sample=1)
    with pytest.raises(ValueError, match="workers"):
        Opening(workers=0)


def test_a_pool_starts_only_for_enough_files_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(file_checks, "ProcessPoolExecutor", no_pool)
    few = [()] * (file_checks.POOL_MIN_CHUNKS * 2 - 1)  # Checked(()) is a check that finds nothing
    assert len(check_files(Checked, few, workers=2, chunk_size=1)) == len(few)
    with pytest.raises(AssertionError, match="a pool was started"):
        check_files(Checked, [*few, ()], workers=2, chunk_size=1)


def test_a_worker_that_dies_names_the_files_it_was_opening(pool_at_any_size: None) -> None:
    with pytest.raises(HarnessError, match=r"died .* one of: 3.*workers=1"):
        check_files(os._exit, [3, 3], workers=2, chunk_size=1)
