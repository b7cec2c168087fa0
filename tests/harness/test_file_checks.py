"""Which files ``Opening`` chooses; the pools themselves are tested through the tasks' layouts."""

from __future__ import annotations

import pytest

from harness.file_checks import Opening


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
